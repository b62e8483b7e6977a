"""pytest-heapdiff: leak tests as ordinary pytest tests.

    @pytest.mark.heapdiff(rounds=5, max_growth_per_site="4 KiB")
    def test_sessions_are_bounded(store):
        for i in range(500):
            store.handle(f"user{i % 80}", b"x" * 1000)

Under the heapdiff recorder (`pytest --heapdiff`, `heapdiff run -- pytest`,
`heapdiff check -- pytest`), a marked test's body runs `rounds` times with a
heap snapshot after each, and `heapdiff check` judges the snapshots: the
test fails when a call site kept growing, naming the line. Each verdict is
recorded for a surrounding `heapdiff check` or `run` (verdicts.py). Without
the recorder, marked tests run once, as ordinary tests.
"""
import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from . import cli, verdicts
from .recorder import Recorder

MARKER = "heapdiff"
DEFAULT_ROUNDS = 5
DEFAULT_MAX_GROWTH_PER_SITE = "4 KiB"
# Rounds at the start that are not compared: caches fill, free lists fill.
DEFAULT_WARMUP_ROUNDS = 1
# Set in the environment of the pytest that --heapdiff starts under heapdiff.
RERUN_VARIABLE = "PYTEST_HEAPDIFF_RERUN"
# Where each marked test's snapshots go, under the recorder's output directory.
SNAPSHOT_FOLDER = "pytest-heapdiff"

# Looked up once, as the process starts: the recorder is loaded or not.
_recorder = Recorder()
# How many marked tests ran once, unjudged, for the terminal summary.
_unjudged = pytest.StashKey[int]()


def pytest_addoption(parser):
    group = parser.getgroup("heapdiff", "heap-growth leak tests (pytest-heapdiff)")
    group.addoption("--heapdiff", action="store_true", default=False,
                    help="judge the tests marked heapdiff; when the heapdiff recorder is not loaded, run pytest "
                         "again under `heapdiff run` (heapdiff found through HEAPDIFF_CLI or PATH)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"{MARKER}(rounds={DEFAULT_ROUNDS}, warmup_rounds={DEFAULT_WARMUP_ROUNDS}, "
        f"max_growth_per_site='{DEFAULT_MAX_GROWTH_PER_SITE}'): under heapdiff (pytest --heapdiff), run the test "
        "body ROUNDS times with a heap snapshot after each and fail when a call site kept growing by more than "
        "MAX_GROWTH_PER_SITE after the first WARMUP_ROUNDS; otherwise run it once")
    config.stash[_unjudged] = 0


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """--heapdiff without the recorder: the whole run happens again under it."""
    if not config.getoption("heapdiff") or _recorder.loaded:
        return None
    if os.environ.get(RERUN_VARIABLE):
        raise pytest.UsageError("--heapdiff: pytest was started again under heapdiff, but the recorder is not "
                                "loaded in it (is LD_PRELOAD cleared on the way?)")
    try:
        command = cli.locate()
    except cli.CommandNotFound as error:
        raise pytest.UsageError(f"--heapdiff: {error}")
    return _rerun(config, command)


def _rerun(config, command):
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)  # the new pytest writes to the terminal itself
    output = tempfile.mkdtemp(prefix="pytest-heapdiff-")
    argv = [sys.executable, "-m", "pytest", *map(str, config.invocation_params.args)]
    process = subprocess.Popen(cli.rerun_command(command, output, argv), cwd=str(config.invocation_params.dir),
                               env=dict(os.environ, **{RERUN_VARIABLE: "1"}))
    while True:
        try:
            status = process.wait()
            break
        except KeyboardInterrupt:
            continue  # the terminal interrupted the new pytest too; it decides how to end
    _tidy(output)
    return status


def _tidy(output):
    """Leaves only the snapshots of failed tests (named in their failures):
    the exit snapshots of pytest and of the programs it ran go."""
    if not os.path.isdir(output):
        return
    for name in os.listdir(output):
        path = os.path.join(output, name)
        if os.path.isfile(path) and (name.endswith(".heapsnap") or name.startswith(".heapdiff-request.")
                                     or verdicts.is_verdicts_file(name)):
            os.remove(path)
    folder = os.path.join(output, SNAPSHOT_FOLDER)
    if os.path.isdir(folder) and not os.listdir(folder):
        os.rmdir(folder)
    if not os.listdir(output):
        os.rmdir(output)


def pytest_report_header(config):
    if _recorder.loaded:
        return [f"heapdiff: recorder loaded; tests marked {MARKER} run their rounds, snapshots in "
                f"{os.path.join(_recorder.output, SNAPSHOT_FOLDER)}"]
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    marker = pyfuncitem.get_closest_marker(MARKER)
    if marker is None or not _recorder.loaded:
        if marker is not None:
            pyfuncitem.config.stash[_unjudged] += 1
        yield
        return
    original = pyfuncitem.obj
    pyfuncitem.obj = _in_rounds(pyfuncitem, original, marker)
    try:
        yield
    finally:
        pyfuncitem.obj = original


def pytest_terminal_summary(terminalreporter, config):
    unjudged = config.stash.get(_unjudged, 0)
    if unjudged:
        terminalreporter.write_line(
            f"heapdiff: {unjudged} test{'s' if unjudged != 1 else ''} marked {MARKER} ran once, unjudged: the "
            "recorder is not loaded (pytest --heapdiff judges them)")


def _refuse(problem):
    pytest.fail(f"@pytest.mark.{MARKER}: {problem}", pytrace=False)


