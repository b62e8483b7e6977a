#!/usr/bin/env bash
# Instructions per allocation by part (callgrind), recording every allocation
# beside sampling at RATE (default 512KiB): the churn, the STL workload and
# the CPython service loop. Writes the "Instructions per allocation
# (callgrind), every allocation and sampled" subsection to OUT; sampled.sh
# puts it at the end of its section of RESULTS.md, and
# `make bench-sampled-callgrind` (RESULTS=path) replaces that subsection alone,
# without the wall-clock runs (callgrind counts are repeatable under load).
#   sampled.sh LIBRARY OUT [RATE]
set -euo pipefail
library="$1"
out="$2"
rate="${3:-512KiB}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
build="$root/build/bench"
"$root/Benchmarks/build-workloads.sh" "$build"
python="${BENCH_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
{
  echo "### Instructions per allocation (callgrind), every allocation and sampled"
  echo
  echo "Benchmarks/callgrind/parts.py over shorter runs: this recorder recording every allocation, and sampling at"
  echo "$rate (HEAPDIFF_SAMPLE). \"the bare program\" is the same program without the recorder; the sampled column's"
  echo "overhead is what a hook costs on its fast path plus the few allocations recorded (Benchmarks/README.md,"
  echo "\"Sampled recording: what a hook costs\"). Written on $(date -u +%Y-%m-%d); $(valgrind --version)."
  echo
} > "$out"
tables="$(mktemp)"
(cd "$root" && python3 Benchmarks/callgrind/parts.py --out "$tables" \
  --library "every allocation::$library" --library "sampled $rate::$library" --env "sampled $rate::HEAPDIFF_SAMPLE=$rate" \
  "Allocation churn, narrow|build/bench/churn 1000000 narrow" \
  "C++ STL (100,000 rounds)|build/bench/stl_workload 100000" \
  "CPython service loop (2,000 requests, pymalloc on)|$python Benchmarks/python-service/service.py 2000" > /dev/null)
sed 's/^### /#### /' "$tables" >> "$out"
rm -f "$tables"
