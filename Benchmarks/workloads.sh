# Sourced by run.sh and sampled.sh: installs the peers (scripts/setup.sh
# bench), builds the native workloads into build/bench and names the Python
# interpreter itself (not a shim script). Sets here, build and python.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$here/../build/bench"
mkdir -p "$build"
"$here/../scripts/setup.sh" bench
cc -O2 -g -fno-omit-frame-pointer -o "$build/churn" "$here/churn/churn.c"
c++ -O2 -g -o "$build/stl_workload" "$here/stl/stl_workload.cpp"
python="$(python3 -c 'import sys; print(sys.executable)')"
