/// The traced process at the moment of a snapshot (the file's PROCESS record).
public struct ProcessRecord: Equatable, Sendable {
    public var pid: UInt32
    public var ppid: UInt32
    /// 1, 2, 3… in the order this process took its snapshots.
    public var seq: UInt32
    public var trigger: Trigger
    /// `CLOCK_REALTIME` at the snapshot, ns since the epoch.
    public var wallTimeNs: UInt64
    /// `CLOCK_MONOTONIC` at the snapshot.
    public var monotonicNs: UInt64
    /// `CLOCK_MONOTONIC` when recording began in this process.
    public var startMonotonicNs: UInt64
    public var rss: UInt64
    public var peakRSS: UInt64
    /// Live heap over all traced blocks, including those of dropped stacks.
    public var liveBytes: UInt64
    public var liveCount: UInt64
    public var allocBytes: UInt64
    public var allocCount: UInt64
    public var freeBytes: UInt64
    public var freeCount: UInt64
    public var peakLiveBytes: UInt64
    /// The stack depth limit in force (`HEAPDIFF_DEPTH`).
    public var depth: UInt32
    /// Raw flags; see `tracesDropped`.
    public var flags: UInt32
    /// Sampling: the mean number of bytes between two sample points; 0 when
    /// every allocation was recorded (and in files older than format 2.1).
    /// When not 0, the live figures are estimates (docs/FORMAT.md) and the
    /// allocation totals still count every allocation.
    public var sampleRate: UInt64
    /// The sample points of the live blocks recorded by sampling: the live
    /// bytes' standard error is `sampleRate × √liveSamples`.
    public var liveSamples: UInt64
    /// The program path (`/proc/self/exe`).
    public var program: String
    /// The label given to this snapshot, empty when none.
    public var label: String
    public var commandLine: [String]

    public init(
        pid: UInt32 = 0, ppid: UInt32 = 0, seq: UInt32 = 1, trigger: Trigger = .api,
        wallTimeNs: UInt64 = 0, monotonicNs: UInt64 = 0, startMonotonicNs: UInt64 = 0,
        rss: UInt64 = 0, peakRSS: UInt64 = 0,
        liveBytes: UInt64 = 0, liveCount: UInt64 = 0,
        allocBytes: UInt64 = 0, allocCount: UInt64 = 0,
        freeBytes: UInt64 = 0, freeCount: UInt64 = 0, peakLiveBytes: UInt64 = 0,
        depth: UInt32 = 0, flags: UInt32 = 0, sampleRate: UInt64 = 0, liveSamples: UInt64 = 0,
        program: String = "", label: String = "", commandLine: [String] = []
    ) {
        self.pid = pid
        self.ppid = ppid
        self.seq = seq
        self.trigger = trigger
        self.wallTimeNs = wallTimeNs
        self.monotonicNs = monotonicNs
        self.startMonotonicNs = startMonotonicNs
        self.rss = rss
        self.peakRSS = peakRSS
        self.liveBytes = liveBytes
        self.liveCount = liveCount
        self.allocBytes = allocBytes
        self.allocCount = allocCount
        self.freeBytes = freeBytes
        self.freeCount = freeCount
        self.peakLiveBytes = peakLiveBytes
        self.depth = depth
        self.flags = flags
        self.sampleRate = sampleRate
        self.liveSamples = liveSamples
        self.program = program
        self.label = label
        self.commandLine = commandLine
    }

    /// Whether the live figures are estimates from sampled allocations.
    public var isSampled: Bool { sampleRate != 0 }

    /// The standard error of `liveBytes` (0 when exact).
    public var liveBytesStandardError: Double {
        Double(sampleRate) * Double(liveSamples).squareRoot()
    }

    /// Some stacks could not be recorded (the recorder's trace table was
    /// full): their blocks are in the totals above but in no trace.
    public var tracesDropped: Bool {
        flags & FormatLayout.Process.flagTracesDropped != 0
    }

    /// A CPython process whose interpreter had begun tearing down its objects
    /// (during and after `Py_FinalizeEx`, so every exit snapshot of one): its
    /// live heap no longer shows what the program held.
    public var pythonFinalizing: Bool {
        flags & FormatLayout.Process.flagPythonFinalizing != 0
    }
}
