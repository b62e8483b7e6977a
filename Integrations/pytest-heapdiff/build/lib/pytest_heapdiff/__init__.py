"""pytest-heapdiff: a test marked heapdiff fails when a call site kept
growing over its rounds, judged by `heapdiff check` (see plugin.py)."""
__version__ = "0.1.0"
