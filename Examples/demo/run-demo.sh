#!/usr/bin/env bash
# Builds the toy gateway and runs it under `heapdiff run`: heapdiff prints
# where the snapshots are and the lines whose live memory grew the most;
# then writes the same series as an HTML report.
set -euo pipefail
heapdiff="$1"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/build/demo"
rm -rf "$work" && mkdir -p "$work"
cc -g -O1 -I"$root/Sources/HeapDiffRecorder/include" -o "$work/gateway" "$here/gateway.c" -ldl
echo "\$ heapdiff run --output build/demo/snapshots -- build/demo/gateway" >&2
cd "$root"
"$heapdiff" run --output "$work/snapshots" -- "$work/gateway"
"$heapdiff" report "$work/snapshots" -o "$work/report.html"
