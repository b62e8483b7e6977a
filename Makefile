# heapdiff: `make demo` and `make test` set up everything on a fresh
# Debian/Ubuntu machine that has the Swift toolchain.

CC ?= cc
SWIFT ?= swift
BUILD := build
RECORDER_SRC := $(wildcard Sources/HeapDiffRecorder/*.c)
RECORDER_HDR := $(wildcard Sources/HeapDiffRecorder/*.h Sources/HeapDiffRecorder/include/*.h)
RECORDER := $(BUILD)/libheapdiff.so
# The preload library: C11, libc + libunwind only, never the Swift runtime.
RECORDER_CFLAGS := -std=c11 -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra -Werror \
	-fno-omit-frame-pointer -ftls-model=initial-exec -ISources/HeapDiffRecorder/include
RECORDER_LDFLAGS := -shared -Wl,-z,now -Wl,--as-needed
RECORDER_LIBS := -lunwind -ldl -lpthread

.PHONY: all setup recorder cli demo test bench clean

all: cli

setup:
	@scripts/setup.sh

$(RECORDER): $(RECORDER_SRC) $(RECORDER_HDR) | setup
	@mkdir -p $(BUILD)
	$(CC) $(RECORDER_CFLAGS) $(RECORDER_LDFLAGS) -o $@ $(RECORDER_SRC) $(RECORDER_LIBS)

recorder: $(RECORDER)

# heapdiff finds libheapdiff.so beside its own executable.
cli: $(RECORDER)
	$(SWIFT) build
	cp $(RECORDER) "$$($(SWIFT) build --show-bin-path)/libheapdiff.so"

demo: cli
	@Examples/demo/run-demo.sh "$$($(SWIFT) build --show-bin-path)/heapdiff"

test: cli
	HEAPDIFF_LIBRARY=$(CURDIR)/$(RECORDER) HEAPDIFF_CLI="$$($(SWIFT) build --show-bin-path)/heapdiff" $(SWIFT) test

bench: cli
	@Benchmarks/run.sh "$$($(SWIFT) build --show-bin-path)/heapdiff" $(CURDIR)/$(RECORDER)

clean:
	rm -rf $(BUILD)
	$(SWIFT) package clean
