import HeapDiffFormat

/// The on-disk layout from `heapdiff_format.h`, converted once to Swift types.
///
/// The C header is the single source of truth shared with the recorder; this
/// enum only renames its constants so the reader reads naturally. No value is
/// restated here.
enum FormatLayout {
    static let magic: [UInt8] = Array(HD_MAGIC.utf8)
    /// The version the recorder writes, the newest this reader knows.
    static let version = UInt32(HD_FORMAT_VERSION)
    /// The newest minor of `version` this reader knows; it reads newer ones
    /// too, skipping what they added.
    static let minor = UInt32(HD_FORMAT_MINOR)
    static let version1 = UInt32(HD_FORMAT_V1)
    static let version2 = UInt32(HD_FORMAT_V2)
    /// Every version this reader reads.
    static let versions = version1...version
    static let fileHeaderSize = Int(HD_FILE_HEADER_SIZE)
    static let fileHeaderSizeV1 = Int(HD_FILE_HEADER_SIZE_V1)
    static let versionOffset = Int(HD_FILE_HEADER_VERSION_OFFSET)
    static let headerSizeOffset = Int(HD_FILE_HEADER_SIZE_OFFSET)
    static let minorOffset = Int(HD_FILE_HEADER_MINOR_OFFSET)

    static let recordHeaderSize = Int(HD_RECORD_HEADER_SIZE)

    enum RecordType {
        static let process = UInt32(HD_RECORD_PROCESS)
        static let module = UInt32(HD_RECORD_MODULE)
        static let trace = UInt32(HD_RECORD_TRACE)
        static let python = UInt32(HD_RECORD_PYTHON)
        static let pythonCode = UInt32(HD_RECORD_PYCODE)
        static let codes = UInt32(HD_RECORD_CODES)
        static let frames = UInt32(HD_RECORD_FRAMES)
        static let nodes = UInt32(HD_RECORD_NODES)
        static let stacks = UInt32(HD_RECORD_STACKS)
        static let end = UInt32(HD_RECORD_END)
    }

    enum Trigger {
        static let api = UInt32(HD_TRIGGER_API)
        static let signal = UInt32(HD_TRIGGER_SIGNAL)
        static let interval = UInt32(HD_TRIGGER_INTERVAL)
        static let exit = UInt32(HD_TRIGGER_EXIT)
    }

    enum Process {
        static let pid = Int(HD_PROCESS_PID)
        static let ppid = Int(HD_PROCESS_PPID)
        static let seq = Int(HD_PROCESS_SEQ)
        static let trigger = Int(HD_PROCESS_TRIGGER)
        static let wallNs = Int(HD_PROCESS_WALL_NS)
        static let monoNs = Int(HD_PROCESS_MONO_NS)
        static let startMonoNs = Int(HD_PROCESS_START_MONO_NS)
        static let rss = Int(HD_PROCESS_RSS)
        static let peakRSS = Int(HD_PROCESS_PEAK_RSS)
        static let liveBytes = Int(HD_PROCESS_LIVE_BYTES)
        static let liveCount = Int(HD_PROCESS_LIVE_COUNT)
        static let allocBytes = Int(HD_PROCESS_ALLOC_BYTES)
        static let allocCount = Int(HD_PROCESS_ALLOC_COUNT)
        static let freeBytes = Int(HD_PROCESS_FREE_BYTES)
        static let freeCount = Int(HD_PROCESS_FREE_COUNT)
        static let peakLiveBytes = Int(HD_PROCESS_PEAK_LIVE_BYTES)
        static let depth = Int(HD_PROCESS_DEPTH)
        static let flags = Int(HD_PROCESS_FLAGS)
        static let fixedSize = Int(HD_PROCESS_FIXED_SIZE)
        static let flagTracesDropped = UInt32(HD_PROCESS_FLAG_TRACES_DROPPED)
        static let flagPythonFinalizing = UInt32(HD_PROCESS_FLAG_PYTHON_FINALIZING)
        static let flagEveryStack = UInt32(HD_PROCESS_FLAG_EVERY_STACK)
        /// Version 2 minor 1: after the strings (offsets from there).
        static let tailSampleRate = Int(HD_PROCESS_TAIL_SAMPLE_RATE)
        static let tailLiveSamples = Int(HD_PROCESS_TAIL_LIVE_SAMPLES)
    }

    enum Module {
        static let index = Int(HD_MODULE_INDEX)
        static let rangeCount = Int(HD_MODULE_RANGE_COUNT)
        static let loadBias = Int(HD_MODULE_LOAD_BIAS)
        static let fixedSize = Int(HD_MODULE_FIXED_SIZE)
        static let rangeSize = Int(HD_MODULE_RANGE_SIZE)
    }

    enum Trace {
        static let liveBytes = Int(HD_TRACE_LIVE_BYTES)
        static let liveCount = Int(HD_TRACE_LIVE_COUNT)
        static let allocBytes = Int(HD_TRACE_ALLOC_BYTES)
        static let allocCount = Int(HD_TRACE_ALLOC_COUNT)
        static let frameCount = Int(HD_TRACE_FRAME_COUNT)
        static let flags = Int(HD_TRACE_FLAGS)
        static let fixedSize = Int(HD_TRACE_FIXED_SIZE)
        static let maxFrames = Int(HD_TRACE_MAX_FRAMES)
        static let flagTruncated = UInt32(HD_TRACE_FLAG_TRUNCATED)
        static let flagNativeOuterOmitted = UInt32(HD_TRACE_FLAG_NATIVE_OUTER_OMITTED)
        static let frameSize = Int(HD_TRACE_FRAME_SIZE)
    }

    /// Version 2's STACKS entries: varint fields in this order.
    enum StackField {
        static let node = Int(HD_STACK_FIELD_NODE)
        static let flags = Int(HD_STACK_FIELD_FLAGS)
        static let liveBytes = Int(HD_STACK_FIELD_LIVE_BYTES)
        static let liveCount = Int(HD_STACK_FIELD_LIVE_COUNT)
        static let allocBytes = Int(HD_STACK_FIELD_ALLOC_BYTES)
        static let allocCount = Int(HD_STACK_FIELD_ALLOC_COUNT)
        static let liveSamples = Int(HD_STACK_FIELD_LIVE_SAMPLES)
        static let allocSamples = Int(HD_STACK_FIELD_ALLOC_SAMPLES)
        /// The fields every file has (minor 0's).
        static let minimumCount = Int(HD_STACK_FIELDS_MIN)
        /// The fields this reader knows; a file's entries may have more,
        /// or (an older minor, an exact recording) fewer.
        static let count = Int(HD_STACK_FIELDS)
    }

    enum Python {
        static let hexVersion = Int(HD_PYTHON_HEXVERSION)
        static let size = Int(HD_PYTHON_SIZE)
    }

    enum PythonCode {
        static let id = Int(HD_PYCODE_ID)
        static let firstLine = Int(HD_PYCODE_FIRST_LINE)
        static let fixedSize = Int(HD_PYCODE_FIXED_SIZE)
    }


    enum End {
        static let recordCount = Int(HD_END_RECORD_COUNT)
        static let crc32 = Int(HD_END_CRC32)
        static let size = Int(HD_END_SIZE)
    }

    enum Limits {
        static let maxString = Int(HD_MAX_STRING)
        static let maxBuildID = Int(HD_MAX_BUILD_ID)
        static let maxRanges = Int(HD_MAX_RANGES)
    }

    /// CRC-32 of `bytes` with the same C function the recorder uses.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { hd_crc32_update(0, $0.baseAddress, $0.count) }
    }
}
