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

    public init(path: String, process: ProcessRecord, modules: [Module] = [], traces: [Trace] = []) {
        self.path = path
        self.process = process
        self.modules = modules
        self.traces = traces
    }

    /// Reads and validates a snapshot file; throws `SnapshotError` with a
    /// one-line reason for anything but a complete, consistent version-1 file.
    public static func load(path: String) throws -> Snapshot {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path: path)
        } catch {
            throw SnapshotError.cannotOpen(path: path, reason: error.reason)
        }
        return try SnapshotReader(path: path, bytes: bytes).read()
    }
}
