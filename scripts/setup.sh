#!/usr/bin/env bash
# Installs the system libraries heapdiff builds against, when missing:
# libunwind (the recorder's stack capture), elfutils libdw (symbols),
# libiberty (its demangler reads Rust symbols), zlib (gzipped pprof export)
# and Chart.js (inlined into `heapdiff report`'s HTML when it is generated,
# never committed);
# with "bench", also GNU time for the benchmarks' peak-memory figures and
# jemalloc (its sampled profiler is the peer of sampled recording); with
# "test", also Go, whose `go tool pprof` reads the pprof export in a test, and
# Chromium, which renders an HTML report headless in a test, jemalloc, tcmalloc
# and mimalloc (C++ programs built against each are recorded), rustc (a Rust
# program's attribution is tested), Debian's
# CPython 3.11 with Flask and its venv module (pytest-heapdiff's tests), which the
# Python tests trace, Flask in a venv for each pyenv CPython 3.8 to 3.13
# (scripts/python-venvs.sh), the servers the control-socket tests run under
# heapdiff: Debian's default JRE and gunicorn, and gdb, which the attach tests use.
set -euo pipefail
need=()
[ -e /usr/include/x86_64-linux-gnu/libunwind.h ] || [ -e /usr/include/libunwind.h ] \
  || [ -n "$(find /usr/include -maxdepth 2 -name libunwind.h 2>/dev/null | head -1)" ] || need+=(libunwind-dev)
[ -e /usr/include/elfutils/libdwfl.h ] || need+=(libdw-dev)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
[ -e /usr/include/libiberty/demangle.h ] || need+=(libiberty-dev)
[ -e /usr/share/javascript/chart.js/chart.min.js ] || need+=(libjs-chart.js)
command -v pkg-config >/dev/null || need+=(pkg-config)
# `scripts/setup.sh bench`: what the benchmarks need on top (peers are optional).
if [ "${1:-}" = bench ]; then
  [ -x /usr/bin/time ] || need+=(time)
  # jemalloc's own sampled profiler, the peer of sampled recording (make bench-sampled).
  [ -e /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 ] || need+=(libjemalloc2)
fi
# `scripts/setup.sh test`: the standard tools the pprof export and the HTML report are checked with,
# and gdb, which `heapdiff attach` loads the recorder with.
if [ "${1:-}" = test ]; then
  [ -x /usr/bin/gdb ] || need+=(gdb)
  # Allocators with operator new and delete of their own, which the recorder's operators route
  # through its hooks (a test builds a C++ program against each).
  [ -e /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 ] || need+=(libjemalloc2)
  [ -e /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 ] || need+=(libtcmalloc-minimal4)
  [ -e /usr/lib/x86_64-linux-gnu/libmimalloc.so.2 ] || need+=(libmimalloc2.0)
  # A Rust program's attribution is tested (rustup's rustc, else Debian's).
  command -v rustc >/dev/null || [ -x "${HOME:-/root}/.cargo/bin/rustc" ] || need+=(rustc)
  [ -x /usr/bin/go ] || need+=(golang-go)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # The Python tests run on Debian's CPython 3.11, Flask included.
  [ -x /usr/bin/python3.11 ] || need+=(python3.11)
  /usr/bin/python3.11 -c 'import flask' 2>/dev/null || need+=(python3-flask)
  # pytest-heapdiff's tests run in venvs (scripts/python-venv.sh), which need ensurepip.
  /usr/bin/python3.11 -c 'import ensurepip' 2>/dev/null || need+=(python3.11-venv)
  [ -x /usr/lib/jvm/default-java/bin/java ] || need+=(default-jre-headless)
  /usr/bin/python3.11 -c 'import gunicorn' 2>/dev/null || need+=(gunicorn)
fi
install_packages() {
  [ ${#need[@]} -eq 0 ] && return 0
  echo "heapdiff setup: installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}
install_packages
# And Flask for each pyenv CPython the tests trace, in venvs under build/.
if [ "${1:-}" = test ]; then
  "$(dirname "$0")/python-venvs.sh"
fi

