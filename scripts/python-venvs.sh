#!/usr/bin/env bash
# Flask for every CPython the Python tests trace: one virtual environment
# per pyenv interpreter (3.8 to 3.13), build/python-venvs/3.X, with the
# packages pinned in Tests/RecorderTests/Programs/python/requirements.txt.
# Nothing is installed into the interpreters themselves; Debian's
# /usr/bin/python3.11 gets python3-flask from apt (scripts/setup.sh test).
# An environment that already imports Flask is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${PYENV_ROOT:-$HOME/.pyenv}"
requirements=Tests/RecorderTests/Programs/python/requirements.txt
for minor in 8 9 10 11 12 13; do
  python=$(ls -d "$root"/versions/3."$minor".*/bin/python3."$minor" 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$python" ]; then
    echo "heapdiff setup: no pyenv Python 3.$minor under $root; its Python tests will fail" >&2
    continue
  fi
  venv=build/python-venvs/3.$minor
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import flask' 2>/dev/null; then
    continue
  fi
  echo "heapdiff setup: Flask for Python 3.$minor in $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
done
