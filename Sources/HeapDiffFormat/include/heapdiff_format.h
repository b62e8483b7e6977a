/*
 * heapdiff snapshot file format: the single source of truth.
 *
 * The recorder (C) writes it with these offsets and helpers, and the analyzer
 * (Swift, module HeapDiffFormat) reads it with the same ones; docs/FORMAT.md
 * explains it in prose.
 *
 * Versioning (docs/FORMAT.md, "Versioning"):
 *   - HD_FORMAT_MINOR counts additive changes to the current version: a new
 *     record type, a field appended at the end of a payload, a per-stack
 *     field appended to STACKS entries. A reader accepts every minor of a
 *     version it knows and reads the part it knows.
 *   - HD_FORMAT_VERSION changes when a layout changes in a way an older
 *     reader would misread. Readers keep reading every older version.
 * Change a layout here and in docs/FORMAT.md in the same commit.
 *
 * All fixed-width integers are little-endian and unaligned. A file is:
 *   file header (HD_FILE_HEADER_SIZE bytes, or HD_FILE_HEADER_SIZE_V1)
 *   records: each a record header {u32 type, u32 payload_length} + payload
 *     exactly one PROCESS record, first
 *     MODULE records (one per loaded ELF object)
 *     PYTHON record (only when the process is a CPython interpreter)
 *     version 2: CODES, FRAMES, NODES, STACKS records, in that order
 *     version 1: PYCODE records, then TRACE records
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
    HD_FORMAT_V1 = 1,                  /* flat stacks, one TRACE record each */
    HD_FORMAT_V2 = 2,                  /* stacks as a prefix tree, varints */
    HD_FORMAT_VERSION = HD_FORMAT_V2,  /* what the recorder writes */
    /* additive changes to HD_FORMAT_VERSION: 1 added the sampling rate
     * (PROCESS tail) and each stack's sample counts (STACKS fields 6, 7) */
    HD_FORMAT_MINOR = 1,
    /* magic[8], u32 version, u32 header_size, then from version 2 u32 minor */
    HD_FILE_HEADER_VERSION_OFFSET = 8,
    HD_FILE_HEADER_SIZE_OFFSET = 12,
    HD_FILE_HEADER_MINOR_OFFSET = 16,
    HD_FILE_HEADER_SIZE_V1 = 16,
    HD_FILE_HEADER_SIZE = 20,
};

