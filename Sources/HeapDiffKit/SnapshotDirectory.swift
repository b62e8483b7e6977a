import Foundation

/// The snapshot files that one process left in an output directory.
public enum SnapshotDirectory {
    /// Paths of `pid`'s snapshots in `directory`, oldest first (by SEQ,
    /// numerically: `…10.heapsnap` comes after `…9.heapsnap`).
    public static func snapshots(in directory: String, pid: Int32) throws -> [(path: String, seq: UInt32)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return names.compactMap { name -> (path: String, seq: UInt32)? in
            guard let parsed = SnapshotFileName(name), parsed.pid == pid else { return nil }
            return (path: directory.hasSuffix("/") ? directory + name : directory + "/" + name, seq: parsed.seq)
        }.sorted { $0.seq < $1.seq }
    }

    /// Every process that left snapshots in `directory`, in pid order.
    public static func processes(in directory: String) throws -> [Int32] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return Set(names.compactMap { SnapshotFileName($0)?.pid }).sorted()
    }
}
