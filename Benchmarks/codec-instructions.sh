#!/usr/bin/env bash
# Instructions per POD call of the SIPC codec (the loop of the SIPCCodec benchmark), counted by callgrind:
# the difference between a run of 2N and a run of N calls, divided by N, so that process start and setup
# cancel out. Stable across runs, unlike wall-clock time on a shared VM.
#
#   Benchmarks/codec-instructions.sh [N]      (N defaults to 100000)
#
# Builds Benchmarks' codec-instructions product in release mode. Needs valgrind.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SWIFT="${SWIFT:-swift}"
N="${1:-100000}"
(cd "$ROOT/Benchmarks" && "$SWIFT" build -c release --product codec-instructions >/dev/null)
BIN="$(cd "$ROOT/Benchmarks" && "$SWIFT" build -c release --show-bin-path)/codec-instructions"
OUT="$(mktemp -d /tmp/codec-instructions.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT
count() {
  valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$1" "$BIN" "$1" >/dev/null 2>"$OUT/log.$1"
  sed -n 's/^summary: *//p' "$OUT/cg.$1"
}
ONE="$(count "$N")"
TWO="$(count "$((2 * N))")"
echo "instructions per call: $(( (TWO - ONE) / N )) ($N calls: $ONE, $((2 * N)) calls: $TWO)"
