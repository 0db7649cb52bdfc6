#!/usr/bin/env bash
# make bench: one side-by-side benchmark run, written to docs/BENCHMARKS.md and docs/benchmarks.svg.
#
#   scripts/bench.sh [--quick]
#
# Run from anywhere; works on the repository this script lives in. Expects the Windows programs to be built
# (make shim: win32-shim/build/{sipc-shim,sipc-demo-server,sipc-bench}.exe) and the Wine prefix to exist
# (make prefix). Reads the Makefile's variables from the environment when set: SWIFT, WINE (or SIPB_WINE),
# WINESERVER (or SIPB_WINESERVER), WINEPREFIX, WINEDEBUG.
# BENCH_SKIP_CODEC=1 skips the Swift codec microbenchmarks (`swift package benchmark`, about 2 min).
#
# It builds `sipc-host` and the driver `sipc-bench` in release mode, runs the codec microbenchmarks, then the
# driver (bounded to 15 min), which starts and stops every process it needs by pid.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SWIFT="${SWIFT:-swift}"
export WINEPREFIX="${WINEPREFIX:-$ROOT/.wine-prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
export SIPB_WINE="${SIPB_WINE:-${WINE:-/usr/lib/wine/wine64}}"
export SIPB_WINESERVER="${SIPB_WINESERVER:-${WINESERVER:-/usr/lib/wine/wineserver}}"
export SIPB_WIN_BIN="$ROOT/win32-shim/build"
export SIPB_SHIM="$SIPB_WIN_BIN/sipc-shim.exe"
QUICK=()
[ "${1:-}" = "--quick" ] && QUICK=(--quick)

for exe in sipc-shim.exe sipc-demo-server.exe sipc-bench.exe; do
  [ -f "$SIPB_WIN_BIN/$exe" ] || { echo "bench: $SIPB_WIN_BIN/$exe is missing (make shim)"; exit 1; }
done
[ -f "$WINEPREFIX/system.reg" ] || { echo "bench: no Wine prefix at $WINEPREFIX (make prefix)"; exit 1; }

echo "bench: building sipc-host (release)"
(cd "$ROOT" && "$SWIFT" build -c release --product sipc-host)
export SIPB_HOST_EXE="$(cd "$ROOT" && "$SWIFT" build -c release --show-bin-path)/sipc-host"
echo "bench: building the driver (release)"
(cd "$ROOT/Benchmarks" && "$SWIFT" build -c release --product sipc-bench)
DRIVER="$(cd "$ROOT/Benchmarks" && "$SWIFT" build -c release --show-bin-path)/sipc-bench"
# The native end of the throughput ceiling (Findings 14): a C server that makes one round trip to it per call.
echo "bench: building relay-echo (native)"
mkdir -p "$ROOT/Benchmarks/.build"
NATIVE_CC="${CC:-$(command -v cc || command -v clang || echo cc)}"
if "$NATIVE_CC" -O2 -Wall -Wextra -o "$ROOT/Benchmarks/.build/relay-echo" "$ROOT/Benchmarks/experiments/relay-echo.c"; then
  export SIPB_RELAY_ECHO="$ROOT/Benchmarks/.build/relay-echo"
else
  echo "bench: relay-echo did not build; the throughput ceiling is not measured"
fi

CODEC="$(mktemp /tmp/sipc-bench-codec.XXXXXX)"
trap 'rm -f "$CODEC"' EXIT
CODEC_ARGS=()
if [ "${BENCH_SKIP_CODEC:-0}" != 1 ]; then
  echo "bench: codec microbenchmarks (swift package benchmark)"
  if (cd "$ROOT/Benchmarks" && timeout 600 "$SWIFT" package --allow-writing-to-package-directory benchmark \
        --target SIPCCodec --format markdown --no-progress) > "$CODEC.raw" 2>&1; then
    # Keep the tables, drop the build chatter.
    sed -n '/^###\|^|/p;/^$/p' "$CODEC.raw" | cat -s > "$CODEC"
    CODEC_ARGS=(--codec "$CODEC")
  else
    echo "bench: the codec microbenchmarks failed; the report says so"
    tail -20 "$CODEC.raw"
  fi
  rm -f "$CODEC.raw"
fi

echo "bench: side-by-side run (the driver prints its progress)"
cd "$ROOT"
timeout --kill-after=20 900 "$DRIVER" --out "$ROOT/docs" "${CODEC_ARGS[@]}" "${QUICK[@]}"
