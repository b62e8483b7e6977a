import Foundation
import HeapDiffFormat

/// The recorder's naming of snapshot files: `PROGRAM.PID.SEQ.heapsnap`, or
/// `….heapsnap.gz` once someone compressed it with gzip (read as it is).
///
/// Parsed from the right, because the program name may itself contain dots.
/// Files being written are named `.NAME.tmp` and do not parse.
public struct SnapshotFileName: Equatable, Sendable {
    public static let suffix = HD_SNAPSHOT_SUFFIX
    public static let compressedSuffix = HD_SNAPSHOT_SUFFIX + ".gz"

    public var program: String
    public var pid: Int32
    public var seq: UInt32

    public init?(_ name: String) {
        let suffix = name.hasSuffix(Self.compressedSuffix) ? Self.compressedSuffix : Self.suffix
        guard name.hasSuffix(suffix), !name.hasPrefix(".") else { return nil }
        let parts = name.dropLast(suffix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3,
              let seq = UInt32(parts[parts.count - 1]),
              let pid = Int32(parts[parts.count - 2]), pid > 0
        else { return nil }
        self.program = parts.dropLast(2).joined(separator: ".")
        self.pid = pid
        self.seq = seq
    }
}

extension SnapshotFileName {
    /// The name a snapshot's program is shown by: the one in its file name,
    /// which the recorder takes from how the program was started (`argv[0]`,
    /// as `ps` shows it: `redis-server`, not the `redis-check-rdb` it links
    /// to); else the executable's name from its PROCESS record.
    public static func programName(path: String, process: ProcessRecord) -> String? {
        if let name = SnapshotFileName(URL(fileURLWithPath: path).lastPathComponent)?.program, !name.isEmpty {
            return name
        }
        guard !process.program.isEmpty else { return nil }
        return URL(fileURLWithPath: process.program).lastPathComponent
    }
}
