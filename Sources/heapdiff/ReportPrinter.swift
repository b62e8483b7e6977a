import Foundation
import HeapDiffKit

/// Analyzes snapshots and prints the result: shared by `top`, `diff` and
/// the summary at the end of `run`.
struct ReportPrinter {
    var grouping: GroupingOptions
    var format: OutputFormat
    /// Where result lines go: standard output, or standard error under `run`.
    var output: (String) -> Void

    /// One for all the snapshots of a report, so each module is opened once.
    private let symbolizer = Symbolizer()

    init(grouping: GroupingOptions, format: OutputFormat = .text, output: @escaping (String) -> Void = { print($0) }) {
        self.grouping = grouping
        self.format = format
        self.output = output
    }

    func printTop(_ snapshot: Snapshot) throws {
        let statistics = grouping.limited(snapshot.statistics(by: grouping.keyType, symbolizer: symbolizer))
        switch format {
        case .text:
            textReport.top(statistics, total: snapshot.total).forEach(output)
        case .json:
            output(try JSONReport.top(statistics, snapshot: snapshot, keyType: grouping.keyType))
        }
        printWarnings(about: [snapshot])
    }

    func printDiff(old: Snapshot, new: Snapshot) throws {
        let diffs = grouping.limited(new.compare(to: old, by: grouping.keyType, symbolizer: symbolizer))
        switch format {
        case .text:
            textReport.diff(diffs, total: new.total(comparedTo: old)).forEach(output)
        case .json:
            output(try JSONReport.diff(diffs, old: old, new: new, keyType: grouping.keyType))
        }
        printWarnings(about: [old, new])
    }

    private var textReport: TextReport {
        TextReport(keyType: grouping.keyType,
                   paths: PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath))
    }

    /// Always on standard error, once each, after the result.
    private func printWarnings(about snapshots: [Snapshot]) {
        for snapshot in snapshots where snapshot.process.tracesDropped {
            Console.warning("\(snapshot.path): the recorder's trace table was full; "
                + "some blocks are in the total but in no row")
        }
        symbolizer.warnings.forEach(Console.warning)
    }
}