/* ---- records --------------------------------------------------------- */
enum {
    HD_RECORD_TYPE_OFFSET = 0,         /* u32 */
    HD_RECORD_LENGTH_OFFSET = 4,       /* u32, of the payload that follows */
    HD_RECORD_HEADER_SIZE = 8,
    HD_RECORD_PROCESS = 1,
    HD_RECORD_MODULE = 2,
    HD_RECORD_TRACE = 3,               /* version 1 only */
    HD_RECORD_PYTHON = 4,
    HD_RECORD_PYCODE = 5,              /* version 1 only */
    HD_RECORD_CODES = 6,               /* version 2 */
    HD_RECORD_FRAMES = 7,              /* version 2 */
    HD_RECORD_NODES = 8,               /* version 2 */
    HD_RECORD_STACKS = 9,              /* version 2 */
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
 * PROCESS payload (every version): fixed part, then three strings, each u32
 * length + bytes (no terminator): program path, label, command line
 * (arguments separated by NUL bytes, as in /proc/PID/cmdline); from version
 * 2 minor 1 a tail follows the strings (HD_PROCESS_TAIL_*, offsets from the
 * tail's start). A reader of an older file, or of a file with a shorter
 * tail, takes every tail field it lacks as 0.
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
    /* Sampling (HEAPDIFF_SAMPLE): the mean number of bytes between two sample
     * points, 0 when every allocation is recorded. When it is not 0, every
     * block of at least this many bytes is recorded exactly, smaller ones by
     * sample points: per-stack and live figures are unbiased estimates
     * (docs/FORMAT.md, "Sampled snapshots"); the allocation totals
     * (HD_PROCESS_ALLOC_BYTES, _COUNT) still count every allocation. */
    HD_PROCESS_TAIL_SAMPLE_RATE = 0,   /* u64 bytes */
    /* sample points of the live blocks recorded by sampling, over every
     * stack (those dropped too): the standard error of the live bytes is
     * rate x sqrt(this) */
    HD_PROCESS_TAIL_LIVE_SAMPLES = 8,  /* u64 */
    HD_PROCESS_TAIL_SIZE = 16,
};
enum {
    /* some stacks could not be interned (trace table full): their blocks
     * are counted in the totals but not in any stack */
    HD_PROCESS_FLAG_TRACES_DROPPED = 1u << 0,
    /* a CPython process whose interpreter had begun tearing down its objects
     * (Py_FinalizeEx): the live heap no longer shows what the program held */
    HD_PROCESS_FLAG_PYTHON_FINALIZING = 1u << 1,
    /* every stack ever allocated from is in the file, those whose blocks
     * were all freed too, so the allocation totals add up to the whole run.
     * Version 2 writes them only in exit snapshots (other snapshots carry
     * the stacks with live blocks); every version-1 file has them all. */
    HD_PROCESS_FLAG_EVERY_STACK = 1u << 2,
};

/*
 * MODULE payload (every version): fixed part, then path (u32 length +
 * bytes), build-id (u32 length + raw bytes, length 0 when the object has
 * none), then range_count executable ranges of {u64 start, u64 end}
 * (runtime addresses, end exclusive).
 * A frame address belongs to the module whose range contains it; its
 * file-relative address (what a symbolizer looks up) is address - load_bias.
 */
enum {
    HD_MODULE_INDEX = 0,               /* u32, position in this file's module list */
    HD_MODULE_RANGE_COUNT = 4,         /* u32 */
    HD_MODULE_LOAD_BIAS = 8,           /* u64, dlpi_addr */
    HD_MODULE_FIXED_SIZE = 16,
    /* one executable range */
    HD_MODULE_RANGE_START = 0,         /* u64 */
    HD_MODULE_RANGE_END = 8,           /* u64, exclusive */
    HD_MODULE_RANGE_SIZE = 16,
};

/* The strings of PROCESS, MODULE and PYCODE: a u32 byte count, then the
 * bytes (no terminator). */
enum { HD_STRING_LENGTH_SIZE = 4 };

/*
 * A frame is a native return address, or, in a CPython process, a Python
 * frame: HD_PYFRAME_TAG in the top byte (never a user-space address), the
 * code object's id in the next 24 bits and the index of the instruction
 * being executed (in 2-byte code units) in the low 32 bits. Stacks are
 * innermost first; Python frames are merged into the native stack by the
 * recorder: the Python frames an eval-loop invocation runs follow that
 * invocation's native frame.
 */
#define HD_PYFRAME_TAG 0xFEull
enum { HD_PYCODE_MAX_ID = 0xFFFFFF };
static inline int hd_pyframe_is(uint64_t frame) {
    return (frame >> 56) == HD_PYFRAME_TAG;
}
static inline uint64_t hd_pyframe_make(uint32_t code_id, uint32_t instruction) {
    return (HD_PYFRAME_TAG << 56) | ((uint64_t)(code_id & HD_PYCODE_MAX_ID) << 32) | instruction;
}
static inline uint32_t hd_pyframe_code(uint64_t frame) {
    return (uint32_t)((frame >> 32) & HD_PYCODE_MAX_ID);
}
static inline uint32_t hd_pyframe_instruction(uint64_t frame) {
    return (uint32_t)frame;
}
/* The recorder's older spelling of the same helpers. */
#define HD_PYFRAME_IS(frame) hd_pyframe_is((uint64_t)(frame))
#define HD_PYFRAME_MAKE(code_id, instr) hd_pyframe_make((uint32_t)(code_id), (uint32_t)(instr))
#define HD_PYFRAME_CODE(frame) hd_pyframe_code((uint64_t)(frame))
#define HD_PYFRAME_INSTR(frame) hd_pyframe_instruction((uint64_t)(frame))

/* Per-stack flags (TRACE.flags in version 1, STACKS' flags field in 2). */
enum {
    HD_TRACE_FLAG_TRUNCATED = 1u << 0, /* the stack was deeper than HEAPDIFF_DEPTH */
    /* Python stack: native frames outside the innermost eval-loop frame (or
     * beyond the innermost 8 in native code deeper than 20 frames) were not unwound
     * (HEAPDIFF_PYTHON_NATIVE=inner, the default); every Python frame is
     * still there, after the native frames kept */
    HD_TRACE_FLAG_NATIVE_OUTER_OMITTED = 1u << 1,
};
enum { HD_TRACE_MAX_FRAMES = 256 };    /* frames in one stack, every version */

/*
 * PYTHON payload (every version): u32 hexversion (PY_VERSION_HEX of the
 * interpreter, e.g. 0x030b07f0), u32 reserved (0). Tells the reader how to
 * decode line tables.
 */
enum {
    HD_PYTHON_HEXVERSION = 0,
    HD_PYTHON_RESERVED = 4,
    HD_PYTHON_SIZE = 8,
};

/* ==== version 2 ======================================================= */

/*
 * Variable-length integers (LEB128): 7 bits per byte, least significant
 * first, the high bit set on every byte but the last; at most 10 bytes for
 * a u64. Signed values are zigzag-mapped first (0, -1, 1, -2 -> 0, 1, 2, 3).
 */
enum { HD_VARINT_MAX = 10 };
static inline size_t hd_varint_put(unsigned char *out, uint64_t value) {
    size_t n = 0;
    while (value >= 0x80) {
        out[n++] = (unsigned char)(value | 0x80);
        value >>= 7;
    }
    out[n++] = (unsigned char)value;
    return n;
}
/* Decodes one varint from at most `available` bytes; returns its length, or
 * 0 when it runs past them, is longer than 10 bytes or exceeds 64 bits. */
static inline size_t hd_varint_get(const unsigned char *in, size_t available, uint64_t *value) {
    uint64_t result = 0;
    for (size_t n = 0; n < available && n < HD_VARINT_MAX; n++) {
        uint64_t bits = in[n] & 0x7F;
        if (n == HD_VARINT_MAX - 1 && bits > 1)
            return 0;
        result |= bits << (7 * n);
        if (!(in[n] & 0x80)) {
            *value = result;
            return n + 1;
        }
    }
    return 0;
}
static inline uint64_t hd_zigzag(int64_t value) {
    return ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
}
static inline int64_t hd_unzigzag(uint64_t value) {
    return (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
}

/*
 * Tables of version 2 are split into records of at most about
 * HD_TABLE_RECORD_BYTES bytes, so neither side needs a whole table in one
 * piece; numbering continues from one record of a table to the next.
 * Every payload starts with a varint entry count.
 *
 * CODES: the Python code objects that some frame of this file names, each
 * once. Per entry: varint id, varint co_firstlineno (zigzag), varint file
 * reference (0: a new file name follows as varint length + bytes and becomes
 * file N+1 of this file; N > 0: the N-th file name given so far), varint
 * length + bytes of co_qualname, varint length + bytes of the line table as
 * the interpreter keeps it (co_linetable, raw).
 *
 * FRAMES: the distinct frames of this file's stacks, ascending. Per entry:
 * varint difference from the previous frame of the same record (the first
 * from 0). Frame i is the i-th of the file, from 0.
 *
 * NODES: the prefix tree of the stacks. Node 0 is the root, the empty
 * stack; node i (from 1, the i-th of the file) is a frame and its parent,
 * the node of the stack's next frame outward. Per entry: varint frame
 * index, varint (i - parent), at least 1: a parent always comes first. A
 * stack is its innermost frame's node; walking parents to the root gives
 * its frames, innermost first.
 *
 * STACKS: per distinct stack (with live blocks, or every one when the
 * PROCESS flag HD_PROCESS_FLAG_EVERY_STACK is set), after the entry count a
 * varint field count F, then per entry F varints, in HD_STACK_FIELD_*
 * order. F is at least HD_STACK_FIELDS_MIN (minor 0's); the recorder writes
 * HD_STACK_FIELDS_SAMPLED when sampling, else HD_STACK_FIELDS_MIN (the
 * sample counts of an exact recording are 0). Later minors append fields;
 * readers skip those they do not know, and take those a file lacks as 0.
 */
enum {
    HD_TABLE_RECORD_BYTES = 64 * 1024,
    HD_STACK_FIELD_NODE = 0,           /* zigzag(node - previous entry's node), from node 0 */
    HD_STACK_FIELD_FLAGS = 1,          /* HD_TRACE_FLAG_* */
    HD_STACK_FIELD_LIVE_BYTES = 2,
    HD_STACK_FIELD_LIVE_COUNT = 3,
    HD_STACK_FIELD_ALLOC_BYTES = 4,    /* allocated from this stack since start */
    HD_STACK_FIELD_ALLOC_COUNT = 5,
    HD_STACK_FIELDS_MIN = 6,           /* every minor has these */
    /* minor 1: sample points of the stack's live blocks recorded by
     * sampling (those under the rate), and of every block it allocated so
     * (a cumulative count, as ALLOC_BYTES is) */
    HD_STACK_FIELD_LIVE_SAMPLES = 6,
    HD_STACK_FIELD_ALLOC_SAMPLES = 7,
    HD_STACK_FIELDS_SAMPLED = 8,
    HD_STACK_FIELDS = HD_STACK_FIELDS_SAMPLED,   /* the fields this minor defines */
};

/* ==== version 1 ======================================================= */

/*
 * TRACE payload: fixed part, then frame_count u64 frames, innermost first
 * (frame 0 is the code that called the allocator; the recorder's own frames
 * are already skipped). One record per distinct stack, freed-out ones too.
 */
enum {
    HD_TRACE_LIVE_BYTES = 0,           /* u64 */
    HD_TRACE_LIVE_COUNT = 8,           /* u64 */
    HD_TRACE_ALLOC_BYTES = 16,         /* u64, since start */
    HD_TRACE_ALLOC_COUNT = 24,         /* u64, since start */
    HD_TRACE_FRAME_COUNT = 32,         /* u32 */
    HD_TRACE_FLAGS = 36,               /* u32, HD_TRACE_FLAG_* */
    HD_TRACE_FIXED_SIZE = 40,
    HD_TRACE_FRAME_SIZE = 8,
};

/*
 * PYCODE payload: fixed part, then three strings, each u32 length + bytes:
 * file name (co_filename), qualified function name (co_qualname) and the
 * code object's line table (co_linetable, raw bytes). One record per code
 * object seen so far in the process. Ids are unique within a process; a
 * code object that died and whose address was reused gets a new id.
 */
enum {
    HD_PYCODE_ID = 0,                  /* u32 */
    HD_PYCODE_FIRST_LINE = 4,          /* u32, co_firstlineno */
    HD_PYCODE_FIXED_SIZE = 8,
};

/* ==== every version =================================================== */

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

/* The layouts above, checked where they are defined. */
_Static_assert(HD_FILE_HEADER_SIZE_V1 == HD_FILE_HEADER_SIZE_OFFSET + 4, "v1 header: magic, version, size");
_Static_assert(HD_FILE_HEADER_SIZE == HD_FILE_HEADER_MINOR_OFFSET + 4, "v2 header adds the minor");
_Static_assert(HD_RECORD_HEADER_SIZE == HD_RECORD_LENGTH_OFFSET + 4, "record header: type, length");
_Static_assert(HD_PROCESS_FIXED_SIZE == HD_PROCESS_FLAGS + 4, "PROCESS fixed part ends with flags");
_Static_assert(HD_PROCESS_DEPTH == HD_PROCESS_PEAK_LIVE_BYTES + 8, "PROCESS fields are contiguous");
_Static_assert(HD_MODULE_FIXED_SIZE == HD_MODULE_LOAD_BIAS + 8, "MODULE fixed part ends with the bias");
_Static_assert(HD_MODULE_RANGE_SIZE == HD_MODULE_RANGE_END + 8, "MODULE range: start, end");
_Static_assert(HD_TRACE_FIXED_SIZE == HD_TRACE_FLAGS + 4, "TRACE fixed part ends with flags");
_Static_assert(HD_PYCODE_FIXED_SIZE == HD_PYCODE_FIRST_LINE + 4, "PYCODE fixed part");
_Static_assert(HD_PYTHON_SIZE == HD_PYTHON_RESERVED + 4, "PYTHON payload");
_Static_assert(HD_END_SIZE == HD_END_RESERVED + 4, "END payload");
_Static_assert(HD_STACK_FIELDS_MIN == HD_STACK_FIELD_ALLOC_COUNT + 1, "STACKS fields of minor 0");
_Static_assert(HD_STACK_FIELDS_SAMPLED == HD_STACK_FIELD_ALLOC_SAMPLES + 1, "STACKS fields of minor 1");
_Static_assert(HD_PROCESS_TAIL_SIZE == HD_PROCESS_TAIL_LIVE_SAMPLES + 8, "PROCESS tail of minor 1");

/* CRC-32 shared by writer and reader so both agree bit for bit. */
uint32_t hd_crc32_update(uint32_t crc, const void *data, size_t length);

#endif /* HEAPDIFF_FORMAT_H */
