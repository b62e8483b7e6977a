import Foundation
import HeapDiffKit

/// Analyzes snapshots and prints the result: shared by `top`, `diff` and
/// the summary at the end of `run`.
struct ReportPrinter {
    var grouping: GroupingOptions
    var format: ReportFormat
    var style: TextStyle
    /// Where result lines go: standard output, or standard error under `run`.
    /// Each call is one line, or for JSON and CSV the whole document, without
    /// its last line break.
    var output: (String) -> Void

    /// One for all the snapshots of a report, so each module is opened once.
    private let symbolizer: Symbolizer

    /// `symbolizer`: pass one to share it with other analyses of the same
    /// snapshots, so that their modules are opened and symbolized once.
    init(grouping: GroupingOptions, format: ReportFormat = .text, style: TextStyle = .plain,
         output: @escaping (String) -> Void = StandardOutput.write, symbolizer: Symbolizer? = nil) {
        self.grouping = grouping
        self.format = format
        self.style = style
        self.output = output
        self.symbolizer = symbolizer ?? grouping.makeSymbolizer()
    }

    init(grouping: GroupingOptions, options: OutputOptions) {
        self.init(grouping: grouping, format: options.format, style: options.textStyle)
    }

    /// What `statistics` and `compare` are asked for: only the rows shown
    /// are made (their tracebacks and keys cost the most).
    private var options: StatisticsOptions {
        var options = grouping.statisticsOptions
        options.limit = grouping.limit
        return options
    }

    func printTop(_ snapshot: Snapshot) throws {
        let options = options
        let statistics = grouping.limited(snapshot.statistics(options, symbolizer: symbolizer))
        let total = snapshot.total(options, symbolizer: symbolizer)
        switch format {
        case .text:
            output(textReport.top(statistics, total: total, sampleRates: [snapshot.process.sampleRate])
                .joined(separator: "\n"))
        case .json:
            output(JSONReport.top(statistics, snapshot: snapshot, keyType: options.keyType, total: total))
        case .csv:
            output(String(CSVReport.top(statistics, sampled: snapshot.isSampled).dropLast()))
        }
        printWarnings(about: [snapshot])
    }

    func printDiff(old: Snapshot, new: Snapshot) throws {
        let options = options
        let diffs = grouping.limited(new.compare(to: old, options, symbolizer: symbolizer))
        let total = new.total(comparedTo: old, options, symbolizer: symbolizer)
        switch format {
        case .text:
            output(textReport.diff(diffs, total: total, sampleRates: [old.process.sampleRate, new.process.sampleRate])
                .joined(separator: "\n"))
        case .json:
            output(JSONReport.diff(diffs, old: old, new: new, keyType: options.keyType, total: total))
        case .csv:
            output(String(CSVReport.diff(diffs, sampled: old.isSampled || new.isSampled).dropLast()))
        }
        printWarnings(about: [old, new])
    }

    private var textReport: TextReport {
        TextReport(keyType: grouping.keyType,
                   paths: PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath),
                   style: style)
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

/// Standard output in one write per report rather than one per line, which
/// matters for reports of many thousand rows.
enum StandardOutput {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress! + written, $0.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                return  // a closed pipe (`| head`): the rest has no reader
            }
            written += result
        }
    }
}
