import ArgumentParser
import Foundation
import HeapDiffKit

/// `heapdiff trend SNAPSHOT… | DIR`: growth rates and verdicts over a series.
struct TrendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trend",
        abstract: "Rank call sites by steady growth over a series of snapshots.",
        discussion: """
            Takes the snapshots of one process (files, or a directory, from which the process with the most \
            snapshots is taken unless --pid says which) and, for each call site, fits its live bytes against \
            time (or against the snapshot number with --by-index, for snapshots taken per phase). The rate \
            shown is that of the recent half of the series: how fast the site grows now.

            Each site gets a verdict: steady growth (still climbing linearly: a leak suspect), plateau (grew, \
            then stopped, like a cache that warmed up, which a first-vs-last diff would show as growth), \
            fluctuating, or shrinking. Steady growth ranks first, then by rate. The traced heap as a whole \
            is extrapolated: at its current rate, when does it reach --until (by default this machine's \
            memory)?
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
        let paths = try TrendInputs.paths(inputs, pid: pid)
        let symbolizer = grouping.makeSymbolizer()
        let analysis: TrendAnalysis
        let progress = ProgressBar(total: paths.count, label: "analyzing snapshots")
        var firstPID: UInt32?
        // Snapshots are read on other threads while the ones before are grouped.
        let reader = SnapshotPrefetcher(count: paths.count) { try Snapshot.load(path: paths[$0]) }
        do {
            defer { progress.finish() }
            analysis = try TrendAnalysis.analyze(
                count: paths.count,
                load: { index in
                    let snapshot = try reader.snapshot(at: index)
                    if let firstPID, snapshot.process.pid != firstPID {
                        throw CommandError(message: "\(paths[index]) is of process \(snapshot.process.pid), "
                            + "\(paths[0]) of process \(firstPID); a trend follows one process")
                    }
                    firstPID = snapshot.process.pid
                    return snapshot
                },
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

/// Which snapshots a trend is computed over.
enum TrendInputs {
    /// The files given, or in a directory those of --pid or of the process
    /// that left the most snapshots, in SEQ order.
    static func paths(_ inputs: [String], pid: Int32?) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard inputs.count == 1, FileManager.default.fileExists(atPath: inputs[0], isDirectory: &isDirectory),
              isDirectory.boolValue else { return inputs }
        let directory = inputs[0]
        let counts = try SnapshotDirectory.processes(in: directory).map { process in
            (pid: process, count: try SnapshotDirectory.snapshots(in: directory, pid: process).count)
        }
        guard let chosen = pid ?? counts.max(by: { $0.count < $1.count })?.pid else {
            throw CommandError(message: "\(directory): no snapshots")
        }
        return try SnapshotDirectory.snapshots(in: directory, pid: chosen).map(\.path)
    }

    /// MemTotal from /proc/meminfo, in bytes.
    static func machineMemory() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
              let kib = Int64(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kib * 1024
    }
}
