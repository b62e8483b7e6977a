#!/usr/bin/env bash
# The benchmarks' Python venv: build/bench-venv from the machine's CPython
# (BENCH_PYTHON to choose another), with memray (a peer) and what the
# service benchmarks run on (fastapi, uvicorn, pytest) from PyPI. Prints
# the venv's python.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
base_python="${BENCH_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
venv="$root/build/bench-venv"
[ -x "$venv/bin/python" ] || "$base_python" -m venv "$venv" >&2
for module in memray fastapi uvicorn pytest; do
  "$venv/bin/python" -c "import $module" 2>/dev/null || "$venv/bin/pip" install -q "$module" >&2
done
echo "$venv/bin/python"
