/*
 * heapdiff snapshot file format, version 1: the single source of truth.
 *
 * The recorder (C) writes it and the analyzer (Swift, module CHeapDiffFormat)
 * reads it; docs/FORMAT.md explains it in prose. Change a layout here, bump
 * HD_FORMAT_VERSION and update docs/FORMAT.md in the same commit.
 *
 * All integers are little-endian and unaligned. A file is:
 *   file header (HD_FILE_HEADER_SIZE bytes)
 *   records: each a record header {u32 type, u32 payload_length} + payload
 *     exactly one PROCESS record, first
 *     MODULE records (one per loaded ELF object)
 *     PYTHON record (only when the process is a CPython interpreter)
 *     PYCODE records (Python code objects that TRACE frames refer to)
 *     TRACE records (one per distinct call stack)
 *   END record, last, ending exactly at end of file.
 * Readers skip records of unknown type (their length says how far).
 */
#ifndef HEAPDIFF_FORMAT_H
#define HEAPDIFF_FORMAT_H

#include <stdint.h>
#include <stddef.h>

/* ---- file header ---------------------------------------------------- */
#define HD_MAGIC "HEAPSNAP"           /* 8 bytes, no terminator on disk */
enum {
    HD_MAGIC_SIZE = 8,
    HD_FORMAT_VERSION = 1,
    /* magic[8], u32 version, u32 header_size */
    HD_FILE_HEADER_SIZE = 16,
    HD_FILE_HEADER_VERSION_OFFSET = 8,
    HD_FILE_HEADER_SIZE_OFFSET = 12,
};

/* ---- records --------------------------------------------------------- */
enum {
    HD_RECORD_HEADER_SIZE = 8,         /* u32 type, u32 payload length */
    HD_RECORD_PROCESS = 1,
    HD_RECORD_MODULE = 2,
    HD_RECORD_TRACE = 3,
    HD_RECORD_PYTHON = 4,
    HD_RECORD_PYCODE = 5,
    HD_RECORD_END = 0x454e44,          /* "END" */
};

/* What made the recorder take a snapshot (PROCESS.trigger). */
enum {
    HD_TRIGGER_API = 1,                /* heapdiff_snapshot() from the program */
    HD_TRIGGER_SIGNAL = 2,             /* from outside: `heapdiff snapshot PID`, or HEAPDIFF_SIGNAL */
    HD_TRIGGER_INTERVAL = 3,           /* every HEAPDIFF_INTERVAL seconds */
    HD_TRIGGER_EXIT = 4,               /* process exit, or ending itself with a signal */
};

/*
 * PROCESS payload: fixed part, then three strings, each u32 length + bytes
 * (no terminator): program path, label, command line (arguments separated
 * by NUL bytes, as in /proc/PID/cmdline).
 */
enum {
    HD_PROCESS_PID = 0,                /* u32 */
    HD_PROCESS_PPID = 4,               /* u32 */
    HD_PROCESS_SEQ = 8,                /* u32, from 1 in the order taken, per process */
    HD_PROCESS_TRIGGER = 12,           /* u32, HD_TRIGGER_* */
    HD_PROCESS_WALL_NS = 16,           /* u64, CLOCK_REALTIME at the snapshot */
    HD_PROCESS_MONO_NS = 24,           /* u64, CLOCK_MONOTONIC at the snapshot */
    HD_PROCESS_START_MONO_NS = 32,     /* u64, CLOCK_MONOTONIC when recording began */
    HD_PROCESS_RSS = 40,               /* u64 bytes, VmRSS */
    HD_PROCESS_PEAK_RSS = 48,          /* u64 bytes, VmHWM */
    HD_PROCESS_LIVE_BYTES = 56,        /* u64 */
    HD_PROCESS_LIVE_COUNT = 64,        /* u64 */
    HD_PROCESS_ALLOC_BYTES = 72,       /* u64, all allocations since start */
    HD_PROCESS_ALLOC_COUNT = 80,       /* u64 */
    HD_PROCESS_FREE_BYTES = 88,        /* u64, all frees of traced blocks since start */
    HD_PROCESS_FREE_COUNT = 96,        /* u64 */
    HD_PROCESS_PEAK_LIVE_BYTES = 104,  /* u64 */
    HD_PROCESS_DEPTH = 112,            /* u32, HEAPDIFF_DEPTH in force */
    HD_PROCESS_FLAGS = 116,            /* u32, HD_PROCESS_FLAG_* */
    HD_PROCESS_FIXED_SIZE = 120,
};
enum {
    /* some stacks could not be interned (trace table full): their blocks
     * are counted in the totals but not in any TRACE record */
    HD_PROCESS_FLAG_TRACES_DROPPED = 1u << 0,
    /* a CPython process whose interpreter had begun tearing down its objects
     * (Py_FinalizeEx): the live heap no longer shows what the program held */
    HD_PROCESS_FLAG_PYTHON_FINALIZING = 1u << 1,
};

