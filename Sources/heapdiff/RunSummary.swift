import Foundation
import HeapDiffKit

/// What `run` prints on standard error once the program has ended: where
/// its snapshots are and what grew between the first and the last.
struct RunSummary {
    var directory: String
    var pid: Int32
    var grouping: GroupingOptions
    /// Snapshots were taken every --interval: growth is measured against
    /// time; otherwise against the snapshot number (phases).
    var periodic: Bool
    /// Earlier snapshots of the process (an earlier attach into the same
    /// directory) are not part of this report.
    var firstSeq: UInt32 = 0

    private var shownDirectory: String {
        PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath).show(directory)
    }

    func print() {
        guard FileManager.default.fileExists(atPath: directory) else {
            Console.warning("process \(pid) left no snapshot: \(shownDirectory) does not exist")
            return
        }
        do {
            let files = try SnapshotDirectory.snapshots(in: directory, pid: pid).filter { $0.seq >= firstSeq }
            guard !files.isEmpty else {
                Console.warning("process \(pid) left no snapshot in \(shownDirectory)")
                return
            }
            report(files)
        } catch {
            Console.warning("cannot list \(shownDirectory): \(error.localizedDescription)")
        }
    }

    /// Like `print`, but silent when there is nothing to report.
    func printIfAny() {
        guard let files = try? SnapshotDirectory.snapshots(in: directory, pid: pid).filter({ $0.seq >= firstSeq }),
              !files.isEmpty else { return }
        report(files)
    }

    private func report(_ files: [(path: String, seq: UInt32)]) {
        guard let first = files.first, let last = files.last else { return }
        let firstName = URL(fileURLWithPath: first.path).lastPathComponent
        let lastName = URL(fileURLWithPath: last.path).lastPathComponent
        // One symbolizer for the diff and the trend: each module is opened once.
        let symbolizer = grouping.makeSymbolizer()
        let printer = ReportPrinter(grouping: grouping, format: .text, output: Console.printToStandardError,
                                    symbolizer: symbolizer)
        do {
            if files.count == 1 {
                Console.note("1 snapshot in \(shownDirectory)/: \(firstName)")
                Console.note("largest live allocation sites:")
                try printer.printTop(try Snapshot.load(path: first.path))
            } else {
                Console.note("\(files.count) snapshots in \(shownDirectory)/: \(firstName) … \(lastName)")
                // A Python process's last snapshots can come from its
                // interpreter's teardown, which frees what the program held:
                // the growth is up to the last one before it.
                var endIndex = files.count - 1
                var end = try Snapshot.load(path: last.path)
                while end.process.pythonFinalizing && endIndex > 1 {
                    endIndex -= 1
                    end = try Snapshot.load(path: files[endIndex].path)
                }
                let endName = URL(fileURLWithPath: files[endIndex].path).lastPathComponent
                let skipped = endIndex < files.count - 1 ? " (later ones were taken as Python finalized)" : ""
                Console.note("growth from \(firstName) to \(endName)\(skipped):")
                try printer.printDiff(old: try Snapshot.load(path: first.path), new: end)
            }
            if files.count >= 3 {
                try printTrend(files, symbolizer: symbolizer)
            }
        } catch {
            Console.warning("\(error)")
        }
    }

    /// With three or more snapshots, which sites grow steadily and which only
    /// warmed up: a first-vs-last diff cannot tell them apart.
    private func printTrend(_ files: [(path: String, seq: UInt32)], symbolizer: Symbolizer) throws {
        var options = grouping.statisticsOptions
        if options.keyType == .traceback { options.keyType = .lineno }   // a trend per whole stack is too fine
        let analysis = try TrendAnalysis.analyze(count: files.count, load: { try Snapshot.load(path: files[$0].path) },
                                                 options: options, axis: periodic ? .time : .index,
                                                 symbolizer: symbolizer)
        Console.note("trend over \(analysis.snapshots.count) snapshots (`heapdiff trend \(shownDirectory)` for more):")
        TrendReport(analysis: analysis, keyType: options.keyType,
                    limit: min(grouping.limit == 0 ? 5 : grouping.limit, 5), target: nil,
                    paths: PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath))
            .text().dropFirst().forEach(Console.printToStandardError)
    }
}
