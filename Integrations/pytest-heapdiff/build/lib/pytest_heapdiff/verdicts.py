"""Each judged test's verdict, recorded where `heapdiff check` and `heapdiff
run` count it: one line per test in this process's own file in the
recorder's output directory. The file's name and the line's layout are
heapdiff's (heapdiff_control.h, docs/PROTOCOL.md); a test of this plugin
checks that these names match the header's."""
import os
import re
import sys

HARNESS = "pytest-heapdiff"
# HD_VERDICTS_PREFIX, HD_VERDICTS_SUFFIX, HD_VERDICT_* and HD_VERDICT_MAX_LINE.
PREFIX, SUFFIX = "leak-tests.", ".verdicts"
PASSED, LEAKED, ERROR = "passed", "leaked", "error"
MAX_LINE = 4096

# A growing site's first line in `heapdiff check`'s report:
# "test_x.py:11: grew +615 KiB (+600 blocks): 205 KiB → …", sampled "… (~+818 blocks): …";
# its stack lines are indented.
_FINDING = re.compile(r"^(?!heapdiff check:)(\S.* \(~?[+-][\d,]+ blocks\)): ")
# Sites named in a summary before "and N more call sites" (CheckReport.summarySites).
SUMMARY_SITES = 3


def file_name(pid):
    return f"{PREFIX}{pid}{SUFFIX}"


def summary(report):
    """The grown sites of a `heapdiff check` report in one line, as
    CheckReport.summary() words them; else the report's last line."""
    sites = [match.group(1) for match in map(_FINDING.match, report.splitlines()) if match]
    if not sites:
        lines = report.strip().splitlines()
        return lines[-1] if lines else ""
    parts = sites[:SUMMARY_SITES]
    if len(sites) > SUMMARY_SITES:
        parts.append(f"and {len(sites) - SUMMARY_SITES} more call sites")
    return "; ".join(parts)


def _field(text):
    return re.sub(r"[\t\r\n]", " ", text)


def line(status, test, snapshots="", summary_line=""):
    """The record: five tab-separated fields and a newline, the summary cut
    to keep it within MAX_LINE bytes."""
    head = "\t".join(map(_field, (status, HARNESS, test, snapshots))) + "\t"
    room = MAX_LINE - len(head.encode()) - 1
    tail = _field(summary_line)
    if len(tail.encode()) > room:
        tail = tail.encode()[:max(room - 3, 0)].decode(errors="ignore") + "…"
    return head + tail + "\n"


def record(directory, status, test, snapshots="", summary_line=""):
    """Appends one record with one O_APPEND write, so records of pytest-xdist
    workers or threads never interleave; a failure is said on stderr and does
    not change the test's outcome."""
    path = os.path.join(directory, file_name(os.getpid()))
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            os.write(descriptor, line(status, test, snapshots, summary_line).encode())
        finally:
            os.close(descriptor)
    except OSError as error:
        sys.stderr.write(f"pytest-heapdiff: cannot record the verdict of {test} in {path}: {error.strerror}\n")


def is_verdicts_file(name):
    middle = name[len(PREFIX):-len(SUFFIX)] if name.startswith(PREFIX) and name.endswith(SUFFIX) else ""
    return middle.isdigit()
