#!/usr/bin/env bash
# `make bench-python`: a Python service loop (JSON round trips of nested
# dicts, 30,000 requests) bare (pymalloc on, as users run it), under
# `heapdiff run` and the recorder, and under heaptrack (PYTHONMALLOC=malloc)
# and memray --native --trace-python-allocators; appends to
# Benchmarks/PYTHON.md. Every contender runs the same interpreter: a venv of
# the machine's CPython 3.11 with memray from PyPI, made in build/.
set -euo pipefail
heapdiff="$1"
library="$2"
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
"$root/scripts/setup.sh" bench
base_python="${BENCH_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
venv="$root/build/bench-venv"
[ -x "$venv/bin/python" ] || "$base_python" -m venv "$venv"
"$venv/bin/python" -c 'import memray' 2>/dev/null || "$venv/bin/pip" install -q memray
python="$venv/bin/python"
results="$root/Benchmarks/PYTHON.md"
{
  echo "# Python service benchmark"
  echo
  echo "Written by \`make bench-python\` (Benchmarks/python-service/run.sh) on $(date -u +%Y-%m-%d), $(nproc) cores."
  echo "Interpreter: $("$python" -c 'import platform; print(platform.python_implementation(), platform.python_version())') ($python);"
  echo "memray $("$venv/bin/python" -m memray --version 2>/dev/null | tail -1 || echo none); heaptrack $(heaptrack --version 2>/dev/null | head -1 || echo none)."
  echo
} > "$results"
python3 "$root/Benchmarks/compare.py" --rounds "${BENCH_ROUNDS:-5}" --heapdiff "$heapdiff" --library "$library" \
  --results "$results" --name "Python service loop: 30,000 JSON round trips of nested dicts" \
  --peer-env PYTHONMALLOC=malloc --skip massif --memray "$python" \
  -- "$python" "$here/service.py" 30000
# Debian's statically linked interpreter too (no memray: it is not installed there).
if [ -x /usr/bin/python3.11 ]; then
  python3 "$root/Benchmarks/compare.py" --rounds "${BENCH_ROUNDS:-5}" --heapdiff "$heapdiff" --library "$library" \
    --results "$results" --name "The same loop on Debian's /usr/bin/python3.11 (statically linked)" \
    --peer-env PYTHONMALLOC=malloc --skip massif \
    -- /usr/bin/python3.11 "$here/service.py" 30000
fi
# A service's start-up: importing 18 standard-library modules, where nearly
# every allocation comes from a stack not seen before.
python3 "$root/Benchmarks/compare.py" --rounds "${BENCH_ROUNDS:-5}" --heapdiff "$heapdiff" --library "$library" \
  --results "$results" --name "CPython start-up: importing 18 standard-library modules" \
  --peer-env PYTHONMALLOC=malloc --skip massif --memray "$python" \
  -- "$python" "$here/startup.py"
