import Foundation
import HeapDiffKit

/// `top`, `diff` and `export` given the directory a run wrote instead of
/// snapshot files: the snapshots of its main process (or `--pid`'s), chosen
/// by the rules `trend` and `report` follow (`SnapshotSeries`), and a note on
/// stderr naming the files taken, so that the output can be read against them.
enum SnapshotsInDirectory {
    static func isDirectory(_ path: String) -> Bool {
        SnapshotSeries<SnapshotFile>.directory([path]) != nil
    }

    /// PATH itself when it is a snapshot file; a directory's `latest`.
    static func snapshot(_ path: String, pid: Int32?) throws -> String {
        isDirectory(path) ? try latest(in: path, pid: pid) : path
    }

    /// The latest snapshot a comparison would end with: the program's own
    /// last one, not the exit snapshot taken after destructors ran.
    static func latest(in directory: String, pid: Int32?) throws -> String {
        let series = try SnapshotSeries.load(inputs: [directory], pid: pid, note: { Console.note($0) })
        guard let latest = series.comparable.last else { throw SeriesError.noSnapshots(directory: directory) }
        Console.note("\(name(latest.path)): the latest of \(count(series.members.count)) of \(who(series))"
                     + (series.leftOutNote.map { " (\($0))" } ?? ""))
        return latest.path
    }

    /// The first and the last snapshot a comparison spans, as `run`'s summary diffs them.
    static func comparison(in directory: String, pid: Int32?) throws -> (old: String, new: String) {
        let series = try SnapshotSeries.load(inputs: [directory], pid: pid, note: { Console.note($0) })
        guard let (old, new) = series.comparison else {
            throw CommandError(message: "\(directory): \(who(series)) left \(count(series.members.count)), "
                               + "nothing to compare: take more while it runs (--interval, heapdiff snapshot PID)")
        }
        Console.note("growth from \(name(old.path)) to \(name(new.path)) of \(who(series))"
                     + (series.leftOutNote.map { " (\($0))" } ?? ""))
        return (old.path, new.path)
    }

    private static func name(_ path: String) -> String { URL(fileURLWithPath: path).lastPathComponent }

    private static func count(_ n: Int) -> String { n == 1 ? "1 snapshot" : "\(n) snapshots" }

    private static func who(_ series: SnapshotSeries<SnapshotFile>) -> String {
        "\(series.program) (pid \(series.pid ?? 0))"
    }
}
