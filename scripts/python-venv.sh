#!/usr/bin/env bash
# A virtual environment under build/ for one Python, for pytest-heapdiff's
# tests: pytest from PyPI (Integrations/pytest-heapdiff/requirements-test.txt,
# installed when the venv is made or the file changes), then the plugin from
# the checkout, reinstalled every time so the tests run the current code.
#   scripts/python-venv.sh PYTHON NAME   # makes build/venv-NAME
set -euo pipefail
python=$1 name=$2
root=$(cd "$(dirname "$0")/.." && pwd)
plugin=$root/Integrations/pytest-heapdiff
venv=$root/build/venv-$name
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
if ! cmp -s "$plugin/requirements-test.txt" "$venv/requirements-test.txt" 2>/dev/null; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "${pip[@]}" install -r "$plugin/requirements-test.txt"
  cp "$plugin/requirements-test.txt" "$venv/requirements-test.txt"
fi
# Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$plugin/pyproject.toml" "$plugin/README.md" "$plugin/src" "$work/"
"${pip[@]}" install --no-build-isolation --no-deps --force-reinstall "$work"
