#!/usr/bin/env bash
# `make bench-trend`: how long `heapdiff trend` takes over a long series.
#
# Generates a program with 20,000 distinct call stacks (generate.py --series),
# records 500 snapshots of it under the recorder, and times `heapdiff trend`
# over the directory (release build; median of BENCH_ROUNDS, default 3).
# Appends a dated section to Benchmarks/ANALYSIS.md.
#
# With TREND_BASELINE=OTHER_HEAPDIFF (say, a build of an earlier commit), the
# two are timed in alternating rounds, so that machine noise hits both alike,
# and their full JSON reports (--limit 0) must be identical.
#
# TREND_PROGRAM=python records a Python service instead (python_series.py
# under CPython 3.11, TREND_SECONDS of requests, default 20, a snapshot every
# TREND_INTERVAL seconds, default 0.5): each snapshot lists the code objects
# its own stacks name, the case a series of Python snapshots has to merge.
#
#   trend.sh HEAPDIFF LIBHEAPDIFF
set -euo pipefail
heapdiff="$1"
library="$2"
baseline="${TREND_BASELINE:-}"
rounds="${BENCH_ROUNDS:-3}"
snapshots="${TREND_SNAPSHOTS:-500}"
paths="${TREND_PATHS:-20000}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/build/bench-trend"
results="$root/Benchmarks/ANALYSIS.md"
rm -rf "$work"
mkdir -p "$work"
"$root/scripts/setup.sh" bench

if [ "${TREND_PROGRAM:-c}" = python ]; then
  python=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.11.*/bin/python3.11 2>/dev/null | sort -V | tail -1)
  [ -n "$python" ] || python=$(command -v python3)
  echo "bench-trend: recording $python python_series.py" >&2
  LD_PRELOAD="$library" HEAPDIFF_OUTPUT="$work/snapshots" HEAPDIFF_INTERVAL="${TREND_INTERVAL:-0.5}" \
    "$python" "$here/python_series.py" "${TREND_SECONDS:-20}"
  program="a CPython $("$python" -c 'import platform; print(platform.python_version())') service (python_series.py)"
else
  python3 "$here/generate.py" --paths "$paths" --depth 8 --series "$snapshots" "$work/series.c"
  cc -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-ipa-icf \
    -I"$root/Sources/HeapDiffRecorder/include" -o "$work/series" "$work/series.c"
  echo "bench-trend: recording $snapshots snapshots" >&2
  LD_PRELOAD="$library" HEAPDIFF_OUTPUT="$work/snapshots" "$work/series"
  program="one process"
fi
files=$(ls "$work"/snapshots/*.heapsnap | wc -l)
size=$(du -sh "$work/snapshots" | cut -f1)
# The middle snapshot by sequence number (the field before .heapsnap).
middle=$(ls "$work"/snapshots/*.heapsnap | awk -F. '{print $(NF-1), $0}' | sort -n | sed -n "$(( (files + 1) / 2 ))p" | cut -d' ' -f2-)
traces=$(python3 "$here/count_traces.py" "$middle")

# GNU time: elapsed seconds, peak RSS (KiB) and CPU seconds of each run.
timed() {  # timed TIMES-FILE HEAPDIFF
  /usr/bin/time -f "%e %M %U %S" -a -o "$1" "$2" trend "$work/snapshots" --limit 5 > "$work/trend.txt"
}
for _ in $(seq "$rounds"); do
  [ -z "$baseline" ] || timed "$work/times-baseline" "$baseline"
  timed "$work/times" "$heapdiff"
done
# Median wall seconds, peak RSS in MiB, median CPU seconds of a times file.
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak() { sort -k2 -n "$1" | tail -1 | awk '{print int($2 / 1024)}'; }
cpu() { awk '{print $3 + $4}' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
median=$(median "$work/times")
rss=$(peak "$work/times")
if [ -n "$baseline" ]; then
  "$heapdiff" trend "$work/snapshots" --limit 0 --format json > "$work/trend.json"
  "$baseline" trend "$work/snapshots" --limit 0 --format json > "$work/trend-baseline.json"
  if cmp -s "$work/trend.json" "$work/trend-baseline.json"; then same="identical"; else same="**different**"; fi
fi
{
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M') UTC: trend over $files snapshots in ${median} s"
  echo
  echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); heapdiff $(git -C "$root" rev-parse --short HEAD)."
  echo "\`heapdiff trend DIR\` over $files snapshots of $program ($traces traces in the middle one, $size on disk),"
  echo "median of $rounds runs: **${median} s** ($(cpu "$work/times") s of CPU), peak RSS ${rss} MiB."
  if [ -n "$baseline" ]; then
    echo "The baseline \`$(basename "$baseline")\` in alternating rounds: $(median "$work/times-baseline") s"
    echo "($(cpu "$work/times-baseline") s of CPU), peak RSS $(peak "$work/times-baseline") MiB; full JSON reports $same."
  fi
  echo "Its verdicts:"
  echo
  echo '```'
  cat "$work/trend.txt"
  echo '```'
} >> "$results"
tail -18 "$results"
[ "${same:-identical}" = identical ] || { echo "bench-trend: the baseline's report differs" >&2; exit 1; }
rm -rf "$work/snapshots"
