#!/usr/bin/env python3
"""Snapshot sizes and snapshot write times: runs one workload once under the
recorder writing format 1 (HEAPDIFF_FORMAT=1) and once writing format 2, and
under heaptrack and memray when available, and appends a table to the
results file: per contender the largest snapshot taken while the program ran
(signal, interval or API), the exit snapshot, all output, and, from the
recorder's own HEAPDIFF_STATS lines, the longest time a snapshot held the
recorder's lock, and the write times (wall and CPU) of the largest snapshot
taken during the run and of the exit snapshot.

Usage: sizes.py --name NAME --library LIB --results FILE [--env K=V]... [--peer-env K=V]...
                [--memray PYTHON] [--no-heaptrack] -- PROGRAM [ARGS...]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from compare import with_assignments   # the same directory: Benchmarks/

STATS = re.compile(r"snapshot (\d+) \(format (\d)\): (\d+) stacks, (\d+) bytes, lock held ([\d.]+) ms, "
                   r"written in ([\d.]+) ms \(([\d.]+) ms CPU[,)]")   # (then ", N page faults)")


def kib(n):
    return f"{n / 1024:,.0f}" if n is not None else "—"


def run(command, env, label):
    result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        tail = " / ".join(result.stderr.strip().splitlines()[-3:])[:300]
        print(f"sizes: {label} failed ({result.returncode}): {tail}", file=sys.stderr)
        return None
    return result.stderr


def recorder_row(program, env, library, fmt, work):
    out = os.path.join(work, f"format{fmt}")
    run_env = {**env, "LD_PRELOAD": library, "HEAPDIFF_OUTPUT": out, "HEAPDIFF_STATS": "1",
               "HEAPDIFF_FORMAT": str(fmt), "HEAPDIFF_SIGNAL": "off"}
    stderr = run(program, run_env, f"format {fmt}")
    if stderr is None or not os.path.isdir(out):
        return None
    stats = {int(m.group(1)): m for m in STATS.finditer(stderr)}
    # Only complete files: a `.NAME.tmp` is a snapshot the process exited in the middle of.
    files = sorted((name for name in os.listdir(out) if name.endswith(".heapsnap") and not name.startswith(".")),
                   key=lambda name: int(name.split(".")[-2]))
    seqs = [int(name.split(".")[-2]) for name in files]
    sizes = [os.path.getsize(os.path.join(out, name)) for name in files]
    exit_size = sizes[-1] if sizes else None   # the exit snapshot is the last one taken
    during = max(sizes[:-1], default=None)
    during_seq = seqs[sizes.index(during)] if during is not None else None

    def timing(seq):
        m = stats.get(seq)
        return f"{float(m.group(6)):.1f} ({float(m.group(7)):.1f})" if m else "—"

    lock = max((float(m.group(5)) for m in stats.values()), default=None)
    stacks = [int(stats[seq].group(3)) if seq in stats else None for seq in (during_seq, seqs[-1] if seqs else None)]
    return {"snapshots": len(files), "during": during, "exit": exit_size, "total": sum(sizes), "lock": lock,
            "during_write": timing(during_seq), "exit_write": timing(seqs[-1] if seqs else None),
            "stacks": " / ".join(str(s) if s is not None else "—" for s in stacks)}


def output_row(command, env, out, label):
    if run(command, env, label) is None:
        return None
    total = sum(os.path.getsize(os.path.join(root, f)) for root, _, names in os.walk(out) for f in names)
    return {"snapshots": None, "during": None, "exit": None, "total": total}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--library", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--peer-env", action="append", default=[])
    parser.add_argument("--memray")
    parser.add_argument("--no-heaptrack", action="store_true")
    parser.add_argument("program", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    program = args.program[1:] if args.program and args.program[0] == "--" else args.program
    env = with_assignments(os.environ, args.env)
    peer_env = with_assignments(env, args.peer_env)
    for k in list(peer_env):
        if k.startswith("HEAPDIFF_"):
            del peer_env[k]

    work = tempfile.mkdtemp(prefix="heapdiff-sizes-")
    rows = {}
    for fmt in (1, 2):
        rows[f"heapdiff, format {fmt}"] = recorder_row(program, env, args.library, fmt, work)
    if shutil.which("heaptrack") and not args.no_heaptrack:
        out = os.path.join(work, "heaptrack")
        os.makedirs(out)
        rows["heaptrack"] = output_row(["prlimit", f"--as={8 << 30}", "heaptrack", "-o", os.path.join(out, "ht")] + program,
                                       peer_env, out, "heaptrack")
    if args.memray:
        out = os.path.join(work, "memray")
        os.makedirs(out)
        rows["memray --native"] = output_row(
            [args.memray, "-m", "memray", "run", "--native", "--trace-python-allocators", "-q",
             "-o", os.path.join(out, "memray.bin")] + program[1:], {k: v for k, v in env.items() if not k.startswith("HEAPDIFF_")},
            out, "memray")
    shutil.rmtree(work, ignore_errors=True)

    shown = " ".join(os.path.basename(p) if i == 0 else p for i, p in enumerate(program))
    settings = " ".join(args.env)
    lines = [f"### Sizes: {args.name}", "",
             f"`{shown}`{f' with {settings}' if settings else ''}, one run per contender. The largest snapshot taken "
             "while the program ran, the exit snapshot (in format 2 the one with every stack ever allocated from), "
             "all output; from `HEAPDIFF_STATS=1`, the longest lock hold of any snapshot and the write times of "
             "those two snapshots.", "",
             "| contender | snapshots | largest during the run KiB | exit snapshot KiB | all output KiB | "
             "stacks in them | longest lock hold ms | write ms (CPU ms), largest during | write ms (CPU ms), exit |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in rows.items():
        if row is None:
            lines.append(f"| {name} | failed | | | | | | | |")
            continue
        lock = f"{row['lock']:.2f}" if row.get("lock") is not None else "—"
        lines.append(f"| {name} | {row['snapshots'] if row['snapshots'] is not None else '—'} | {kib(row['during'])} | "
                     f"{kib(row['exit'])} | {kib(row['total'])} | {row.get('stacks') or '—'} | {lock} | "
                     f"{row.get('during_write', '—')} | {row.get('exit_write', '—')} |")
    v1, v2 = rows.get("heapdiff, format 1"), rows.get("heapdiff, format 2")
    if v1 and v2:
        ratios = []
        if v1["during"] and v2["during"]:
            ratios.append(f"during the run {v1['during'] / v2['during']:.1f}× smaller")
        if v1["exit"] and v2["exit"]:
            ratios.append(f"exit snapshot {v1['exit'] / v2['exit']:.1f}× smaller")
        lines += ["", "Format 2 against format 1: " + ", ".join(ratios) + "."]
    text = "\n".join(lines) + "\n\n"
    print(text)
    with open(args.results, "a") as f:
        f.write(text)


main()
