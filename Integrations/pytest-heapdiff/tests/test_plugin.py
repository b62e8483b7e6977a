"""pytest-heapdiff, driven as a user drives it: a test file with a leaking
and a bounded marked test, run by a separate pytest (pytester) with
--heapdiff, under `heapdiff check`, and without heapdiff.

Needs the heapdiff command: HEAPDIFF_CLI (as `make test` sets it) or PATH."""
import os
import re
import shutil
import sys

import pytest

SESSIONS = '''
import pytest


class SessionStore:
    def __init__(self):
        self.sessions = {}
        self.history = []

    def handle(self, user, body):
        self.sessions[user] = body.decode()  # bounded: one per user
        self.history.append(body.decode())  # @site leak


STORE = SessionStore()
LATEST = {}


@pytest.mark.heapdiff(rounds=5)
def test_history_is_bounded():
    for i in range(200):
        STORE.handle(f"user{i % 80}", b"x" * 1000)  # @site caller


@pytest.mark.heapdiff(rounds=5, max_growth_per_site="4 KiB")
def test_latest_request_per_user_is_bounded():
    for i in range(200):
        LATEST[f"user{i % 80}"] = (b"y" * 1000).decode()
'''


def line(site):
    """The line of `# @site SITE` in the test file."""
    for number, text in enumerate(SESSIONS.splitlines()[1:], start=1):
        if text.endswith(f"# @site {site}"):
            return number
    raise LookupError(site)


def heapdiff_cli():
    return os.environ.get("HEAPDIFF_CLI") or shutil.which("heapdiff")


def expect_one_leak_named(result):
    """1 failed naming the leaking line, its growth and a short stack; the
    bounded test passed."""
    result.assert_outcomes(failed=1, passed=1)
    output = result.stdout.str()
    # Rounds 2 to 5 are compared (round 1 warms up): 3 rounds of 200 kept strings.
    result.stdout.fnmatch_lines([
        f"test_sessions.py:{line('leak')}: grew +* (+600 blocks): *",
        f"    test_sessions.py:{line('leak')} in SessionStore.handle (Python)",
        f"    test_sessions.py:{line('caller')} in test_history_is_bounded (Python)",
        "heapdiff check: FAILED: 1 call site kept growing past 4096 B; *",
    ])
    assert "FAILED test_sessions.py::test_history_is_bounded" in output
    assert "test_latest_request_per_user_is_bounded" not in output.split("short test summary")[-1]


@pytest.fixture
def sessions(pytester):
    pytester.makepyfile(test_sessions=SESSIONS)
    return pytester


def test_heapdiff_flag_runs_pytest_again_under_the_recorder(sessions, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where the run's snapshots go
    result = sessions.runpytest_subprocess("--heapdiff", "-p", "no:cacheprovider")
    expect_one_leak_named(result)
    assert result.ret == 1
    # The failed test's snapshots are kept where its failure says; nothing else is left.
    kept = [os.path.join(root, name) for root, _, names in os.walk(tmp_path) for name in names
            if name.endswith(".heapsnap")]
    assert len(kept) == 5 and all("test_history_is_bounded" in path for path in kept), kept
    assert not [name for _, _, names in os.walk(tmp_path) for name in names if name.endswith(".verdicts")]
    folder = os.path.dirname(kept[0])
    result.stdout.fnmatch_lines([f"heapdiff check: FAILED: *; snapshots in {folder}"])


def heapdiff_check(pytester, *pytest_arguments, output=None):
    """`heapdiff check -- python -m pytest ARGUMENTS`, its snapshots in `output` when given."""
    kept = ["--output", str(output)] if output else []
    return pytester.run(heapdiff_cli(), "check", *kept, "--", sys.executable, "-m", "pytest", "-p",
                        "no:cacheprovider", *pytest_arguments)


def test_under_heapdiff_check_a_leaking_marked_test_fails_the_check(sessions, tmp_path):
    output = tmp_path / "check"
    result = heapdiff_check(sessions, "test_sessions.py", output=output)
    expect_one_leak_named(result)
    # pytest failed because its leak test did: check's verdict is the leak (1), not "the program failed" (3).
    assert result.ret == 1
    folder = output / "pytest-heapdiff" / "test_sessions.py_test_history_is_bounded"
    result.stderr.fnmatch_lines([
        f"heapdiff: {sys.executable} exited with status 1",
        f"leak test test_sessions.py::test_history_is_bounded (pytest-heapdiff, pid *) kept growing: "
        f"test_sessions.py:{line('leak')}: grew +* (+600 blocks); snapshots in {folder}",
        "heapdiff check: FAILED: 1 of 2 leak tests judged by pytest-heapdiff in 1 process kept growing",
    ])
    assert len([name for name in os.listdir(folder) if name.endswith(".heapsnap")]) == 5


def test_under_heapdiff_check_the_command_need_not_be_on_path(sessions, monkeypatch):
    # check tells the program where it is (HEAPDIFF_CLI), so pytest-heapdiff
    # judges the marked tests without heapdiff on PATH.
    cli = heapdiff_cli()
    monkeypatch.delenv("HEAPDIFF_CLI", raising=False)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + ":/usr/bin:/bin")
    result = sessions.run(cli, "check", "--", sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "test_sessions.py")
    expect_one_leak_named(result)
    assert result.ret == 1
    result.stderr.fnmatch_lines(["heapdiff check: FAILED: 1 of 2 leak tests judged by pytest-heapdiff in 1 process "
                                 "kept growing"])


