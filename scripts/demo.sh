#!/usr/bin/env bash
# make demo: the Swift host serves the SOUI ipcdemo protocol; the Windows demo client runs its
# script against it under Wine and prints each call, its result and its round-trip time.
# Usage: scripts/demo.sh SIPC_HOST_EXE WINDOWS_BIN_DIR   (Wine settings from the environment)
set -euo pipefail
host_exe=$1
bin=$2
wine=${SIPB_WINE:-/usr/lib/wine/wine64}
title=${DEMO_TITLE:-sipc_demo_svr}
work=$(mktemp -d)
host_pid=

stop_host() {
    if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then
        kill -INT "$host_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$host_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$host_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop_host EXIT

echo "== starting the Swift host: sipc-host demo --title $title"
"$host_exe" demo --title "$title" >"$work/host.out" 2>"$work/host.err" &
host_pid=$!
for _ in $(seq 600); do
    grep -q '^listening' "$work/host.out" 2>/dev/null && break
    if ! kill -0 "$host_pid" 2>/dev/null; then
        echo "sipc-host exited before it was ready:" >&2
        cat "$work/host.err" >&2
        exit 1
    fi
    sleep 0.1
done
grep -q '^listening' "$work/host.out" || { echo "sipc-host was not ready after 60 s" >&2; cat "$work/host.err" >&2; exit 1; }
cat "$work/host.out"

echo "== running the Windows client under Wine: sipc-demo-client.exe script"
status=0
"$wine" "$bin/sipc-demo-client.exe" --title "$title" script || status=$?
sleep 0.3
echo "== what the Swift host logged"
cat "$work/host.err"
exit $status
