#!/usr/bin/env bash
# `make bench-sizes`: snapshot sizes and write times, format 1 beside format
# 2, with heaptrack's and memray's output sizes, on the native and Python
# workloads (Benchmarks/sizes.py, one run per contender); writes
# Benchmarks/SIZES.md. `make bench` and `make bench-python` append the same
# tables for their own workloads to RESULTS.md and PYTHON.md.
#
#   sizes.sh HEAPDIFF LIBHEAPDIFF [native|python]...   (default: both)
set -euo pipefail
heapdiff="$1"
library="$2"
shift 2
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(native python)
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
results="${SIZES_RESULTS:-$here/SIZES.md}"
build="$root/build/bench"
mkdir -p "$build"
sizes() { python3 "$here/sizes.py" --library "$library" --results "$results" "$@"; }
if [ -z "${SIZES_RESULTS:-}" ]; then
  {
    echo "# Snapshot sizes"
    echo
    echo "Written by \`make bench-sizes\` (Benchmarks/sizes.sh) on $(date -u +%Y-%m-%d), $(nproc) cores;"
    echo "heapdiff $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown). Format 1 is what the recorder wrote"
    echo "before format 2 (\`HEAPDIFF_FORMAT=1\` still writes it); times are of one run on a shared machine."
    echo
  } > "$results"
fi
for part in "${parts[@]}"; do
  case "$part" in
  native)
    cc -O2 -g -fno-omit-frame-pointer -o "$build/churn" "$here/churn/churn.c"
    c++ -O2 -g -o "$build/stl_workload" "$here/stl/stl_workload.cpp"
    sizes --name "allocation churn, wide (~8,000 stacks)" -- "$build/churn" 5000000 wide
    sizes --name "allocation churn, narrow (13 stacks)" -- "$build/churn" 5000000 narrow
    sizes --name "C++ STL workload" -- "$build/stl_workload" 300000
    ;;
  python)
    python="$("$here/python-service/venv.sh")"
    sizes --name "Python: an lru_cache keeping request bodies, 700 calls" --peer-env PYTHONMALLOC=malloc \
      --memray "$python" -- "$python" "$here/python-service/lru_cache_bodies.py" 700
    sizes --name "Python service loop, 30,000 JSON round trips, a snapshot every second" \
      --env HEAPDIFF_INTERVAL=1 --peer-env PYTHONMALLOC=malloc --memray "$python" \
      -- "$python" "$here/python-service/service.py" 30000
    sizes --name "FastAPI service (uvicorn) after 20,000 requests" --peer-env PYTHONMALLOC=malloc \
      --memray "$python" -- "$python" "$here/python-service/fastapi_service.py" 20000
    stdlib="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
    # -s: pytest captures fd 2 while a test runs, which would hide the recorder's HEAPDIFF_STATS lines.
    sizes --name "a pytest run: CPython's own test_importlib suite (1,327 tests), a snapshot every 5 s" \
      --env HEAPDIFF_INTERVAL=5 --peer-env PYTHONMALLOC=malloc --memray "$python" \
      -- "$python" -m pytest -q -s -p no:cacheprovider "$stdlib/test/test_importlib"
    ;;
  *) echo "sizes.sh: unknown part $part (native or python)" >&2; exit 2 ;;
  esac
done
echo "bench-sizes: written to $results" >&2