def test_under_heapdiff_check_bounded_marked_tests_pass_the_check(sessions):
    result = heapdiff_check(sessions, "test_sessions.py", "-k", "test_latest_request_per_user_is_bounded")
    result.assert_outcomes(passed=1, deselected=1)
    assert result.ret == 0, result.stderr.str()
    result.stderr.fnmatch_lines(["heapdiff check: passed: 1 leak test judged by pytest-heapdiff in 1 process; "
                                 "none kept growing"])


def test_under_heapdiff_check_without_leak_tests_nothing_spans_the_workload(pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    assert sum(range(4)) == 6\n")
    result = heapdiff_check(pytester, "test_plain.py")
    result.assert_outcomes(passed=1)
    assert result.ret == 2
    result.stderr.fnmatch_lines(["heapdiff: error: * took no snapshot of its own, so no comparison spans its "
                                 "workload *"])


def test_verdict_records_are_named_as_heapdiff_control_h_names_them():
    from pytest_heapdiff import verdicts

    header = os.path.join(os.path.dirname(__file__), "..", "..", "..", "Sources", "HeapDiffFormat", "include",
                          "heapdiff_control.h")
    with open(header) as text:
        defined = dict(re.findall(r'#define (HD_VERDICTS?_\w+) "([^"]*)"', text.read()))
    assert defined == {"HD_VERDICTS_PREFIX": verdicts.PREFIX, "HD_VERDICTS_SUFFIX": verdicts.SUFFIX,
                       "HD_VERDICT_PASSED": verdicts.PASSED, "HD_VERDICT_LEAKED": verdicts.LEAKED,
                       "HD_VERDICT_ERROR": verdicts.ERROR}
    with open(header) as text:
        assert f"HD_VERDICT_MAX_LINE = {verdicts.MAX_LINE} " in text.read()
    assert verdicts.file_name(42) == "leak-tests.42.verdicts" and verdicts.is_verdicts_file("leak-tests.42.verdicts")
    assert not verdicts.is_verdicts_file("leak-tests..verdicts")


def test_verdict_lines_keep_five_fields_and_fit():
    from pytest_heapdiff import verdicts

    record = verdicts.line(verdicts.LEAKED, "t::a\tb", "/tmp/x", "a.py:1: grew +1 KiB (+2 blocks)\n" + "é" * 5000)
    assert record.endswith("…\n") and len(record.encode()) <= verdicts.MAX_LINE
    assert record.split("\t")[:4] == ["leaked", "pytest-heapdiff", "t::a b", "/tmp/x"]
    assert record.count("\n") == 1
    report = "\n".join([
        "a.py:11: grew +620 KiB (+600 blocks): 413 KiB → 620 KiB",
        "    a.py:11 in f (Python)",
        "b.py:2: grew +8.0 KiB (-1 blocks): 1 KiB → 9 KiB",
        "heapdiff check: FAILED: 2 call sites kept growing past 4096 B; …",
    ])
    assert verdicts.summary(report) == "a.py:11: grew +620 KiB (+600 blocks); b.py:2: grew +8.0 KiB (-1 blocks)"
    # Sampled (HEAPDIFF_SAMPLE), growth and blocks are estimates: the site still, not the FAILED line,
    # which ends with the snapshot folder that the verdict names again.
    sampled = "\n".join([
        "a.py:11: grew ~+832 KiB ±231 KiB (~+818 blocks): ~256 KiB → ~448 KiB → ~704 KiB → ~1088 KiB",
        "    a.py:11 in f (Python)",
        "heapdiff check: FAILED: 1 call site kept growing past 4096 B and beyond 3 standard errors; …; "
        "snapshots in check/x",
    ])
    assert verdicts.summary(sampled) == "a.py:11: grew ~+832 KiB ±231 KiB (~+818 blocks)"


def test_without_heapdiff_marked_tests_run_once(pytester, monkeypatch):
    monkeypatch.delenv("HEAPDIFF_CLI", raising=False)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + ":/usr/bin:/bin")
    pytester.makepyfile(test_once='''
        import pytest

        @pytest.mark.heapdiff(rounds=5)
        def test_counted():
            with open("calls", "a") as calls:
                calls.write("x")
    ''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "calls").read_text() == "x"
    result.stdout.fnmatch_lines(["heapdiff: 1 test marked heapdiff ran once, unjudged: *"])


def test_rounds_run_the_body_that_many_times(pytester):
    pytester.makepyfile(test_rounds='''
        import pytest

        @pytest.mark.heapdiff(rounds=3)
        def test_counted():
            with open("calls", "a") as calls:
                calls.write("x")
    ''')
    result = pytester.runpytest_subprocess("--heapdiff", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "calls").read_text() == "xxx"


def test_heapdiff_flag_without_the_command_is_a_usage_error(sessions, monkeypatch):
    monkeypatch.delenv("HEAPDIFF_CLI", raising=False)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + ":/usr/bin:/bin")
    result = sessions.runpytest_subprocess("--heapdiff", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --heapdiff: cannot find the heapdiff command: *"])


def test_bad_marker_arguments_fail_the_test_naming_them(pytester):
    pytester.makepyfile(test_bad='''
        import pytest

        @pytest.mark.heapdiff(rounds=1)
        def test_one_round():
            pass
    ''')
    result = pytester.runpytest_subprocess("--heapdiff", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.heapdiff: rounds must be a whole number of at least 2, not 1"])


def test_warmup_rounds_leave_a_cache_filling_over_several_rounds_out(pytester):
    """A cache that fills during the first 3 of 4 rounds grew in both steps
    from round 2 to 4: a leak with one warm-up round, none with two."""
    pytester.makepyfile(test_warmup='''
        import pytest

        CACHES = {"default": {}, "warm": {}}
        ROUNDS = {"default": 0, "warm": 0}

        def fill(name):
            ROUNDS[name] += 1
            if ROUNDS[name] <= 3:
                for i in range(100):
                    CACHES[name][(ROUNDS[name], i)] = (b"c" * 1000).decode()

        @pytest.mark.heapdiff(rounds=4)
        def test_one_warmup_round():
            fill("default")

        @pytest.mark.heapdiff(rounds=4, warmup_rounds=2)
        def test_two_warmup_rounds():
            fill("warm")

        @pytest.mark.heapdiff(rounds=4, warmup_rounds=3)
        def test_too_many_warmup_rounds():
            pass
    ''')
    result = pytester.runpytest_subprocess("--heapdiff", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines([
        "test_warmup.py:*: grew +* (+* blocks): *",
        "*@pytest.mark.heapdiff: warmup_rounds must be a whole number from 0 to rounds - 2 (2), not 3",
    ])
    assert "FAILED test_warmup.py::test_one_warmup_round" in result.stdout.str()
    assert "test_two_warmup_rounds" not in result.stdout.str().split("short test summary")[-1]


def test_a_test_that_fails_by_itself_leaves_no_snapshot(pytester, tmp_path):
    pytester.makepyfile(test_fails='''
        import pytest

        ROUNDS = []

        @pytest.mark.heapdiff(rounds=5)
        def test_third_round_fails():
            ROUNDS.append(1)
            assert len(ROUNDS) < 3
    ''')
    output = tmp_path / "snapshots"
    result = pytester.run(heapdiff_cli(), "run", "--quiet", "--output", str(output), "--", sys.executable, "-m",
                          "pytest", "-p", "no:cacheprovider", "test_fails.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert 3 < 3*"])
    # Only pytest's exit snapshot (#3) is left, not those of the two rounds before the failure (#1, #2).
    left = [name for name in os.listdir(output) if name.endswith(".heapsnap")]
    assert [name.split(".")[-2] for name in left] == ["3"], left


ASYNC_SESSIONS = '''
import asyncio
import pytest

HISTORY = []


async def handle(body):
    await asyncio.sleep(0)
    HISTORY.append(body.decode())  # @site async-leak


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.heapdiff(rounds=4)
@pytest.mark.anyio
async def test_anyio_history_is_bounded():
    for i in range(200):
        await handle(b"x" * 1000)


@pytest.mark.heapdiff(rounds=4)
@pytest.mark.asyncio
async def test_asyncio_history_is_bounded():
    for i in range(200):
        await handle(b"y" * 1000)


@pytest.mark.heapdiff(rounds=3)
@pytest.mark.anyio
async def test_anyio_rounds():
    await asyncio.sleep(0)
    with open("calls", "a") as calls:
        calls.write("a")


@pytest.mark.heapdiff(rounds=3)
@pytest.mark.asyncio
async def test_asyncio_rounds():
    await asyncio.sleep(0)
    with open("calls", "a") as calls:
        calls.write("b")
'''


def test_async_marked_tests_run_their_rounds_in_their_event_loop(pytester, tmp_path):
    """anyio's plugin runs a coroutine function, so the rounds stay one
    (awaiting the body each round); pytest-asyncio hands the plugin a
    function that runs the coroutine, called once a round. Either way every
    round runs, and a leak is named at its line."""
    pytester.makepyfile(test_async_sessions=ASYNC_SESSIONS)
    leak = next(number for number, text in enumerate(ASYNC_SESSIONS.splitlines()[1:], start=1)
                if text.endswith("# @site async-leak"))
    output = tmp_path / "check"
    result = pytester.run(heapdiff_cli(), "check", "--output", str(output), "--", sys.executable, "-m", "pytest",
                          "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", "test_async_sessions.py")
    result.assert_outcomes(failed=2, passed=2)
    assert sorted((pytester.path / "calls").read_text()) == list("aaabbb")
    # Rounds 2 to 4 are compared: 2 rounds of 200 kept strings, in each test.
    for test in ("test_anyio_history_is_bounded", "test_asyncio_history_is_bounded"):
        folder = output / "pytest-heapdiff" / f"test_async_sessions.py_{test}"
        result.stderr.fnmatch_lines([
            f"leak test test_async_sessions.py::{test} (pytest-heapdiff, pid *) kept growing: "
            f"test_async_sessions.py:{leak}: grew +* (+400 blocks); snapshots in {folder}",
        ])
    result.stderr.fnmatch_lines(["heapdiff check: FAILED: 2 of 4 leak tests judged by pytest-heapdiff in 1 process "
                                 "kept growing"])
    assert "leaves out LD_PRELOAD" not in result.stderr.str()
    assert result.ret == 1


def test_folder_names_of_tests_alike_stay_apart():
    from pytest_heapdiff.plugin import folder_name
    taken = {}
    assert folder_name("t.py::test_x[a/b]", taken) == "t.py_test_x_a_b"
    assert folder_name("t.py::test_x[a_b]", taken) == "t.py_test_x_a_b-2"
    assert folder_name("t.py::test_x[a/b]", taken) == "t.py_test_x_a_b"   # the same test, the same folder
    long = "t.py::test_y[" + "p" * 200
    assert folder_name(long + "1]", taken) == ("t.py_test_y_" + "p" * 200)[:120]
    assert folder_name(long + "2]", taken) == ("t.py_test_y_" + "p" * 200)[:120] + "-2"
    assert folder_name("::", taken) == "test"
