"""The heapdiff recorder as this process sees it: whether it is preloaded,
and snapshots taken through its C API, found again as files."""
import ctypes
import gc
import os
import re

# PROGRAM.PID.SEQ.heapsnap (docs/FORMAT.md); PROGRAM may contain dots.
_SNAPSHOT_NAME = re.compile(r"^(?P<program>.+)\.(?P<pid>\d+)\.(?P<seq>\d+)\.heapsnap$")

RECORDER_FILE = "libheapdiff.so"


def _snapshot_function():
    try:
        function = getattr(ctypes.CDLL(None), "heapdiff_snapshot")
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_char_p]
    function.restype = ctypes.c_int
    return function


class Recorder:
    """libheapdiff.so in this process, or its absence."""

    def __init__(self):
        self._snapshot = _snapshot_function()
        # The recorder resolved HEAPDIFF_OUTPUT against the working directory
        # the process started in; this runs at start-up too, before any test
        # can change directory.
        self.output = os.path.abspath(os.environ.get("HEAPDIFF_OUTPUT") or os.getcwd())

    @property
    def loaded(self):
        return self._snapshot is not None

    def files(self):
        """{SEQ: path} of this process's snapshots in the output directory."""
        pid = os.getpid()
        found = {}
        try:
            names = os.listdir(self.output)
        except OSError:
            return found
        for name in names:
            match = _SNAPSHOT_NAME.match(name)
            if match and int(match["pid"]) == pid:
                found[int(match["seq"])] = os.path.join(self.output, name)
        return found

    def latest(self):
        """SEQ of this process's newest snapshot, 0 for none."""
        return max(self.files(), default=0)

    def snapshot(self, label, after):
        """Collects cyclic garbage (unreachable cycles are not growth), takes
        a snapshot and returns its SEQ, the newest one after `after`."""
        gc.collect()
        if self._snapshot(label.encode()) != 0:
            raise RuntimeError(f"heapdiff_snapshot({label!r}) failed (the recorder said why on stderr)")
        newest = self.latest()
        if newest <= after:
            raise RuntimeError(f"heapdiff_snapshot({label!r}) left no file of process {os.getpid()} "
                               f"in {self.output}")
        return newest


def without_recorder(environment):
    """A copy of `environment` that does not preload the recorder, for the
    processes this one starts that should not be traced."""
    copy = dict(environment)
    entries = [entry for entry in re.split(r"[: ]", copy.get("LD_PRELOAD", ""))
               if entry and os.path.basename(entry) != RECORDER_FILE]
    if entries:
        copy["LD_PRELOAD"] = ":".join(entries)
    else:
        copy.pop("LD_PRELOAD", None)
    return copy
