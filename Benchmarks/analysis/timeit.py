#!/usr/bin/env python3
"""Runs a command ROUNDS times with its output discarded and prints the
median wall time, a tab, and a Markdown table row for ANALYSIS.md: LABEL, the
command as SHOWN, the median and range of the wall time, the median CPU time
(user + system, children included) and the largest peak RSS (from wait4).

  timeit.py ROUNDS LABEL SHOWN -- COMMAND ARGS...
"""
import os
import statistics
import subprocess
import sys
import time

rounds, label, shown = int(sys.argv[1]), sys.argv[2], sys.argv[3]
assert sys.argv[4] == "--", "usage: timeit.py ROUNDS LABEL SHOWN -- COMMAND ARGS..."
command = sys.argv[5:]
walls, cpus, rss = [], [], 0
for _ in range(rounds):
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    walls.append(time.perf_counter() - start)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"timeit.py: {' '.join(command)} failed with status {os.waitstatus_to_exitcode(status)}")
    cpus.append(usage.ru_utime + usage.ru_stime)
    rss = max(rss, usage.ru_maxrss)  # KiB on Linux
wall = statistics.median(walls)
print(f"{wall:.2f}\t| {label} | `{shown}` | {wall:.2f} | {min(walls):.2f}–{max(walls):.2f} "
      f"| {statistics.median(cpus):.2f} | {rss / 1024:.0f} | {rounds} |")
