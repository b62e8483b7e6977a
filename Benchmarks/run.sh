#!/usr/bin/env bash
# `make bench`: builds the workloads and compares heapdiff with the bare
# program and with its peers, writing Benchmarks/RESULTS.md.
set -euo pipefail
heapdiff="$1"
library="$2"
here="$(cd "$(dirname "$0")" && pwd)"
build="$here/../build/bench"
mkdir -p "$build"
cc -O2 -g -fno-omit-frame-pointer -o "$build/churn" "$here/churn/churn.c"
results="$here/RESULTS.md"
{
  echo "# Benchmark results"
  echo
  echo "Written by \`make bench\` (Benchmarks/run.sh) on $(date -u +%Y-%m-%d), $(nproc) cores,"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -sr)."
  echo "heaptrack: $(heaptrack --version 2>/dev/null | head -1 || echo none); valgrind: $(valgrind --version 2>/dev/null || echo none)."
  echo
} > "$results"
python3 "$here/compare.py" --name "Allocation churn (5M malloc/free pairs, stacks 2-14 deep)" \
  --rounds "${BENCH_ROUNDS:-5}" --heapdiff "$heapdiff" --library "$library" --results "$results" -- "$build/churn"
