#!/usr/bin/env python3
"""`make bench-leaks`: runs every leak scenario in this directory under
`heapdiff check` and judges the verdict against the scenario's own marks:
lines ending in `// @leak` must be reported (the rank at which each was found
is shown), lines marked `// @steady` and every other line must not be.
A scenario without @leak lines must pass the check. Each scenario runs in
two snapshot patterns: a snapshot after each of its 5 phases, and the plain
pattern's two (after warm-up, after the load: LEAKCHECK_SNAPSHOTS=two, read
by leakcheck.h). Exits 1 if any scenario is misjudged in either.

Usage: run.py HEAPDIFF_EXECUTABLE BUILD_DIR
"""
import json
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
INCLUDE = HERE.parent.parent / "Sources" / "HeapDiffRecorder" / "include"


def compile_scenario(source, build):
    binary = build / source.stem
    if source.suffix == ".c":
        command = ["cc", "-O2", "-g", f"-I{INCLUDE}", "-o", binary, source, "-lpthread", "-ldl"]
    elif source.suffix == ".cpp":
        command = ["c++", "-O2", "-g", f"-I{INCLUDE}", "-o", binary, source, "-lpthread", "-ldl"]
    else:
        command = ["swiftc", "-O", "-g", "-o", binary, source]
    subprocess.run([str(c) for c in command], check=True, stdout=subprocess.DEVNULL)
    return binary


def marked_lines(source, mark):
    return {n for n, text in enumerate(source.read_text().splitlines(), 1) if text.rstrip().endswith(f"// @{mark}")}


PATTERNS = {"phases": "5 (one per phase)", "two": "2 (warm-up, load)"}


def judge(source, binary, heapdiff, pattern):
    leaks, steady = marked_lines(source, "leak"), marked_lines(source, "steady")
    env = dict(os.environ, LEAKCHECK_SNAPSHOTS=pattern)
    proc = subprocess.run([heapdiff, "check", "--format", "json", "--limit", "0", "--", str(binary)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if proc.returncode not in (0, 1):
        return dict(name=source.name, pattern=pattern, expected=sorted(leaks), ranks=[], false=[f"exit {proc.returncode}: "
                    + proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""], ok=False)
    report = json.loads(proc.stdout)
    found = [(os.path.basename(f.get("file") or f.get("module", "?")), f.get("line")) for f in report["findings"]]
    ranks = []
    for line in sorted(leaks):
        rank = next((i + 1 for i, (name, at) in enumerate(found) if name == source.name and at == line), None)
        ranks.append(rank)
    false_positives = [f"{name}:{at}" + (" (@steady)" if name == source.name and at in steady else "")
                       for name, at in found if not (name == source.name and at in leaks)]
    expect_fail = bool(leaks)
    ok = (proc.returncode == 1) == expect_fail and all(r is not None for r in ranks) and not false_positives
    return dict(name=source.name, pattern=pattern, expected=sorted(leaks), ranks=ranks, false=false_positives, ok=ok,
                verdict="leak" if proc.returncode == 1 else "steady")


def main():
    heapdiff, build = sys.argv[1], pathlib.Path(sys.argv[2])
    build.mkdir(parents=True, exist_ok=True)
    sources = sorted(p for p in HERE.iterdir() if p.suffix in (".c", ".cpp", ".swift"))
    binaries = {source: compile_scenario(source, build) for source in sources}
    rows = [judge(source, binaries[source], heapdiff, pattern) for source in sources for pattern in PATTERNS]
    print("| scenario | snapshots | expected leaking lines | found at rank | false positives | heapdiff says | judged |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        expected = ", ".join(str(n) for n in r["expected"]) or "none (steady)"
        ranks = ", ".join("missed" if x is None else str(x) for x in r["ranks"]) or "—"
        false = ", ".join(r["false"]) or "0"
        print(f"| {r['name']} | {PATTERNS[r['pattern']]} | {expected} | {ranks} | {false} | {r.get('verdict', 'error')} | "
              f"{'right' if r['ok'] else 'WRONG'} |")
    wrong = [f"{r['name']} ({r['pattern']})" for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(wrong)} passed, {len(wrong)} failed")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
