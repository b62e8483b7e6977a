import ArgumentParser
import Foundation
import HeapDiffKit

/// `heapdiff report SNAPSHOT… | DIR -o report.html`: one self-contained HTML
/// page with charts, the trend, a diff and a flame graph.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report: memory charts, trend, diff and flame graph.",
        discussion: """
            Takes the snapshots of one process (files, or a directory, from which --pid says which process; \
            by default, of those with three snapshots or more, the one whose traced heap grew most: a \
            leaking worker rather than its master, a service rather than a launcher such as runuser) and writes one HTML file that opens offline in any \
            browser, everything inlined:

              heapdiff run --interval 5 --output snaps -- ./server
              heapdiff report snaps -o server.html

            The page shows: the process's RSS and traced live bytes over time; a stacked area chart of the \
            live bytes of the --top sites (ranked as in the trend table, then by growth) and all others; the \
            trend table of `heapdiff trend` (needs 3 or more snapshots); a diff table between any two \
            snapshots chosen in the page (first and last at first), grouped as `heapdiff diff` groups; and a \
            flame graph of whole stacks, as `heapdiff export --format folded` writes them, of the live bytes \
            in the last snapshot or of the growth since the first, with search, click-to-zoom and reset. \
            Adding #mode=growth&search=TEXT to the page's address opens that view.

            Snapshots taken while a Python interpreter shuts down (every exit snapshot of a python run) show \
            its teardown: when the program took snapshots of its own they are left out of the page, and so is \
            the exit snapshot, taken after destructors ran, once it took two, as `trend`, `check` and `run` \
            leave them out of their comparisons.

            Charts are drawn with Chart.js, read when the report is written from Debian's libjs-chart.js \
            (/usr/share/javascript/chart.js/chart.min.js; `apt install libjs-chart.js`) or from the file \
            named by HEAPDIFF_CHARTJS. The page embeds the series of the 1,000 sites with the most live bytes \
            at their peak; the rest are one "smaller sites" row in the diff. --limit sets the rows the tables \
            show before "show all" (0: all).


            """ + GroupingOptions.discussion
    )

    @Argument(help: ArgumentHelp("Snapshot files of one process, or a directory of them.", valueName: "snapshot"))
    var inputs: [String]

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the page to this file ('-' for standard output).",
                                                    valueName: "file"))
    var output = "heapdiff-report.html"

    @Option(help: ArgumentHelp("The page's title (default: heapdiff report: PROGRAM (pid N)).", valueName: "text"))
    var title: String?

    @Option(help: ArgumentHelp("Sites drawn one by one in the stacked chart.", valueName: "n"))
    var top = 10

    @Option(help: "With a directory: the process whose snapshots to use.")
    var pid: Int32?

    @Flag(help: "Fit the trend per snapshot rather than per second.")
    var byIndex = false

    @OptionGroup var grouping: GroupingOptions

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be 1 or more, not \(top)") }
    }

    func run() throws {
        // Before reading any snapshot: a missing library should not cost a long wait.
        let chartJS: String
        do {
            chartJS = try ChartJSLibrary.load()
        } catch let missing as ChartJSLibrary.Missing {
            throw CommandError(message: missing.description, status: 1)
        }
        // In the order taken, without the snapshots of a teardown (SnapshotSeries.comparable).
        let series = try SnapshotSeries.load(inputs: inputs, pid: pid, analysis: "a report", note: { Console.note($0) })
        let paths = series.comparable.map(\.path)
        let symbolizer = grouping.makeSymbolizer()
        let options = HTMLReport.Options(
            title: title, statistics: grouping.statisticsOptions, axis: byIndex ? .index : .time, top: top,
            limit: grouping.limit, paths: PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath))
        let progress = ProgressBar(total: paths.count, label: "reading snapshots")
        let model: HTMLReportModel
        do {
            defer { progress.finish() }
            model = try HTMLReport.model(
                count: paths.count, load: { try Snapshot.load(path: paths[$0]) },
                options: options, symbolizer: symbolizer, progress: { progress.update(done: $0) })
        } catch let failure as HTMLReport.Failure {
            throw CommandError(message: failure.description)
        }
        let page: String
        do {
            page = try HTMLPage.render(model, chartJS: chartJS)
        } catch let refused as HTMLPage.UnsafeScript {
            throw CommandError(message: refused.description, status: 1)
        }
        symbolizer.warnings.forEach { Console.warning($0) }
        let bytes = Data(page.utf8)
        if output == "-" {
            FileHandle.standardOutput.write(bytes)
            return
        }
        try OutputFile.write(Array(bytes), to: output, atomically: true)
        Console.note("wrote \(output) (\(counted(model.snapshots.count, "snapshot")), "
            + "\(SizeFormatting.size(Int64(bytes.count))))" + (series.leftOutNote.map { "; \($0)" } ?? ""))
    }
}
