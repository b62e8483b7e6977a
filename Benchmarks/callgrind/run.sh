#!/usr/bin/env bash
# `make bench-callgrind`: instructions per allocation by part of the recorder
# (callgrind counts, repeatable on a loaded machine), for this recorder and
# beside it the recorder of BASELINE (a commit; default 81c7f4e, main before
# the fast native stacks) and this recorder with HEAPDIFF_UNWIND=libunwind.
# Writes Benchmarks/CALLGRIND.md.
set -euo pipefail
library="$1"
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
build="$root/build/bench"
baseline="${BASELINE:-81c7f4e}"
"$root/Benchmarks/build-workloads.sh" "$build"
# The baseline recorder, built from its own sources the way its Makefile built it.
old="$root/build/baseline-$baseline"
if [ ! -f "$old/libheapdiff.so" ]; then
  rm -rf "$old" && mkdir -p "$old"
  git -C "$root" archive "$baseline" Sources/HeapDiffRecorder | tar -x -C "$old"
  cc -std=c11 -O2 -g -fPIC -fvisibility=hidden -fno-omit-frame-pointer -ftls-model=initial-exec \
    -I"$old/Sources/HeapDiffRecorder/include" -shared -Wl,-z,now -Wl,--as-needed \
    -o "$old/libheapdiff.so" "$old"/Sources/HeapDiffRecorder/*.c -lunwind -ldl -lpthread
fi
python="${BENCH_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
out="$root/Benchmarks/CALLGRIND.md"
{
  echo "# Instructions per allocation, by part"
  echo
  echo "Written by \`make bench-callgrind\` (Benchmarks/callgrind/run.sh) on $(date -u +%Y-%m-%d); $(valgrind --version)."
  echo "Columns: the recorder at $baseline, this recorder with \`HEAPDIFF_UNWIND=libunwind\`, this recorder."
  echo "How the parts are counted: Benchmarks/callgrind/parts.py."
  echo
} > "$out"
cd "$root"   # commands below are shown relative to the repository
python3 Benchmarks/callgrind/parts.py --out "$out" \
  --library "$baseline::$old/libheapdiff.so" \
  --library "HEAPDIFF_UNWIND=libunwind::$library" --env "HEAPDIFF_UNWIND=libunwind::HEAPDIFF_UNWIND=libunwind" \
  --library "this recorder::$library" \
  "Allocation churn, narrow (13 stacks)|build/bench/churn 1000000 narrow" \
  "Allocation churn, wide (~8,000 stacks)|build/bench/churn 1000000 wide" \
  "C++ STL (100,000 rounds)|build/bench/stl_workload 100000" \
  "CPython service loop (2,000 requests; pymalloc on, except under the 81c7f4e recorder, which set PYTHONMALLOC=malloc)|$python Benchmarks/python-service/service.py 2000" \
  "CPython start-up: importing 18 standard-library modules|$python Benchmarks/python-service/startup.py" > /dev/null
echo "wrote $out"
