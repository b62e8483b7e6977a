#!/usr/bin/env bash
# `make bench-sampled`: sampled recording (HEAPDIFF_SAMPLE, default 512KiB)
# beside the full recording, the bare program and jemalloc's own sampled
# profiler (Debian's libjemalloc2, MALLOC_CONF=prof:true,lg_prof_sample:19,
# i.e. one sample per 512 KiB on average), alternating round by round; the
# churn at 5M and 20M pairs, the STL workload, a 1 GiB live heap and the
# CPython service loop (pymalloc on); and a pass-through interposer, the
# floor. Replaces the "Sampled recording" section of RESULTS.md.
# BENCH_ROUNDS (11), BENCH_SAMPLE (512KiB).
set -euo pipefail
heapdiff="$1"
library="$2"
source "$(dirname "$0")/workloads.sh"   # here, build, python; the workloads built
rate="${BENCH_SAMPLE:-512KiB}"
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
results="$here/RESULTS.md"
section="$(mktemp)"
{
  echo "## Sampled recording (\`make bench-sampled\`)"
  echo
  echo "Written by Benchmarks/sampled.sh on $(date -u +%Y-%m-%d), $(nproc) cores, load average"
  echo "$(cut -d' ' -f1-3 /proc/loadavg) at the start. Wall-clock ratios carry whatever the machine's load and its"
  echo "neighbours did meanwhile: read each with its 95% interval (\"paired\"); the callgrind section at the end counts"
  echo "instructions, which neither moves."
  echo "Contenders: the bare program, the recorder recording every allocation, the recorder sampling one point"
  echo "per $rate on average (HEAPDIFF_SAMPLE=$rate), jemalloc alone and jemalloc's profiler at"
  echo "lg_prof_sample:19 (its peer: the same mean rate; compare it with jemalloc alone, since it replaces the allocator),"
  echo "and a pass-through interposer (Benchmarks/interposer/passthrough.c: malloc, calloc, realloc and free that only"
  echo "jump on to glibc's), the floor any LD_PRELOAD profiler starts from; and the same with one idle thread of its"
  echo "own that wakes once a second, as the recorder's snapshot writer does (PASSTHROUGH_THREAD=1): the floor of a"
  echo "profiler with a thread, since glibc's malloc takes its arena locks once a process has a second thread."
  echo
} > "$section"
compare() {
  python3 "$here/compare.py" --rounds "${BENCH_ROUNDS:-11}" --heapdiff "$heapdiff" --library "$library" \
    --results "$section" --skip heaptrack --skip massif --skip "heapdiff run" --sample "$rate" \
    --jemalloc "$jemalloc" --interposer "$build/passthrough.so" "$@"
}
compare --name "Sampled: allocation churn, narrow, 5M pairs" -- "$build/churn" 5000000 narrow
compare --name "Sampled: allocation churn, narrow, 20M pairs" -- "$build/churn" 20000000 narrow
compare --name "Sampled: C++ STL (300,000 rounds)" -- "$build/stl_workload" 300000
compare --name "Sampled: 1 GiB live heap, 1M blocks replaced" -- "$build/live_heap" 1024 1000000
compare --name "Sampled: CPython $("$python" -c 'import platform; print(platform.python_version())') service loop, pymalloc on (10,000 requests)" \
  -- "$python" "$here/python-service/service.py" 10000
{
  echo "### Recorder memory when sampling"
  echo
  echo "From the recorder's \`HEAPDIFF_STATS=1\` lines at exit: every mapping the recorder made (stack table, prefix"
  echo "tree, live-block table, sampling filter, per-thread memos and buffers), what of it is resident (\`mincore\`)"
  echo "and what is mapped; beside the bare program's peak RSS (an upper bound of its heap) and the peak RSS sampled,"
  echo "whose difference also holds the recorder's code, its writer thread's stack and the exit snapshot's buffers."
  echo
  echo "| workload | recorder resident KiB | recorder mapped KiB | peak RSS bare MiB | peak RSS sampled MiB | resident / bare RSS |"
  echo "|---|---:|---:|---:|---:|---:|"
  for workload in "churn 20000000 narrow" "stl_workload 300000" "live_heap 128 200000" "live_heap 1024 1000000" \
                  "python service.py 10000"; do
    set -- $workload
    case "$1" in
      churn|stl_workload|live_heap) command=("$build/$1" "${@:2}") ;;
      python) command=("$python" "$here/python-service/$2" "${@:3}") ;;
    esac
    out="$(mktemp -d)"
    bare_rss=$(/usr/bin/time -f %M "${command[@]}" 2>&1 >/dev/null | tail -1)
    stats=$( { /usr/bin/time -f "rss %M" env HEAPDIFF_STATS=1 HEAPDIFF_SAMPLE="$rate" HEAPDIFF_OUTPUT="$out" \
      LD_PRELOAD="$library" "${command[@]}" >/dev/null; } 2>&1 )
    # The traced program's own line: the last (a Python's helpers, if any, end first).
    line=$(echo "$stats" | grep 'stats: recorder memory' | tail -1)
    sampled_rss=$(echo "$stats" | grep '^rss ' | cut -d' ' -f2)
    read -r resident mapped < <(echo "$line" | sed -E 's/.*memory ([0-9]+) KiB resident of ([0-9]+) KiB mapped.*/\1 \2/')
    python3 -c 'import sys; w, resident, mapped, bare, sampled = sys.argv[1:]; resident, bare = int(resident), int(bare)
print(f"| `{w}` | {resident} | {mapped} | {bare / 1024:.1f} | {int(sampled) / 1024:.1f} | {100 * resident / max(bare, 1):.2f}% |")' \
      "$workload" "$resident" "$mapped" "$bare_rss" "$sampled_rss"
    rm -rf "$out"
  done
  echo
} >> "$section"
# Instructions by part (callgrind), which the machine's load does not move.
instructions="$(mktemp)"
"$here/callgrind/sampled.sh" "$library" "$instructions" "$rate"
cat "$instructions" >> "$section"
rm -f "$instructions"
# Replace an older section of this script's (it is last in the file), keep the rest.
python3 - "$results" "$section" <<'PY'
import sys
results, section = sys.argv[1], sys.argv[2]
text = open(results).read()
marker = "## Sampled recording (`make bench-sampled`)"
if marker in text:
    text = text[:text.index(marker)].rstrip("\n") + "\n"
open(results, "w").write(text + "\n" + open(section).read())
PY
rm -f "$section"
echo "wrote the sampled section of $results"