def _arguments(marker):
    if marker.args:
        _refuse("takes keyword arguments only: rounds=…, warmup_rounds=…, max_growth_per_site=…")
    unknown = set(marker.kwargs) - {"rounds", "warmup_rounds", "max_growth_per_site"}
    if unknown:
        _refuse(f"unknown argument {', '.join(sorted(unknown))}")
    rounds = marker.kwargs.get("rounds", DEFAULT_ROUNDS)
    if not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 2:
        _refuse(f"rounds must be a whole number of at least 2, not {rounds!r}")
    # By default the first round warms up when at least two rounds are left to compare.
    warmup = marker.kwargs.get("warmup_rounds", min(DEFAULT_WARMUP_ROUNDS, rounds - 2))
    if not isinstance(warmup, int) or isinstance(warmup, bool) or not 0 <= warmup <= rounds - 2:
        _refuse(f"warmup_rounds must be a whole number from 0 to rounds - 2 ({rounds - 2}), not {warmup!r}")
    limit = marker.kwargs.get("max_growth_per_site", DEFAULT_MAX_GROWTH_PER_SITE)
    if not isinstance(limit, (int, str)) or isinstance(limit, bool):
        _refuse(f"max_growth_per_site must be a number of bytes or a size such as '64 KiB', not {limit!r}")
    return rounds, warmup, limit


def _in_rounds(item, function, marker):
    """The test body as pytest will call it: `rounds` runs with a snapshot
    after each, then the verdict of `heapdiff check` on the snapshots. An
    async test stays a coroutine function, awaiting its body each round, so
    that the plugin that runs async tests (anyio's, pytest-asyncio's) runs
    all its rounds in its event loop."""

    def run_rounds(**arguments):
        rounds = _Rounds(item, marker)
        try:
            for index in range(rounds.count):
                function(**arguments)
                rounds.ended(index)
        except BaseException:
            rounds.discard()
            raise
        rounds.judge()

    async def run_rounds_awaiting(**arguments):
        rounds = _Rounds(item, marker)
        try:
            for index in range(rounds.count):
                await function(**arguments)
                rounds.ended(index)
        except BaseException:
            rounds.discard()
            raise
        rounds.judge()

    return run_rounds_awaiting if inspect.iscoroutinefunction(function) else run_rounds


class _Rounds:
    """One marked test's rounds, between its body's runs: the snapshot after
    each, then the verdict. Only numbers are kept across rounds, in a list
    made beforehand, so the plugin itself adds next to nothing between
    snapshots."""

    def __init__(self, item, marker):
        self.item = item
        self.count, self.warmup, self.limit = _arguments(marker)
        try:
            self.command = cli.locate()
        except cli.CommandNotFound as error:
            self._cannot_judge(f"heapdiff: {error}", str(error))
        self.taken = [0] * self.count
        self.previous = _recorder.latest()

    def _cannot_judge(self, problem, reason):
        verdicts.record(_recorder.output, verdicts.ERROR, self.item.nodeid, summary_line=reason)
        pytest.fail(problem, pytrace=False)

    def ended(self, index):
        """Takes the snapshot after round INDEX (from 0)."""
        try:
            self.previous = self.taken[index] = _recorder.snapshot(f"{self.item.name} round {index + 1}",
                                                                   after=self.previous)
        except RuntimeError as error:  # the recorder's failure, not the test's
            verdicts.record(_recorder.output, verdicts.ERROR, self.item.nodeid, summary_line=str(error))
            raise

    def discard(self):
        """The test failed by itself: its rounds' snapshots must not join the process's own."""
        paths = _recorder.files()
        for seq in self.taken:
            if seq in paths:
                os.remove(paths[seq])

    def judge(self):
        """Moves the rounds' snapshots to the test's folder and has `heapdiff check` judge them."""
        item = self.item
        folder = _snapshot_folder(item)
        paths = _recorder.files()
        files = [shutil.move(paths[seq], os.path.join(folder, os.path.basename(paths[seq]))) for seq in self.taken]
        verdict = cli.check(self.command, files, self.limit, self.warmup, str(item.config.invocation_params.dir))
        if verdict.status == cli.PASSED:
            shutil.rmtree(folder, ignore_errors=True)
            verdicts.record(_recorder.output, verdicts.PASSED, item.nodeid)
        elif verdict.status == cli.LEAKED:
            verdicts.record(_recorder.output, verdicts.LEAKED, item.nodeid, folder, verdicts.summary(verdict.report))
            pytest.fail(verdict.report, pytrace=False)
        else:
            reason = (verdict.report.strip().splitlines() or [f"heapdiff check exited with {verdict.status}"])[-1]
            self._cannot_judge(f"heapdiff could not judge the {self.count} rounds of {item.nodeid}:\n{verdict.report}",
                               reason)


# Folder names given in this session, each to its test's node id.
_folder_names = {}


def folder_name(nodeid, taken):
    """The folder name of a test's snapshots: its node id with what a path
    cannot hold replaced, cut to 120 characters; a name another test got
    first (parameter ids `a/b` and `a_b`, long ids alike in their first 120
    characters) gets -2, -3…, so that no test's folder replaces another's.
    TAKEN maps the names given so far to their node ids."""
    base = re.sub(r"[^\w.-]+", "_", nodeid).strip("_")[:120] or "test"
    name, n = base, 1
    while taken.get(name, nodeid) != nodeid:
        n += 1
        name = f"{base}-{n}"
    taken[name] = nodeid
    return name


def _snapshot_folder(item):
    """A fresh folder for one test's snapshots: kept out of the output
    directory itself, where `heapdiff check` and `heapdiff run` look for
    the process's own snapshots."""
    folder = os.path.join(_recorder.output, SNAPSHOT_FOLDER, folder_name(item.nodeid, _folder_names))
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, mode=0o700)
    return folder
