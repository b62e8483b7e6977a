#!/usr/bin/env bash
# `make bench-trend`: how long `heapdiff trend` takes over a long series.
#
# Generates a program with 20,000 distinct call stacks (generate.py --series),
# records 500 snapshots of it under the recorder, and times `heapdiff trend`
# over the directory (release build; median of BENCH_ROUNDS, default 3).
# Appends a dated section to Benchmarks/ANALYSIS.md.
#
#   trend.sh HEAPDIFF LIBHEAPDIFF
set -euo pipefail
heapdiff="$1"
library="$2"
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

python3 "$here/generate.py" --paths "$paths" --depth 8 --series "$snapshots" "$work/series.c"
cc -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-ipa-icf \
  -I"$root/Sources/HeapDiffRecorder/include" -o "$work/series" "$work/series.c"
echo "bench-trend: recording $snapshots snapshots" >&2
LD_PRELOAD="$library" HEAPDIFF_OUTPUT="$work/snapshots" "$work/series"
files=$(ls "$work"/snapshots/*.heapsnap | wc -l)
size=$(du -sh "$work/snapshots" | cut -f1)
traces=$(python3 "$here/count_traces.py" "$(ls "$work"/snapshots/series.*.250.heapsnap)")

# GNU time: elapsed seconds and peak RSS (KiB) of each run.
for _ in $(seq "$rounds"); do
  /usr/bin/time -f "%e %M" -a -o "$work/times" "$heapdiff" trend "$work/snapshots" --limit 5 > "$work/trend.txt"
done
median=$(sort -n "$work/times" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
rss=$(sort -k2 -n "$work/times" | tail -1 | awk '{print int($2 / 1024)}')
{
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M') UTC: trend over $files snapshots in ${median} s"
  echo
  echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); heapdiff $(git -C "$root" rev-parse --short HEAD)."
  echo "\`heapdiff trend DIR\` over $files snapshots of one process ($traces traces each in the middle one, $size on disk),"
  echo "median of $rounds runs: **${median} s**, peak RSS ${rss} MiB. Its verdicts:"
  echo
  echo '```'
  cat "$work/trend.txt"
  echo '```'
} >> "$results"
tail -16 "$results"
rm -rf "$work/snapshots"
