/// The live heap of one process at one moment, as read from a `.heapsnap` file.
///
/// Like tracemalloc's `Snapshot`: the raw traces plus what is needed to
/// symbolize them later; grouping happens in `statistics(by:)` and
/// `compare(to:by:)`.
public struct Snapshot: Equatable, Sendable {
    /// The path the snapshot was loaded from, as given.
    public var path: String
    public var process: ProcessRecord
    public var modules: [Module]
    public var traces: [Trace]
    /// The CPython interpreter and its code objects, when the process was one.
    public var python: PythonInfo?
    /// The file format version it was read from (the current one for a
    /// snapshot made in code).
    public var formatVersion: UInt32 = FormatLayout.version

    public init(path: String, process: ProcessRecord, modules: [Module] = [], traces: [Trace] = []) {
        self.path = path
        self.process = process
        self.modules = modules
        self.traces = traces
    }

    /// Whether the live figures are estimates from sampled allocations
    /// (`ProcessRecord.sampleRate`).
    public var isSampled: Bool { process.isSampled }

    /// Whether every stack ever allocated from is here, those whose blocks
    /// were all freed too, so that the allocation totals (`allocBytes`,
    /// `allocCount`) add up to the whole run: every format-1 file, and the
    /// exit snapshots of format 2; other format-2 snapshots carry the stacks
    /// with live blocks only.
    public var hasEveryStack: Bool {
        formatVersion == FormatLayout.version1 || process.flags & FormatLayout.Process.flagEveryStack != 0
    }

    /// Reads and validates a snapshot file; throws `SnapshotError` with a
    /// one-line reason for anything but a complete, consistent file of a
    /// format version this reader knows (every version so far).
    public static func load(path: String) throws -> Snapshot {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path: path)
        } catch {
            throw SnapshotError.cannotOpen(path: path, reason: error.reason)
        }
        return try SnapshotReader(path: path, bytes: try uncompressed(bytes, path: path)).read()
    }

    /// A file compressed with gzip (an archive of snapshots) is read through
    /// zlib; its size is bounded so that a hostile file cannot make the
    /// reader take all memory.
    static func uncompressed(_ bytes: [UInt8], path: String) throws(SnapshotError) -> [UInt8] {
        guard Gzip.isCompressed(bytes) else { return bytes }
        let limit = max(64 << 20, bytes.count.multipliedReportingOverflow(by: 64).overflow ? .max : bytes.count * 64)
        guard let inflated = Gzip.decompress(bytes, limit: limit) else {
            throw .corrupt(path: path, reason: "gzip data damaged, cut short, or over \(limit) bytes unpacked")
        }
        return inflated
    }
}