/*
 * MODULE payload: fixed part, then path (u32 length + bytes), build-id
 * (u32 length + raw bytes, length 0 when the object has none), then
 * range_count executable ranges of {u64 start, u64 end} (runtime addresses,
 * end exclusive).
 * A frame address belongs to the module whose range contains it; its
 * file-relative address (what a symbolizer looks up) is address - load_bias.
 */
enum {
    HD_MODULE_INDEX = 0,               /* u32, position in this file's module list */
    HD_MODULE_RANGE_COUNT = 4,         /* u32 */
    HD_MODULE_LOAD_BIAS = 8,           /* u64, dlpi_addr */
    HD_MODULE_FIXED_SIZE = 16,
    HD_MODULE_RANGE_SIZE = 16,
};

/*
 * TRACE payload: fixed part, then frame_count u64 frames, innermost first
 * (frame 0 is the code that called the allocator; the recorder's own frames
 * are already skipped). A frame is a native return address, or, in a CPython
 * process, a Python frame: HD_PYFRAME_TAG in the top byte (never a user-space
 * address), the PYCODE id in the next 24 bits and the index of the
 * instruction being executed (in 2-byte code units) in the low 32 bits.
 * Python frames are merged into the native stack by the recorder: the Python
 * frames an eval-loop invocation runs follow that invocation's native frame.
 */
enum {
    HD_TRACE_LIVE_BYTES = 0,           /* u64 */
    HD_TRACE_LIVE_COUNT = 8,           /* u64 */
    HD_TRACE_ALLOC_BYTES = 16,         /* u64, since start */
    HD_TRACE_ALLOC_COUNT = 24,         /* u64, since start */
    HD_TRACE_FRAME_COUNT = 32,         /* u32 */
    HD_TRACE_FLAGS = 36,               /* u32, HD_TRACE_FLAG_* */
    HD_TRACE_FIXED_SIZE = 40,
    HD_TRACE_MAX_FRAMES = 256,
};
enum {
    HD_TRACE_FLAG_TRUNCATED = 1u << 0, /* the stack was deeper than HEAPDIFF_DEPTH */
    /* Python stack: native frames outside the innermost eval-loop frame (or
     * beyond the innermost 8 in native code deeper than 20 frames) were not unwound
     * (HEAPDIFF_PYTHON_NATIVE=inner, the default); every Python frame is
     * still there, after the native frames kept */
    HD_TRACE_FLAG_NATIVE_OUTER_OMITTED = 1u << 1,
};
#define HD_PYFRAME_TAG 0xFEull
#define HD_PYFRAME_IS(frame) (((uint64_t)(frame) >> 56) == HD_PYFRAME_TAG)
#define HD_PYFRAME_MAKE(code_id, instr) \
    ((HD_PYFRAME_TAG << 56) | ((uint64_t)((code_id) & 0xFFFFFFu) << 32) | (uint32_t)(instr))
#define HD_PYFRAME_CODE(frame) ((uint32_t)(((uint64_t)(frame) >> 32) & 0xFFFFFFu))
#define HD_PYFRAME_INSTR(frame) ((uint32_t)(frame))
enum { HD_PYCODE_MAX_ID = 0xFFFFFF };

/*
 * PYTHON payload: u32 hexversion (PY_VERSION_HEX of the interpreter, e.g.
 * 0x030b07f0), u32 reserved (0). Tells the reader how to decode line tables.
 */
enum {
    HD_PYTHON_HEXVERSION = 0,
    HD_PYTHON_RESERVED = 4,
    HD_PYTHON_SIZE = 8,
};

/*
 * PYCODE payload: fixed part, then three strings, each u32 length + bytes:
 * file name (co_filename), qualified function name (co_qualname) and the
 * code object's line table (co_linetable, raw bytes). The line of a Python
 * frame is the line table's entry for byte offset 2 * instruction index.
 * Ids are unique within a process; a code object that died and whose
 * address was reused by a new one gets a new id.
 */
enum {
    HD_PYCODE_ID = 0,                  /* u32 */
    HD_PYCODE_FIRST_LINE = 4,          /* u32, co_firstlineno */
    HD_PYCODE_FIXED_SIZE = 8,
};

/*
 * END payload: u64 number of records before END, u32 CRC-32 (IEEE 802.3,
 * as zlib's crc32) of every byte of the file before the END record header,
 * u32 reserved (0).
 */
enum {
    HD_END_RECORD_COUNT = 0,
    HD_END_CRC32 = 8,
    HD_END_RESERVED = 12,
    HD_END_SIZE = 16,
};

/* Upper bounds a reader enforces before trusting a length. */
enum {
    HD_MAX_STRING = 1 << 20,
    HD_MAX_BUILD_ID = 64,
    HD_MAX_RANGES = 64,
};

/* CRC-32 shared by writer and reader so both agree bit for bit. */
uint32_t hd_crc32_update(uint32_t crc, const void *data, size_t length);

#endif /* HEAPDIFF_FORMAT_H */
