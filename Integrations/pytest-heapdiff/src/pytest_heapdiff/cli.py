"""The heapdiff command: where it is, and the two things asked of it.

The leak rule and its report belong to heapdiff (`heapdiff check`); this
plugin only takes the snapshots and hands the files over."""
import os
import shutil
import subprocess
from dataclasses import dataclass

from .recorder import without_recorder

# `heapdiff check`'s exit statuses.
PASSED, LEAKED, CANNOT_CHECK = 0, 1, 2

# Lines of stack under each growing site in a failure: the site and its
# callers outside the interpreter, installed packages and pytest.
STACK_FRAMES = 5


class CommandNotFound(Exception):
    pass


def locate():
    """HEAPDIFF_CLI, else `heapdiff` on PATH."""
    explicit = os.environ.get("HEAPDIFF_CLI")
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise CommandNotFound(f"HEAPDIFF_CLI={explicit} is not an executable file")
        return os.path.abspath(explicit)
    found = shutil.which("heapdiff")
    if found is None:
        raise CommandNotFound("cannot find the heapdiff command: put it on PATH (`make install` in heapdiff's "
                              "checkout) or set HEAPDIFF_CLI to its path")
    return found


@dataclass
class Verdict:
    status: int
    report: str


def check(cli, files, max_growth_per_site, warmup, directory):
    """`heapdiff check --snapshots FILES…`, the first `warmup` of them not
    compared: the verdict and its text, paths shown relative to `directory`."""
    command = [cli, "check", "--max-growth-per-site", str(max_growth_per_site), "--warmup-snapshots", str(warmup),
               "--stack-frames", str(STACK_FRAMES), "--snapshots", *files]
    # The check itself is not traced: it would be slower and leave snapshots.
    finished = subprocess.run(command, cwd=directory, env=without_recorder(os.environ),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
    return Verdict(finished.returncode, (finished.stderr + finished.stdout).rstrip("\n"))


def rerun_command(cli, output, argv):
    """`heapdiff run` of `argv` with the recorder preloaded, quiet: pytest
    reports, heapdiff only passes the exit status through."""
    return [cli, "run", "--quiet", "--output", output, "--", *argv]
