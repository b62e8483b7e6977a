# heapdiff: `make demo` and `make test` set up everything on a fresh
# Debian/Ubuntu machine that has the Swift toolchain.

CC ?= cc
SWIFT ?= swift
BUILD := build
RECORDER_SRC := $(wildcard Sources/HeapDiffRecorder/*.c Sources/HeapDiffFormat/*.c)
RECORDER_HDR := $(wildcard Sources/HeapDiffRecorder/*.h Sources/HeapDiffRecorder/include/*.h Sources/HeapDiffFormat/include/*.h)
RECORDER := $(BUILD)/libheapdiff.so
# The preload library: C11, libc + libunwind only, never the Swift runtime.
RECORDER_CFLAGS := -std=c11 -O2 -g -flto -fPIC -fvisibility=hidden -Wall -Wextra -Werror \
	-fno-omit-frame-pointer -ftls-model=initial-exec -ISources/HeapDiffRecorder/include \
	-ISources/HeapDiffFormat/include
RECORDER_LDFLAGS := -shared -Wl,-z,now -Wl,--as-needed
RECORDER_LIBS := -lunwind -ldl -lpthread
# The same recorder built for `heapdiff attach`, which dlopens it into a process
# that is already running: glibc cannot grow a running process's static TLS
# block, so its thread-local state is global-dynamic (the tls_model attributes
# in the sources are rewritten, -ftls-model alone does not override them), and
# HD_LATE_LOAD makes its constructor start nothing (attach.c does, when called).
RECORDER_ATTACH := $(BUILD)/libheapdiff-attach.so
RECORDER_ATTACH_CFLAGS := $(filter-out -ftls-model=initial-exec,$(RECORDER_CFLAGS)) -ftls-model=global-dynamic \
	'-Dtls_model(model)=tls_model("global-dynamic")' -DHD_LATE_LOAD

# `make`: the optimized CLI (Swift runtime linked in, so the installed tool
# does not depend on the toolchain's location), its man pages and completions.
# `make install` copies them into PREFIX and builds nothing that is up to date,
# so `sudo make install` after `make` leaves no root-owned build files.
PREFIX ?= /usr/local
RELEASE_FLAGS := -c release -Xswiftc -static-stdlib
RELEASE_DIR := .build/release
RELEASE_CLI := $(RELEASE_DIR)/heapdiff
SWIFT_SOURCES := Package.swift $(shell find Sources -name '*.swift' -o -name '*.h' -o -name '*.c' -o -name '*.modulemap')
MANUALS := $(BUILD)/share/man/man1
COMPLETIONS := $(BUILD)/share/completions

.PHONY: all setup recorder cli release install demo test test-pytest test-install bench bench-analysis bench-leaks \
	bench-trend bench-python bench-sizes bench-callgrind bench-sampled bench-sampled-callgrind fuzz clean

all: $(RELEASE_CLI) $(MANUALS)/heapdiff.1 $(COMPLETIONS)/heapdiff.bash

setup:
	@scripts/setup.sh

$(RECORDER): $(RECORDER_SRC) $(RECORDER_HDR) | setup
	@mkdir -p $(BUILD)
	$(CC) $(RECORDER_CFLAGS) $(RECORDER_LDFLAGS) -o $@ $(RECORDER_SRC) $(RECORDER_LIBS)

$(RECORDER_ATTACH): $(RECORDER_SRC) $(RECORDER_HDR) | setup
	@mkdir -p $(BUILD)
	$(CC) $(RECORDER_ATTACH_CFLAGS) $(RECORDER_LDFLAGS) -o $@ $(RECORDER_SRC) $(RECORDER_LIBS)
	@if readelf -d $@ | grep -q STATIC_TLS; then echo "$@ needs static TLS: it could not be dlopen'ed late" >&2; rm -f $@; exit 1; fi

recorder: $(RECORDER) $(RECORDER_ATTACH)

# heapdiff finds libheapdiff.so beside its own executable. Copied as a new
# file (--remove-destination), never written over the old one in place: a
# program still recording with it has it mapped, and would crash.
cli: $(RECORDER) $(RECORDER_ATTACH)
	$(SWIFT) build
	cp --remove-destination $(RECORDER) $(RECORDER_ATTACH) "$$($(SWIFT) build --show-bin-path)/"

release: $(RELEASE_CLI)

# All products (no tests), as the manual plugin builds them: it then builds nothing more.
$(RELEASE_CLI): $(RECORDER) $(RECORDER_ATTACH) $(SWIFT_SOURCES)
	$(SWIFT) build $(RELEASE_FLAGS)
	cp --remove-destination $(RECORDER) $(RECORDER_ATTACH) $(RELEASE_DIR)/   # (see cli)
	@touch $@  # newer than its sources even when SwiftPM had nothing to relink

# One man page per command, by swift-argument-parser's GenerateManual plugin.
$(MANUALS)/heapdiff.1: $(RELEASE_CLI)
	@rm -rf .build/plugins/GenerateManual/outputs/heapdiff
	$(SWIFT) package $(RELEASE_FLAGS) generate-manual --multi-page
	@rm -rf $(MANUALS) && mkdir -p $(MANUALS)
	cp .build/plugins/GenerateManual/outputs/heapdiff/*.1 $(MANUALS)/

# Shell completions, written by the CLI itself (swift-argument-parser).
$(COMPLETIONS)/heapdiff.bash: $(RELEASE_CLI)
	@mkdir -p $(COMPLETIONS)
	$(RELEASE_CLI) --generate-completion-script zsh > $(COMPLETIONS)/_heapdiff
	$(RELEASE_CLI) --generate-completion-script fish > $(COMPLETIONS)/heapdiff.fish
	$(RELEASE_CLI) --generate-completion-script bash > $@

install: all
	@scripts/install.sh "$(DESTDIR)$(PREFIX)" $(RELEASE_CLI) $(RECORDER) $(RECORDER_ATTACH) $(MANUALS) $(COMPLETIONS)

demo: cli
	@Examples/demo/run-demo.sh "$$($(SWIFT) build --show-bin-path)/heapdiff"

# The tests drive the optimized tool, as users run it: it symbolizes each
# pytest-heapdiff leak test's snapshots about ten times faster than a debug build.
test: cli $(RELEASE_CLI)
	@scripts/setup.sh test
	scripts/check-layers.py
	HEAPDIFF_LIBRARY=$(CURDIR)/$(RECORDER) HEAPDIFF_CLI=$(CURDIR)/$(RELEASE_CLI) $(SWIFT) test
	$(MAKE) test-pytest test-install

# pytest-heapdiff's own suite on each CPython whose frames heapdiff reads,
# each in a venv under build/ (scripts/python-venv.sh).
PYENV_ROOT ?= $(HOME)/.pyenv
PYTEST_PYTHONS := /usr/bin/python3.11 $(firstword $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python3.12))
test-pytest: $(RELEASE_CLI)
	@[ $(words $(PYTEST_PYTHONS)) -eq 2 ] || { echo "test-pytest: needs CPython 3.12 from pyenv (pyenv install 3.12.1)" >&2; exit 1; }
	@for python in $(PYTEST_PYTHONS); do \
	  version=$$($$python -c 'import sys; print("%d.%d" % sys.version_info[:2])') && \
	  scripts/python-venv.sh $$python $$version && \
	  echo "pytest-heapdiff on $$python" && \
	  HEAPDIFF_CLI=$(CURDIR)/$(RELEASE_CLI) \
	    $(BUILD)/venv-$$version/bin/python -m pytest -q -p no:cacheprovider Integrations/pytest-heapdiff/tests \
	    || exit 1; \
	done

# make install into a temporary prefix, then the installed tool used from elsewhere.
test-install:
	@scripts/test-install.sh

bench: cli
	@Benchmarks/run.sh "$$($(SWIFT) build --show-bin-path)/heapdiff" $(CURDIR)/$(RECORDER)

# The analyzer on two big snapshots (~200,000 distinct stacks each) of a
# generated program with full DWARF; appends the timing to Benchmarks/ANALYSIS.md.
bench-analysis: $(RECORDER)
	$(SWIFT) build -c release --scratch-path .build-b
	@Benchmarks/analysis/run.sh "$$($(SWIFT) build -c release --scratch-path .build-b --show-bin-path)/heapdiff" $(CURDIR)/$(RECORDER)

# Sampled recording (HEAPDIFF_SAMPLE=512KiB) beside full recording, the bare
# program and jemalloc's sampled profiler; replaces that section of RESULTS.md.
bench-sampled: cli
	@Benchmarks/sampled.sh "$$($(SWIFT) build --show-bin-path)/heapdiff" $(CURDIR)/$(RECORDER)

# Only the callgrind part of bench-sampled (instructions per allocation by part,
# every allocation and sampled), which load does not move: replaces that
# subsection, the last of RESULTS.md.
bench-sampled-callgrind: $(RECORDER)
	@out="$$(mktemp)" && Benchmarks/callgrind/sampled.sh $(CURDIR)/$(RECORDER) "$$out" && \
	  python3 -c 'import sys; results, new = sys.argv[1], open(sys.argv[2]).read(); text = open(results).read(); \
	    marker = "### Instructions per allocation (callgrind), every allocation and sampled"; \
	    assert marker in text, results + ": no callgrind subsection to replace (run make bench-sampled)"; \
	    open(results, "w").write(text[:text.index(marker)] + new)' Benchmarks/RESULTS.md "$$out" && \
	  rm -f "$$out" && echo "wrote the sampled callgrind subsection of Benchmarks/RESULTS.md"

# A Python service loop bare, under heapdiff, heaptrack and memray; writes Benchmarks/PYTHON.md.
bench-python: cli
	@Benchmarks/python-service/run.sh "$$($(SWIFT) build --show-bin-path)/heapdiff" $(CURDIR)/$(RECORDER)

# Snapshot sizes and write times, format 1 beside format 2, with heaptrack's
# and memray's output sizes, native and Python workloads; writes Benchmarks/SIZES.md.
bench-sizes: cli
	@Benchmarks/sizes.sh "$$($(SWIFT) build --show-bin-path)/heapdiff" $(CURDIR)/$(RECORDER)

# Instructions per allocation by part of the recorder (callgrind), beside an
# older recorder (BASELINE=commit); writes Benchmarks/CALLGRIND.md.
bench-callgrind: $(RECORDER)
	@Benchmarks/callgrind/run.sh $(CURDIR)/$(RECORDER)

# heapdiff trend over 500 snapshots of 20,000 stacks (release build).
bench-trend: $(RECORDER)
	$(SWIFT) build -c release --product heapdiff
	@Benchmarks/analysis/trend.sh "$$($(SWIFT) build -c release --show-bin-path)/heapdiff" $(CURDIR)/$(RECORDER)

# libFuzzer over the snapshot reader for FUZZ_SECONDS; fails on any crash,
# trap, hang or leak, leaving the input in build/fuzz/. The corpus grows in
# build/fuzz/corpus from the seeds in Fuzz/corpus, small real snapshots.
FUZZ_SECONDS ?= 60
FUZZ_SCRATCH := .build-fuzz
FUZZ_FLAGS := -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -use-ld=lld
fuzz:
	HEAPDIFF_FUZZ=1 $(SWIFT) build --scratch-path $(FUZZ_SCRATCH) --product FuzzSnapshotReader $(FUZZ_FLAGS)
	@mkdir -p $(BUILD)/fuzz/corpus
	cp Fuzz/corpus/* $(BUILD)/fuzz/corpus/
	"$$(HEAPDIFF_FUZZ=1 $(SWIFT) build --scratch-path $(FUZZ_SCRATCH) --show-bin-path)/FuzzSnapshotReader" \
		-max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -max_len=16384 \
		-artifact_prefix=$(BUILD)/fuzz/ -print_final_stats=1 $(BUILD)/fuzz/corpus

# Every leak scenario under `heapdiff check`, judged against its own marks.
bench-leaks: $(RELEASE_CLI)
	python3 Benchmarks/leaks/run.py $(CURDIR)/$(RELEASE_CLI) $(BUILD)/leaks

clean:
	rm -rf $(BUILD)
	$(SWIFT) package clean
