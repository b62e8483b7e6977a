import HeapDiffFormat
import Foundation

/// The snapshot files that one process left in an output directory.
public enum SnapshotDirectory {
    /// Paths of `pid`'s snapshots in `directory`, oldest first (by SEQ,
    /// numerically: `…10.heapsnap` comes after `…9.heapsnap`).
    ///
    /// A process that executed another program (a launcher script, pyenv's
    /// `python3` shim) keeps its pid but starts a new series, SEQ 1 on, under
    /// the new program's name: only the last program's series is returned,
    /// the one that wrote the newest file. (One that executes itself again
    /// goes on past its files' SEQs; `SnapshotSeries.lastImage` tells the
    /// images apart.)
    public static func snapshots(in directory: String, pid: Int32) throws -> [(path: String, seq: UInt32)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        let files = names.compactMap { name -> (path: String, seq: UInt32, program: String)? in
            guard let parsed = SnapshotFileName(name), parsed.pid == pid else { return nil }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            return (path: path, seq: parsed.seq, program: parsed.program)
        }
        let programs = Set(files.map(\.program))
        let last = programs.count < 2 ? programs.first : programs.max { newest(files, $0) < newest(files, $1) }
        return files.filter { $0.program == last }.map { (path: $0.path, seq: $0.seq) }.sorted { $0.seq < $1.seq }
    }

    private static func newest(_ files: [(path: String, seq: UInt32, program: String)], _ program: String) -> Date {
        files.filter { $0.program == program }.compactMap {
            try? FileManager.default.attributesOfItem(atPath: $0.path)[.modificationDate] as? Date
        }.max() ?? .distantPast
    }

    /// The subfolder where, under `heapdiff run` and `check`, the recorder
    /// writes the exit snapshots of helpers: descendants of the program that
    /// took no snapshot of their own.
    public static let helpersSubdirectory = HD_HELPERS_SUBDIRECTORY

    /// Paths of the snapshot files in `directory`'s helpers subfolder, by pid and SEQ.
    public static func helpers(in directory: String) -> [String] {
        let helpers = (directory.hasSuffix("/") ? directory : directory + "/") + helpersSubdirectory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: helpers) else { return [] }
        return names.compactMap { name in SnapshotFileName(name).map { (name, $0) } }
            .sorted { ($0.1.pid, $0.1.seq) < ($1.1.pid, $1.1.seq) }
            .map { helpers + "/" + $0.0 }
    }

    /// Every process that left snapshots in `directory`, in pid order.
    public static func processes(in directory: String) throws -> [Int32] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return Set(names.compactMap { SnapshotFileName($0)?.pid }).sorted()
    }
}
