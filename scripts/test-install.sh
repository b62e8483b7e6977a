#!/usr/bin/env bash
# `make install` into a temporary prefix, then the installed tool used as a
# user would, from another directory and through PATH: --version, a man page
# per command, completions for bash, zsh and fish, the recorder found under
# lib/heapdiff/, a real `heapdiff run` that names the demo's leaking line, and
# a Swift program's function named demangled.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(mktemp -d "${TMPDIR:-/tmp}/heapdiff-prefix.XXXXXX")
elsewhere=$(mktemp -d "${TMPDIR:-/tmp}/heapdiff-elsewhere.XXXXXX")
trap 'rm -rf "$prefix" "$elsewhere"' EXIT
fail() { echo "test-install: FAILED: $*" >&2; exit 1; }

make -C "$root" --no-print-directory install PREFIX="$prefix"

cd "$elsewhere"
export PATH="$prefix/bin:$PATH"
unset HEAPDIFF_LIBRARY HEAPDIFF_CLI LD_PRELOAD
[ "$(command -v heapdiff)" = "$prefix/bin/heapdiff" ] || fail "heapdiff is not $prefix/bin/heapdiff"
expected=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' "$root/Sources/heapdiff/Terminal/Version.swift")
[ -n "$expected" ] && [ "$(heapdiff --version)" = "$expected" ] || fail "heapdiff --version: $(heapdiff --version)"
# The Swift runtime is linked in: the tool does not depend on the toolchain's location.
! readelf -d "$prefix/bin/heapdiff" | grep -q 'libswiftCore' || fail "bin/heapdiff loads libswiftCore.so"
[ -f "$prefix/lib/heapdiff/libheapdiff.so" ] || fail "no lib/heapdiff/libheapdiff.so"
[ -f "$prefix/lib/heapdiff/libheapdiff-attach.so" ] || fail "no lib/heapdiff/libheapdiff-attach.so"

man1="$prefix/share/man/man1"
for command in "" run attach snapshot top diff check trend export report; do
  page="$man1/heapdiff${command:+.$command}.1"
  [ -s "$page" ] || fail "no man page $page"
  title=$(echo "HEAPDIFF${command:+.$command}" | tr '[:lower:]' '[:upper:]')
  grep -qx "\.Dt $title 1" "$page" || fail "$page is not the man page of heapdiff $command"
done
grep -q -- '--snapshots' "$man1/heapdiff.check.1" || fail "heapdiff.check.1 does not document --snapshots"

bash_completion="$prefix/share/bash-completion/completions/heapdiff"
bash -n "$bash_completion" || fail "$bash_completion is not valid bash"
bash -c "source '$bash_completion' && complete -p heapdiff" | grep -q 'heapdiff$' || fail "bash completion not registered"
head -1 "$prefix/share/zsh/site-functions/_heapdiff" | grep -qx '#compdef heapdiff' || fail "zsh completion header"
grep -q "^complete -c 'heapdiff' " "$prefix/share/fish/vendor_completions.d/heapdiff.fish" || fail "fish completion"
if command -v zsh >/dev/null; then zsh -n "$prefix/share/zsh/site-functions/_heapdiff" || fail "zsh completion syntax"; fi
if command -v fish >/dev/null; then fish -n "$prefix/share/fish/vendor_completions.d/heapdiff.fish" || fail "fish syntax"; fi

# A real run of the demo gateway: the top growth row is its response body.
cc -g -O1 -I"$root/Sources/HeapDiffRecorder/include" -o gateway "$root/Examples/demo/gateway.c" -ldl
heapdiff run --output snapshots -- ./gateway > run.out 2> run.err || fail "heapdiff run: $(cat run.err)"
grep -qx 'gateway: served 25000 requests' run.out || fail "the gateway's output: $(cat run.out)"
body_line=$(grep -n 'the response body: the biggest leak' "$root/Examples/demo/gateway.c" | cut -d: -f1)
row=$(grep -A1 '^heapdiff: growth from ' run.err | tail -1)
case "$row" in
  "$root/Examples/demo/gateway.c:$body_line: size="*"(+20000)"*) ;;
  *) fail "first growth row is not gateway.c:$body_line: $row" ;;
esac
# A Swift program: the installed tool (Swift runtime linked in) demangles its
# names, so String's storage is plumbing and the site is the program's function.
cat > registry.swift <<'SWIFT'
final class Registry { var names: [String] = [] }
@inline(never) func remember(_ registry: Registry, _ i: Int) {
    registry.names.append(String(repeating: "n", count: 100 + i % 3))
}
let registry = Registry()
for i in 0..<2000 { remember(registry, i) }
print(registry.names.count)
SWIFT
swiftc -g -Onone -o registry registry.swift
heapdiff run --quiet --output swift-snapshots -- ./registry > /dev/null || fail "heapdiff run ./registry"
row=$(heapdiff top swift-snapshots/registry.*.heapsnap --group-by function --limit 1 | head -1)
case "$row" in
  "registry.remember(registry.Registry, Swift.Int) -> () (registry): size="*) ;;
  *) fail "the Swift program's top function is not registry.remember, demangled: $row" ;;
esac

# A real attach, which loads the installed lib/heapdiff/libheapdiff-attach.so
# (gdb and ptrace permission needed: as root, or kernel.yama.ptrace_scope 0).
attached="not tried (no gdb, or ptrace not permitted)"
if command -v gdb >/dev/null && { [ "$(id -u)" = 0 ] || [ "$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)" = 0 ]; }; then
  service="$root/Tests/RecorderTests/Programs/attach_service.c"
  cc -g -O1 -pthread -o attach_service "$service"
  ./attach_service 3000 > service.out &
  service_pid=$!
  for _ in $(seq 100); do grep -q ready service.out && break; sleep 0.1; done
  heapdiff attach "$service_pid" --duration 1 --interval 0.5 --output attached 2> attach.err ||
    fail "heapdiff attach: $(cat attach.err)"
  wait "$service_pid" || fail "attach_service exited with status $?"
  grep -q "^heapdiff: detached from process $service_pid" attach.err || fail "no detach: $(cat attach.err)"
  body_line=$(grep -n '@site body' "$service" | cut -d: -f1)
  grep -A2 '^heapdiff: growth from ' attach.err | grep -q "attach_service.c:$body_line: size=" ||
    fail "attach_service.c:$body_line is not among the first growth rows: $(cat attach.err)"
  attached="a real attach"
fi
echo "test-install: passed: $prefix/bin/heapdiff $(heapdiff --version), $(ls "$man1" | wc -l) man pages, 3 completions, a C and a Swift run, $attached"
