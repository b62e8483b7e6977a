import ArgumentParser
import Foundation
import HeapDiffKit

/// `heapdiff check --snapshots FILE…`: the check's rule and report applied to
/// snapshot files a test harness took itself (pytest-heapdiff takes one per
/// round of a marked test), without running a program.
extension CheckCommand {
    func validateSnapshotFiles() throws {
        guard !snapshots.isEmpty else { return }
        guard programArguments(from: programAndArguments).isEmpty else {
            throw ValidationError("give either --snapshots FILE… or a program after --, not both")
        }
        guard recording.output == nil, recording.interval == nil, recording.signal == nil, recording.depth == nil else {
            throw ValidationError("--output, --interval, --signal and --depth apply only when check runs a program")
        }
    }

    func checkSnapshotFiles() throws {
        let series = try SnapshotSeries.ofOneProcess(try snapshots.map { try Snapshot.load(path: $0) },
                                                     analysis: "a leak check").members
        let policy = LeakCheck.Policy(maxGrowthPerSite: maxGrowthPerSite.bytes, maxTotalGrowth: maxGrowth?.bytes,
                                      warmupSnapshots: warmupSnapshots)
        let symbolizer = grouping.makeSymbolizer()
        let result = try LeakCheck.check(series, policy: policy, options: grouping.statisticsOptions,
                                         symbolizer: symbolizer)
        let directories = Set(series.map { URL(fileURLWithPath: $0.path).deletingLastPathComponent().standardizedFileURL.path })
        let report = CheckReport(result: result, policy: policy, keyType: grouping.keyType, limit: grouping.limit,
                                 directory: directories.count == 1 ? directories.first ?? "" : "the files given",
                                 paths: PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath),
                                 stackFrames: stackFrames, rule: grouping.statisticsOptions.rule)
        switch format {
        case .text: report.text().forEach(Console.printToStandardError)
        case .json: print(try report.json())
        }
        symbolizer.warnings.forEach { Console.warning($0) }
        if !result.passed {
            throw ExitCode(Self.leaksFound)
        }
    }
}
