import ArgumentParser
import Foundation
import HeapDiffKit

/// `heapdiff trend SNAPSHOT… | DIR`: growth rates and verdicts over a series.
struct TrendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trend",
        abstract: "Rank call sites by steady growth over a series of snapshots.",
        discussion: """
            Takes the snapshots of one process (files, or a directory, from which --pid says which process; \
            by default, of those with three snapshots or more, the one whose traced heap grew most: a \
            leaking worker rather than its master, a service rather than a launcher such as runuser) and, for each call site, fits its live bytes against \
            time (or against the snapshot number with --by-index, for snapshots taken per phase). The rate \
            shown is that of the recent half of the series: how fast the site grows now.

            The series is the snapshots the program took itself (calls, signal, --interval). The exit \
            snapshot is taken after the work stopped and destructors and atexit handlers ran (a Rust or C++ \
            program's drops, OpenSSL's cleanup), which would show a cache that grew all run long as \
            shrinking: it is left out, and is the "after" of a diff only when the program took a single \
            snapshot of its own. A snapshot taken while a Python interpreter shuts down (every exit snapshot \
            of a python run) shows its teardown, and is left out whenever the program took snapshots of its \
            own; `check`, `report` and `run` choose by the same rules.

            Each site gets a verdict: steady growth (still climbing linearly: a leak suspect), plateau (grew, \
            then stopped, like a cache that warmed up, which a first-vs-last diff would show as growth), \
            fluctuating, or shrinking. Steady growth ranks first, then by rate now, then (where rates are equal, \
            as on a service idle since a burst) by the growth over the whole series. The traced heap as a whole \
            is extrapolated: at its current rate, when does it reach --until (by default this machine's \
            memory)?

            Snapshots recorded with --sample (`heapdiff run --sample 512KiB --interval 60` on a service) \
            hold estimates: live bytes and rates are marked ~ and followed by their standard error (±). A \
            site whose recent half grew or shrank by no more than 3 standard errors of that change is \
            called "within noise", not steady growth or shrinking: its samples cannot tell the change from \
            chance. The error of a change counts the blocks allocated or freed between the two ends of the \
            recent half (blocks live at both are the same samples and cancel out), summed per site over its \
            call stacks, and for the traced heap over its sites (one site's churn cannot replace another's \
            blocks), which can only overstate it; the rate's error is that error over the same span.
            """
    )

    @Argument(help: ArgumentHelp("Snapshot files of one process, or a directory of them.", valueName: "snapshot"))
    var inputs: [String]

    @Option(help: "With a directory: the process whose snapshots to use.")
    var pid: Int32?

    @Flag(help: "Measure growth per snapshot rather than per second.")
    var byIndex = false

    @Option(help: ArgumentHelp("Extrapolate to this heap size (default: this machine's memory).", valueName: "size"))
    var until: ByteSize?

    @Option(help: "Report as text or json.")
    var format: OutputFormat = .text

    @OptionGroup var grouping: GroupingOptions

    func run() throws {
        let series = try SnapshotSeries.load(inputs: inputs, pid: pid, analysis: "a trend", note: { Console.note($0) })
        let paths = series.members.map(\.path)
        let symbolizer = grouping.makeSymbolizer()
        let analysis: TrendAnalysis
        let progress = ProgressBar(total: paths.count, label: "analyzing snapshots")
        // Snapshots are read on other threads while the ones before are grouped.
        let reader = SnapshotPrefetcher(count: paths.count) { try Snapshot.load(path: paths[$0]) }
        do {
            defer { progress.finish() }
            // All of them: the analysis leaves out what the series' rules say (SnapshotSeries.trend).
            analysis = try TrendAnalysis.analyze(
                count: paths.count, load: { try reader.snapshot(at: $0) },
                options: grouping.statisticsOptions, axis: byIndex ? .index : .time, symbolizer: symbolizer,
                progress: { progress.update(done: $0) })
        } catch let failure as TrendAnalysis.Failure {
            throw CommandError(message: failure.description)
        }
        let target = until.map { (bytes: $0.bytes, name: SizeFormatting.size($0.bytes)) }
            ?? TrendInputs.machineMemory().map { (bytes: $0, name: "\(SizeFormatting.size($0)) (this machine's memory)") }
        let report = TrendReport(analysis: analysis, keyType: grouping.keyType, limit: grouping.limit, target: target,
                                 paths: PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath))
        switch format {
        case .text: report.text().forEach { print($0) }
        case .json: print(try report.json())
        }
        symbolizer.warnings.forEach { Console.warning($0) }
    }
}
