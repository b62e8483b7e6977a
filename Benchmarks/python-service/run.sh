#!/usr/bin/env bash
# `make bench-python`: a Python service loop (JSON round trips of nested
# dicts, 30,000 requests) on every CPython the recorder reads: bare (pymalloc
# on, as users run it), under the recorder and `heapdiff run` (pymalloc still
# on: the recorder wraps the allocator domains), under heaptrack
# (PYTHONMALLOC=malloc, or it would not see small objects) and under memray
# --native --trace-python-allocators. Each pyenv version runs from a venv of
# its own with memray from PyPI (build/bench-venvs/3.X; memray is skipped
# where it does not install); Debian's static /usr/bin/python3.11 last.
# BENCH_PYTHON_VERSIONS="3.11 3.13" limits the versions, BENCH_ROUNDS the
# rounds (5). Writes Benchmarks/PYTHON.md.
set -euo pipefail
heapdiff="$1"
library="$2"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/scripts/setup.sh" bench
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
results="$root/Benchmarks/PYTHON.md"
{
  echo "# Python service benchmark"
  echo
  echo "Written by \`make bench-python\` (Benchmarks/python-service/run.sh) on $(date -u +%Y-%m-%d), $(nproc) cores,"
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; heaptrack $(heaptrack --version 2>/dev/null | head -1 || echo none)."
  echo "Every section: \`python service.py 30000\`, contenders alternating round by round, medians, ratios"
  echo "against the same interpreter run bare with pymalloc on. heaptrack runs with PYTHONMALLOC=malloc."
  echo
} > "$results"
for version in ${BENCH_PYTHON_VERSIONS:-3.8 3.9 3.10 3.11 3.12 3.13}; do
  base=$(ls -d "$pyenv_root"/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$base" ]; then
    echo "bench-python: no pyenv Python $version, skipped" >&2
    continue
  fi
  venv="$root/build/bench-venvs/$version"
  [ -x "$venv/bin/python" ] || "$base" -m venv "$venv"
  "$venv/bin/python" -c 'import memray' 2>/dev/null || "$venv/bin/python" -m pip install -q memray ||
    echo "bench-python: memray does not install on Python $version" >&2
  memray=()
  if "$venv/bin/python" -c 'import memray' 2>/dev/null; then
    memray=(--memray "$venv/bin/python")
  fi
  full=$("$venv/bin/python" -c 'import platform; print(platform.python_version())')
  memray_version=$("$venv/bin/python" -m memray --version 2>/dev/null | tail -1 || echo "not installed")
  python3 "$root/Benchmarks/compare.py" --rounds "${BENCH_ROUNDS:-5}" --heapdiff "$heapdiff" --library "$library" \
    --results "$results" --name "CPython $full (pyenv, libpython; memray $memray_version)" \
    --peer-env PYTHONMALLOC=malloc --skip massif "${memray[@]}" \
    -- "$venv/bin/python" "$here/service.py" 30000
  startup_python="$venv/bin/python" startup_version="$full" startup_memray=("${memray[@]}")
done
# Debian's statically linked interpreter (no memray: it is not installed there).
if [ -x /usr/bin/python3.11 ] && [ -z "${BENCH_PYTHON_VERSIONS:-}" ]; then
  python3 "$root/Benchmarks/compare.py" --rounds "${BENCH_ROUNDS:-5}" --heapdiff "$heapdiff" --library "$library" \
    --results "$results" --name "CPython $(/usr/bin/python3.11 -c 'import platform; print(platform.python_version())'): Debian's /usr/bin/python3.11 (statically linked)" \
    --peer-env PYTHONMALLOC=malloc --skip massif \
    -- /usr/bin/python3.11 "$here/service.py" 30000
fi
# A service's start-up: importing 18 standard-library modules, where nearly
# every allocation comes from a stack not seen before; on the newest pyenv
# version measured above.
if [ -n "${startup_python:-}" ]; then
  python3 "$root/Benchmarks/compare.py" --rounds "${BENCH_ROUNDS:-5}" --heapdiff "$heapdiff" --library "$library" \
    --results "$results" --name "CPython $startup_version start-up: importing 18 standard-library modules" \
    --peer-env PYTHONMALLOC=malloc --skip massif "${startup_memray[@]}" \
    -- "$startup_python" "$here/startup.py"
fi
# Snapshot sizes, format 1 beside format 2, and heaptrack's and memray's
# output sizes, on this loop and on the other Python workloads.
SIZES_RESULTS="$results" "$root/Benchmarks/sizes.sh" "$heapdiff" "$library" python
