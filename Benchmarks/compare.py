#!/usr/bin/env python3
"""Runs one workload bare and under each profiler, alternating round by
round (in an order shuffled each round, seeded) so that machine noise hits
every contender alike, and reports medians of wall time, CPU time
(user+sys of the whole process tree), peak RSS and output size, as ratios
against the bare program; and, for wall time, the median of each round's
own ratio with its 95% confidence interval (paired_ratio below), which
a slow drift of the machine's speed moves less. Appends to RESULTS.md.

Usage: compare.py --name NAME --rounds N --heapdiff PATH --results FILE -- PROGRAM [ARGS...]
"""
import argparse
import datetime
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import tempfile
import time


def run_once(command, env, cwd):
    """Wall time and peak RSS of one run. CPU time is taken by the caller from
    os.times() children deltas, which include grandchildren (heaptrack's
    interpreter, the traced program under `heapdiff run`). Peak RSS comes from
    GNU time: its child is a fresh fork of a small process, whereas this
    script's own ru_maxrss would survive into the child across exec."""
    rss_file = os.path.join(cwd, "maxrss")
    command = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + command
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, _ = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        last = stderr.strip().splitlines()[-3:] if stderr.strip() else [f"status {status}"]
        raise RuntimeError(" / ".join(line.strip() for line in last)[:200])
    with open(rss_file) as f:
        peak_rss = int(f.read().split()[-1]) * 1024
    return wall, peak_rss


def paired_ratio(samples, base):
    """The median of the rounds' own ratios samples[i] / base[i], and a 95%
    confidence interval of that median that assumes nothing about the
    distribution: the order statistics k and n + 1 - k, with k the largest
    rank whose binomial(n, 1/2) tail is at most 2.5% (with n < 6 there is
    none, and the interval is the whole range)."""
    ratios = sorted(x / y for x, y in zip(samples, base))
    n = len(ratios)
    k, tail = 0, 0.0
    while k < n:
        tail += math.comb(n, k) / 2 ** n
        if tail > 0.025:
            break
        k += 1
    # k ranks below the median cover at most 2.5% each side: ratios[k - 1] .. ratios[n - k].
    low, high = (ratios[k - 1], ratios[n - k]) if k >= 1 else (ratios[0], ratios[-1])
    return statistics.median(ratios), low, high


