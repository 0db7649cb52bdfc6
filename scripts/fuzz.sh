#!/usr/bin/env bash
# Runs the fuzz targets for a bounded time each and reports how many inputs each one tried.
#   scripts/fuzz.sh SECONDS BUILD_DIR TARGET=BINARY=SEEDS ...
# `make fuzz` (long) and `make fuzz-short` (inside `make test`) call it; see docs/RELIABILITY.md.
#
# Each target starts from its committed corpus (seeds and regress-* inputs, replayed first) and the corpus it
# grew in earlier runs (BUILD_DIR/corpus/TARGET, not committed). A crash, a hang past -timeout, a memory error or
# a leak stops the target; the input is saved under BUILD_DIR/artifacts/TARGET/ and the script exits 1. Keep such
# an input as Fuzz/Corpus/<target>/regress-<what> (or win32-shim/fuzz/corpus/regress-<what>) with the fix.
set -uo pipefail

seconds=$1
build=$2
shift 2

export SWIFT_BACKTRACE=enable=no # the Swift runtime's backtracer reads freed memory under ASan; libFuzzer reports
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

total=0
failed=0
for spec in "$@"; do
    IFS='=' read -r name binary seeds <<<"$spec"
    work=$build/corpus/$name
    artifacts=$build/artifacts/$name
    log=$build/logs/$name.log
    rm -rf "$artifacts"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    start=$(date +%s)
    # -timeout: one input running longer is a hang; -rss_limit_mb: a runaway allocation is a crash.
    "$binary" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$work" "$seeds" </dev/null >"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - start))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    corpus=$(ls "$work" | wc -l)
    if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
        echo "fuzz: $name: $runs inputs in ${elapsed} s, no crash (corpus $corpus files)"
        total=$((total + runs))
    else
        failed=$((failed + 1))
        echo "fuzz: $name FAILED (exit $rc) after ${runs:-?} inputs in ${elapsed} s; log $log"
        grep -E 'ERROR|fuzz property|fake_win32:|runtime error|Fatal error|deadly signal|Test unit written' "$log" |
            head -20 | sed 's/^/fuzz:   /'
        ls "$artifacts" | sed "s|^|fuzz:   input: $artifacts/|"
    fi
done
echo "fuzz: $# targets, $total inputs, $failed failed"
[ "$failed" -eq 0 ]
