#!/usr/bin/env bash
# `make bench`: builds the workloads and compares heapdiff with the bare
# program and with its peers, writing Benchmarks/RESULTS.md.
set -euo pipefail
heapdiff="$1"
library="$2"
source "$(dirname "$0")/workloads.sh"   # here, build, python; the workloads built
results="$here/RESULTS.md"
{
  echo "# Benchmark results"
  echo
  echo "Written by \`make bench\` (Benchmarks/run.sh) on $(date -u +%Y-%m-%d), $(nproc) cores,"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -sr)."
  echo "heaptrack: $(heaptrack --version 2>/dev/null | head -1 || echo none); valgrind: $(valgrind --version 2>/dev/null || echo none)."
  echo
} > "$results"
compare() { python3 "$here/compare.py" --rounds "${BENCH_ROUNDS:-5}" --heapdiff "$heapdiff" --library "$library" --results "$results" "$@"; }
compare --name "Allocation churn, narrow: 5M malloc/free pairs of 16-527 B, 13 stacks 2-14 frames deep" \
  -- "$build/churn" 5000000 narrow
compare --name "Allocation churn, wide: the same with ~8,000 distinct stacks" \
  -- "$build/churn" 5000000 wide
compare --name "C++ STL: maps, strings and vectors (300,000 rounds)" \
  -- "$build/stl_workload" 300000
compare --name "CPython $("$python" -c 'import platform; print(platform.python_version())'): dicts, lists and strings with PYTHONMALLOC=malloc" \
  --env PYTHONMALLOC=malloc -- "$python" "$here/python/workload.py" 60000
{
  echo "### Recorder memory and snapshot size"
  echo
  echo "Reported by the recorder itself at exit (\`HEAPDIFF_STATS=1\`); the snapshot sizes are in the tables above."
  echo
  for mode in narrow wide; do
    out="$(mktemp -d)"
    lines=$(HEAPDIFF_STATS=1 HEAPDIFF_OUTPUT="$out" LD_PRELOAD="$library" "$build/churn" 5000000 "$mode" 2>&1 >/dev/null)
    tables=$(echo "$lines" | grep 'stats: .*distinct stacks')
    stacks=$(echo "$lines" | grep 'stats: stacks proven')
    echo "- churn $mode: ${tables#heapdiff: stats: }; snapshot $(du -k "$out"/*.heapsnap | cut -f1) KiB; ${stacks#heapdiff: stats: }"
    rm -rf "$out"
  done
  echo
} >> "$results"
# Snapshot sizes, format 1 beside format 2, and the peers' output sizes.
SIZES_RESULTS="$results" "$here/sizes.sh" "$heapdiff" "$library" native