def dir_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def with_assignments(environment, assignments):
    """A copy of environment with each KEY=VALUE of assignments set (--env, --peer-env)."""
    result = dict(environment)
    for assignment in assignments:
        key, _, value = assignment.partition("=")
        result[key] = value
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--heapdiff", required=True, help="path to the heapdiff executable")
    parser.add_argument("--library", required=True, help="path to libheapdiff.so")
    parser.add_argument("--results", required=True)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for every contender")
    parser.add_argument("--peer-env", action="append", default=[],
                        help="KEY=VALUE for the peers only (e.g. PYTHONMALLOC=malloc for heaptrack on CPython)")
    parser.add_argument("--skip", action="append", default=[], help="a peer not to run (e.g. massif)")
    parser.add_argument("--memray", help="a Python with memray installed: adds memray --native "
                                         "--trace-python-allocators (the program is PYTHON SCRIPT ARGS)")
    parser.add_argument("--sample", action="append", default=[],
                        help="a sampling rate (HEAPDIFF_SAMPLE): adds the recorder sampling at that rate")
    parser.add_argument("--jemalloc", help="Debian's libjemalloc.so.2: adds jemalloc alone and jemalloc's own "
                                           "sampled profiler (prof:true,lg_prof_sample:LG) as the peer of sampling")
    parser.add_argument("--jemalloc-lg-sample", type=int, default=19)
    parser.add_argument("--interposer", help="a pass-through LD_PRELOAD library (Benchmarks/interposer): adds "
                                             "what interposing malloc costs before any recording, alone and with "
                                             "an idle thread of its own (PASSTHROUGH_THREAD=1)")
    parser.add_argument("program", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    program = args.program[1:] if args.program and args.program[0] == "--" else args.program

    base_env = with_assignments(os.environ, args.env)
    peer_env = with_assignments(base_env, args.peer_env)
    work = tempfile.mkdtemp(prefix="heapdiff-bench-")

    contenders = {"bare": lambda out: (program, base_env)}
    contenders["heapdiff recorder"] = lambda out: (
        program, {**base_env, "LD_PRELOAD": args.library, "HEAPDIFF_OUTPUT": out, "HEAPDIFF_SIGNAL": "off"})
    if "heapdiff run" not in args.skip:
        contenders["heapdiff run"] = lambda out: ([args.heapdiff, "run", "--output", out, "--"] + program, base_env)
    for rate in args.sample:
        contenders[f"heapdiff recorder, sampled {rate}"] = lambda out, rate=rate: (
            program, {**base_env, "LD_PRELOAD": args.library, "HEAPDIFF_OUTPUT": out, "HEAPDIFF_SIGNAL": "off",
                      "HEAPDIFF_SAMPLE": rate})
    if args.interposer:
        contenders["pass-through interposer"] = lambda out: (program, {**base_env, "LD_PRELOAD": args.interposer})
        contenders["pass-through interposer + idle thread"] = lambda out: (
            program, {**base_env, "LD_PRELOAD": args.interposer, "PASSTHROUGH_THREAD": "1"})
    if args.jemalloc:
        lg = args.jemalloc_lg_sample
        contenders["jemalloc"] = lambda out: (program, {**base_env, "LD_PRELOAD": args.jemalloc})
        # prof_prefix puts its dumps (none without prof_final) in the contender's own directory.
        contenders[f"jemalloc prof, lg_prof_sample:{lg}"] = lambda out: (
            program, {**base_env, "LD_PRELOAD": args.jemalloc,
                      "MALLOC_CONF": f"prof:true,lg_prof_sample:{lg},prof_prefix:{out}/jeprof"})
    notes = []
    if shutil.which("heaptrack") and "heaptrack" not in args.skip:
        # Capped at 8 GiB of address space: on the wide churn heaptrack's
        # interpreter otherwise grows past 18 GiB and dies with bad_alloc.
        contenders["heaptrack"] = lambda out: (
            ["prlimit", f"--as={8 << 30}", "heaptrack", "-o", os.path.join(out, "ht")] + program, peer_env)
    elif "heaptrack" not in args.skip:
        notes.append("heaptrack not installed: skipped")
    if args.memray:
        contenders["memray --native"] = lambda out: (
            [args.memray, "-m", "memray", "run", "--native", "--trace-python-allocators", "-q",
             "-o", os.path.join(out, "memray.bin")] + program[1:], base_env)
    if shutil.which("valgrind") and "massif" not in args.skip:
        contenders["massif"] = lambda out: (
            ["valgrind", "--tool=massif", "--quiet", f"--massif-out-file={out}/massif.out"] + program, peer_env)
    elif "massif" not in args.skip:
        notes.append("valgrind not installed: massif skipped")

    samples = {name: {"wall": [], "cpu": [], "rss": [], "size": []} for name in contenders}
    failures = {}
    order = list(contenders.items())
    shuffle = random.Random(1)
    for round_index in range(args.rounds):
        shuffle.shuffle(order)   # no contender always runs first, or right after the same one
        for name, make in order:
            if name in failures:
                continue   # a peer that cannot run this workload is not retried every round
            out = os.path.join(work, f"{name.replace(' ', '_')}-{round_index}")
            os.makedirs(out)
            command, env = make(out)
            before = os.times()
            try:
                wall, peak_rss = run_once(command, env, work)
            except RuntimeError as error:
                if name in ("bare", "heapdiff recorder", "heapdiff run") or name.startswith("heapdiff recorder, sampled"):
                    raise SystemExit(f"benchmark: {name} failed: {error}")
                after = os.times()
                cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
                failures[name] = f"failed after {cpu:.0f} s of CPU: {error}"
                shutil.rmtree(out)
                continue
            after = os.times()
            cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
            samples[name]["wall"].append(wall)
            samples[name]["cpu"].append(cpu)
            samples[name]["rss"].append(peak_rss)
            samples[name]["size"].append(dir_size(out))
            shutil.rmtree(out)
    shutil.rmtree(work, ignore_errors=True)

    med = {n: {k: statistics.median(v) for k, v in s.items()} for n, s in samples.items() if n not in failures}
    bare = med["bare"]
    lines = [f"### {args.name}", "",
             f"`{' '.join(os.path.basename(p) if i == 0 else p for i, p in enumerate(program))}` — "
             f"{args.rounds} alternating rounds, medians; ratios against the bare program.", "",
             "| contender | wall s | wall × | wall ×, paired [95% CI] | CPU s | CPU × | peak RSS MiB | output KiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, m in med.items():
        ratio, low, high = paired_ratio(samples[name]["wall"], samples["bare"]["wall"])
        lines.append(f"| {name} | {m['wall']:.2f} | {m['wall'] / bare['wall']:.2f} | {ratio:.3f} [{low:.3f}, {high:.3f}] | "
                     f"{m['cpu']:.2f} | {m['cpu'] / max(bare['cpu'], 1e-9):.2f} | {m['rss'] / 2**20:.1f} | "
                     f"{m['size'] / 1024:.0f} |")
    for name, reason in failures.items():
        lines.append(f"| {name} | — | — | — | — | — | — | — |")
    prof = next((n for n in med if n.startswith("jemalloc prof")), None)
    if prof and "jemalloc" in med:
        lines.append("")
        lines.append(f"jemalloc's profiler against jemalloc alone: {med[prof]['wall'] / med['jemalloc']['wall']:.2f}× wall, "
                     f"{med[prof]['cpu'] / max(med['jemalloc']['cpu'], 1e-9):.2f}× CPU.")
    rec = med["heapdiff recorder"]
    for peer in ("heaptrack", "memray --native", "massif"):
        if peer in med:
            lines.append("")
            lines.append(f"heapdiff recorder vs {peer}: {med[peer]['wall'] / rec['wall']:.1f}× faster wall, "
                         f"{med[peer]['cpu'] / max(rec['cpu'], 1e-9):.1f}× less CPU.")
    if args.peer_env:
        notes.append(f"heaptrack and massif ran with {' '.join(args.peer_env)}")
    lines += [""] + [f"Note: {n}." for n in notes] + [f"Note: {n} {r}." for n, r in failures.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(args.results, "a") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
