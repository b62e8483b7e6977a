# Sourced by run.sh and sampled.sh: installs the peers (scripts/setup.sh
# bench), builds the native workloads into build/bench and names the Python
# interpreter itself (not a shim script). Sets here, build and python.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$here/../build/bench"
"$here/../scripts/setup.sh" bench
"$here/build-workloads.sh" "$build"
python="$(python3 -c 'import sys; print(sys.executable)')"
