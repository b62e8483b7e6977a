#!/usr/bin/env bash
# `make install`: copies what `make` built into PREFIX (with DESTDIR in front
# when staging a package). The layout is the one the CLI expects: it finds the
# recorder as ../lib/heapdiff/libheapdiff.so beside bin/ (RecorderLibrary.swift),
# and `heapdiff attach`'s build of it, libheapdiff-attach.so, beside that.
#   scripts/install.sh PREFIX CLI RECORDER ATTACH_RECORDER MANUAL_DIR COMPLETION_DIR
set -euo pipefail
prefix=$1 cli=$2 recorder=$3 attach_recorder=$4 manuals=$5 completions=$6
for built in "$cli" "$recorder" "$attach_recorder" "$manuals/heapdiff.1" "$completions/heapdiff.bash"; do
  [ -e "$built" ] || { echo "install: $built is missing; run make first" >&2; exit 1; }
done
install -d "$prefix/bin" "$prefix/lib/heapdiff" "$prefix/share/man/man1" \
  "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
  "$prefix/share/fish/vendor_completions.d"
install -m 0755 "$cli" "$prefix/bin/heapdiff"
install -m 0644 "$recorder" "$prefix/lib/heapdiff/libheapdiff.so"
install -m 0644 "$attach_recorder" "$prefix/lib/heapdiff/libheapdiff-attach.so"
install -m 0644 "$manuals"/*.1 "$prefix/share/man/man1/"
install -m 0644 "$completions/heapdiff.bash" "$prefix/share/bash-completion/completions/heapdiff"
install -m 0644 "$completions/_heapdiff" "$prefix/share/zsh/site-functions/_heapdiff"
install -m 0644 "$completions/heapdiff.fish" "$prefix/share/fish/vendor_completions.d/heapdiff.fish"
echo "heapdiff installed in $prefix: bin/heapdiff, lib/heapdiff/libheapdiff.so and libheapdiff-attach.so, man pages, completions"
