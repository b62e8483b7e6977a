#!/usr/bin/env python3
"""Instructions per allocation by part of the recorder, counted by
valgrind's callgrind (repeatable on a loaded machine, unlike timings).

Each workload runs bare and under each recorder library given; the
recorder's instructions are split by the source file they come from (with
LTO the hot path is inlined across files, but every instruction keeps its
file and line), and the stack hash by its function's lines. Whatever the
run costs beyond the bare program and the recorder's own files (libc
helpers the recorder calls, glibc malloc instead of pymalloc under Python)
is "other". Allocations are counted by the recorder itself (the exit
snapshot's process record), so every column divides by the same number.

Usage: parts.py --out FILE [--library NAME::PATH]... [--env NAME::KEY=VALUE]... -- WORKLOAD...
where each WORKLOAD is 'TITLE|COMMAND ARGS'.
"""
import argparse
import glob
import os
import re
import shlex
import struct
import subprocess
import tempfile

PARTS = [
    ("unwinding", ("native_unwind.c", "native_unwind.h", "eh_frame.c", "capture.h", "python_unwind.c",
                   "libunwind")),
    ("stack hash", ()),            # the lines of hd_trace_hash* in trace_table.c
    ("trace table and cache", ("trace_table.c", "trace_table.h", "intern_table.c", "intern_table.h")),
    ("live-block table", ("pointer_table.c", "pointer_table.h")),
    ("lock", ("lock.c", "lock.h")),
    # python_alloc.c: the CPython allocator-domain wrappers, hooks like hooks.c's (issue 15).
    ("hooks and recording", ("hooks.c", "record.c", "real_alloc.c", "recorder.h", "mmap_arena.c", "python_alloc.c",
                             "common.h", "record.h", "real_alloc.h", "got_hooks.h", "config.h", "sampler.h", "sampler.c",
                             "thread_state.h")),
    ("Python frames", ("python_stack.c", "python_code.c", "python_frames.h", "python_layout.c", "python_stack.h",
                       "python_code.h", "python_layout.h", "python_stacks.c", "python_stacks.h")),
    ("snapshot writing", ("snapshot_writer.c", "crc32.c", "snapshot_v1.c", "snapshot_v2.c", "stack_tree.c",
                          "snapshot_output.c")),
]


def run(command, env, out):
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + command, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)


def annotate(path):
    text = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=yes",
                           "--show-percs=no", path], capture_output=True, text=True, check=True).stdout
    return text


def total(text):
    m = re.search(r"^\s*([\d,]+)\s+\(?[\d.%]*\)?\s*PROGRAM TOTALS", text, re.M)
    return int(m.group(1).replace(",", ""))


def by_file(text):
    """Exclusive instructions per source file (or object, for code without
    debug information)."""
    counts = {}
    section = text.split("file:function", 1)[1].split("-- Auto-annotated source", 1)[0]
    for line in section.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+(?:\([\d.%]+\)\s+)?(\S.*?):(\S+)(?:\s+\[(.*)\])?\s*$", line)
        if not m:
            continue
        count = int(m.group(1).replace(",", ""))
        source, obj = m.group(2), m.group(4) or ""
        key = os.path.basename(source) if source != "???" else os.path.basename(obj)
        counts[key] = counts.get(key, 0) + count
    return counts


def hash_lines(text):
    """Instructions on the lines of hd_trace_hash and its steps
    (hd_trace_hash_frames, hd_trace_hash_finish), inlined or not."""
    m = re.search(r"-- Auto-annotated source: \S*trace_table\.c\n(.*?)(?=\n-- Auto-annotated source|\Z)", text, re.S)
    if not m:
        return 0
    count, inside = 0, False
    for line in m.group(1).splitlines():
        body = re.sub(r"^\s*(\.|[\d,]+)\s+", "", line, count=1)
        if re.match(r"uint64_t hd_trace_hash\w*\(", body) and body.rstrip().endswith("{"):
            inside = True
        if inside:
            n = re.match(r"^\s*([\d,]+)\s", line)
            if n:
                count += int(n.group(1).replace(",", ""))
            if body.startswith("}"):
                inside = False
    return count


def allocations(snapshot_dir):
    """Allocations the recorder counted, from the last snapshot's PROCESS
    record, which follows the file header (its size at offset 12: 16 bytes
    in format 1, 20 in format 2) and an 8-byte record header."""
    files = sorted(glob.glob(os.path.join(snapshot_dir, "*.heapsnap")), key=os.path.getmtime)
    with open(files[-1], "rb") as f:
        data = f.read(64 + 8 + 88)
    header_size = struct.unpack_from("<I", data, 12)[0]
    return struct.unpack_from("<Q", data, header_size + 8 + 80)[0]


def measure(command, env, library, work):
    out = os.path.join(work, "callgrind.out")
    snapshots = tempfile.mkdtemp(dir=work)
    lib_env = dict(env, LD_PRELOAD=library, HEAPDIFF_OUTPUT=snapshots, HEAPDIFF_SIGNAL="off")
    run(command, lib_env, out)
    text = annotate(out)
    files = by_file(text)
    parts = {}
    hashing = hash_lines(text)
    for name, keys in PARTS:
        parts[name] = sum(v for k, v in files.items() for key in keys if k == key or k.startswith(key + "."))
    parts["stack hash"] = hashing
    parts["trace table and cache"] -= hashing
    return total(text), parts, allocations(snapshots)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--library", action="append", required=True, help="NAME::PATH (a column)")
    parser.add_argument("--env", action="append", default=[], help="NAME::KEY=VALUE: environment for that column")
    parser.add_argument("workloads", nargs="+")
    args = parser.parse_args()
    libraries = [tuple(x.split("::", 1)) for x in args.library]
    extra = {}
    for item in args.env:
        name, kv = item.split("::", 1)
        k, v = kv.split("=", 1)
        extra.setdefault(name, {})[k] = v
    work = tempfile.mkdtemp(prefix="heapdiff-callgrind-")
    lines = []
    for workload in args.workloads:
        title, command = workload.split("|", 1)
        command = shlex.split(command)
        env = dict(os.environ)
        bare_out = os.path.join(work, "bare.out")
        run(command, env, bare_out)
        bare = total(annotate(bare_out))
        columns = []
        for name, path in libraries:
            columns.append((name,) + measure(command, dict(env, **extra.get(name, {})), path, work))
        count = columns[-1][3]
        lines.append(f"### {title}\n")
        lines.append(f"`{' '.join(shlex.quote(c) for c in command)}` — {count:,} allocations (the last column's); "
                     "instructions per allocation (a malloc/free pair).\n")
        header = "| part | " + " | ".join(name for name, *_ in columns) + " |"
        lines.append(header)
        lines.append("|---|" + "---:|" * len(columns))
        lines.append("| the bare program | " + " | ".join(f"{bare / c[3]:,.0f}" for c in columns) + " |")
        for part, _ in PARTS:
            cells = [f"{c[2][part] / c[3]:,.0f}" for c in columns]
            if any(cell != "0" for cell in cells):
                lines.append(f"| {part} | " + " | ".join(cells) + " |")
        others = [(c[1] - bare - sum(c[2].values())) / c[3] for c in columns]
        lines.append("| other (libc called by the recorder, allocator differences) | " +
                     " | ".join(f"{o:,.0f}" for o in others) + " |")
        lines.append("| **total** | " + " | ".join(f"**{c[1] / c[3]:,.0f}** ({c[1] / bare:.2f}× bare)"
                                                   for c in columns) + " |")
        lines.append("")
    with open(args.out, "a") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
