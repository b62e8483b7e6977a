#!/usr/bin/env bash
# Builds the native workloads (the churn, the STL program, the live heap) and
# the pass-through interposer into the directory given, build/bench by
# default: the one place their compiler flags are written, for workloads.sh
# and the callgrind scripts.
set -euo pipefail
benchmarks="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$benchmarks/../build/bench}"
mkdir -p "$build"
cc -O2 -g -fno-omit-frame-pointer -o "$build/churn" "$benchmarks/churn/churn.c"
c++ -O2 -g -o "$build/stl_workload" "$benchmarks/stl/stl_workload.cpp"
cc -O2 -g -fno-omit-frame-pointer -o "$build/live_heap" "$benchmarks/live_heap/live_heap.c"
cc -O2 -shared -fPIC -fvisibility=hidden -o "$build/passthrough.so" "$benchmarks/interposer/passthrough.c"
