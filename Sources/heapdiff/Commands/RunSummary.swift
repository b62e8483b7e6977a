import Foundation
import HeapDiffKit

/// What `run` prints on standard error once the program has ended: where
/// its snapshots are and what grew, for the program and for the processes
/// it forked that took snapshots of their own (workers). Which snapshots
/// are compared is `SnapshotSeries`'s rule, the same as `check`'s and `trend`'s.
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
    /// The verdicts files as they were before the program started: the
    /// leak tests it judged are those recorded since.
    var verdictsBefore: LeakTestVerdictFiles.Mark
    /// The program as started, and its environment: when the process left
    /// no snapshot, its file may say why (`PreloadRefusal`).
    var program: (name: String, environment: [String: String])? = nil

    /// Workers listed one by one before "… and N more".
    static let workersListed = 5

    private var paths: PathDisplay { PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath) }
    private var shownDirectory: String { paths.show(directory) }
    /// Read only when there is no snapshot to explain: the program's file is opened for it.
    private var refusal: String? { program.flatMap { PreloadRefusal.reason(program: $0.name, environment: $0.environment) } }

    func print() {
        guard FileManager.default.fileExists(atPath: directory) else {
            Console.warning("process \(pid) left no snapshot: \(refusal ?? "\(shownDirectory) does not exist")")
            return
        }
        let files: [(path: String, seq: UInt32)]
        do {
            files = try SnapshotDirectory.snapshots(in: directory, pid: pid).filter { $0.seq >= firstSeq }
        } catch {
            Console.warning("cannot list \(shownDirectory): \(error.localizedDescription)")
            return
        }
        if files.isEmpty {
            Console.warning("process \(pid) left no snapshot in \(shownDirectory)" + (refusal.map { ": " + $0 } ?? ""))
        }
        report(programFiles: files.count)
    }

    /// Like `print`, but silent when there is nothing to report.
    func printIfAny() {
        guard let files = try? SnapshotDirectory.snapshots(in: directory, pid: pid).filter({ $0.seq >= firstSeq })
        else { return }
        report(programFiles: files.count)
    }

    private func report(programFiles: Int) {
        // One symbolizer for every diff and trend: each module is opened once.
        let symbolizer = grouping.makeSymbolizer()
        // Every process's series, read once for the program's report and the workers'.
        let all = Result { try SnapshotSeries.loadAll(directory: directory) }
        do {
            if programFiles > 0 {
                let series = try SnapshotSeries.load(directory: directory, pid: pid).since(seq: firstSeq)
                noteEarlierImages(programFiles - series.members.count)
                try reportProgram(series, all: try? all.get(), symbolizer: symbolizer)
            }
            try reportWorkers(try all.get(), symbolizer: symbolizer)
            noteHelpers()
            noteLeakTests()
        } catch {
            Console.warning("\(error)")
        }
    }

    /// Files of the program's pid that its last image did not write: the
    /// program executed itself again (haproxy's reload), so its recording
    /// began anew and those files are of what it was before.
    private func noteEarlierImages(_ count: Int) {
        guard count > 0 else { return }
        Console.note("\(count) earlier snapshot\(count == 1 ? "" : "s") of pid \(pid) in \(shownDirectory)/ "
            + "\(count == 1 ? "is" : "are") of the program before it executed itself again, and left out; "
            + "`heapdiff diff` compares them")
    }

    private func reportProgram(_ series: SnapshotSeries<SnapshotFile>, all: [SnapshotSeries<SnapshotFile>]?,
                               symbolizer: Symbolizer) throws {
        guard let first = series.members.first, let last = series.members.last else { return }
        let printer = ReportPrinter(grouping: grouping, format: .text, output: Console.printToStandardError,
                                    symbolizer: symbolizer)
        if series.members.count == 1 {
            Console.note("1 snapshot in \(shownDirectory)/: \(first.name)")
            Console.note("largest live allocation sites:")
            try printer.printTop(try Snapshot.load(path: first.path))
        } else if let still = unchangedLauncher(series, all: all ?? []) {
            Console.note(still)
            return
        } else {
            Console.note("\(series.members.count) snapshots in \(shownDirectory)/: \(first.name) … \(last.name)")
            // A Python process's last snapshots come from its interpreter's
            // teardown, and any exit snapshot after destructors ran, which
            // free what the program held: left out (SnapshotSeries.comparable).
            let skipped = series.leftOutNote.map { " (\($0))" } ?? ""
            if let comparison = series.comparison {
                Console.note("growth from \(comparison.old.name) to \(comparison.new.name)\(skipped):")
                try printer.printDiff(old: try Snapshot.load(path: comparison.old.path),
                                      new: try Snapshot.load(path: comparison.new.path))
            } else if let only = series.comparable.first {
                Console.note("largest live allocation sites in \(only.name)\(skipped):")
                try printer.printTop(try Snapshot.load(path: only.path))
            }
        }
        if series.hasTrend {
            try printTrend(series.trend, all: all, symbolizer: symbolizer)
        }
    }

    /// A launcher (`runuser`, `sudo -u`, a shell) whose traced heap did not
    /// change while a process it started grew: one line instead of its table
    /// of +0 B rows, so that the growth comes first (nil otherwise).
    private func unchangedLauncher(_ series: SnapshotSeries<SnapshotFile>, all: [SnapshotSeries<SnapshotFile>]) -> String? {
        guard let (old, new) = series.comparison, old.process.liveBytes == new.process.liveBytes,
              old.process.liveCount == new.process.liveCount,
              let grew = SnapshotSeries.workers(started: pid, among: all).first, (grew.heapGrowth ?? 0) > 0
        else { return nil }
        return "\(series.comparable.count) snapshots of \(series.program) (pid \(pid)) in \(shownDirectory)/: its traced "
            + "heap did not change (\(SizeFormatting.size(Int64(clamping: new.process.liveBytes))) in "
            + "\(new.process.liveCount) blocks); process \(grew.pid ?? 0) grew:"
    }

    /// With three or more snapshots, which sites grow steadily and which only
    /// warmed up: a first-vs-last diff cannot tell them apart.
    private func printTrend(_ files: [SnapshotFile], all: [SnapshotSeries<SnapshotFile>]?, symbolizer: Symbolizer) throws {
        let options = grouping.statisticsOptions.forTrendSummary
        let analysis = try TrendAnalysis.analyze(count: files.count, load: { try Snapshot.load(path: files[$0].path) },
                                                 options: options, axis: periodic ? .time : .index,
                                                 symbolizer: symbolizer)
        // `trend DIR` may take another process (a worker that grew more): then say which.
        let chosen = all.flatMap { SnapshotSeries.mainProcess(among: $0)?.series.pid }
        let which = chosen == pid ? "" : " --pid \(pid)"
        Console.note("trend over \(analysis.snapshots.count) snapshots (`heapdiff trend \(shownDirectory)\(which)` for more):")
        TrendReport(analysis: analysis, keyType: options.keyType,
                    limit: min(grouping.limit == 0 ? 5 : grouping.limit, 5), target: nil, paths: paths)
            .text().dropFirst().forEach(Console.printToStandardError)
    }

    /// Forked workers (gunicorn, nginx) and children that ran the workload
    /// took snapshots of their own: each one's growth, most first, and the
    /// diff of the one that grew most.
    private func reportWorkers(_ all: [SnapshotSeries<SnapshotFile>], symbolizer: Symbolizer) throws {
        let idle = SnapshotSeries.exitOnly(started: pid, among: all)
        if !idle.isEmpty {
            Console.note("\(idle.count) more process\(idle.count == 1 ? "" : "es") (\(Self.programs(idle.map(\.program)))) "
                + "left only an exit snapshot in \(shownDirectory)/; `heapdiff snapshot PID` or --interval takes "
                + "snapshots of workers while they serve")
        }
        let workers = SnapshotSeries.workers(started: pid, among: all)
        guard let most = workers.first else { return }
        Console.note(workers.count == 1
            ? "1 more process took snapshots of its own in \(shownDirectory)/:"
            : "\(workers.count) more processes took snapshots of their own in \(shownDirectory)/; their traced heap, "
                + "most growth first:")
        for worker in workers.prefix(Self.workersListed) {
            Console.printToStandardError("  " + line(for: worker))
        }
        if workers.count > Self.workersListed {
            Console.printToStandardError("  … and \(workers.count - Self.workersListed) more")
        }
        guard let comparison = most.comparison, let growth = most.heapGrowth, growth > 0 else { return }
        Console.note("growth in process \(most.pid ?? 0), which grew most, from \(comparison.old.name) "
            + "to \(comparison.new.name)\(most.leftOutNote.map { " (\($0))" } ?? ""):")
        let printer = ReportPrinter(grouping: grouping, format: .text, output: Console.printToStandardError,
                                    symbolizer: symbolizer)
        try printer.printDiff(old: try Snapshot.load(path: comparison.old.path),
                              new: try Snapshot.load(path: comparison.new.path))
        if most.hasTrend {
            Console.note("`heapdiff trend \(shownDirectory) --pid \(most.pid ?? 0)` for its trend")
        }
    }

    /// `process 4242 (python3.11): +1.2 MiB over 4 snapshots (first … last)`
    private func line(for worker: SnapshotSeries<SnapshotFile>) -> String {
        let who = "process \(worker.pid ?? 0) (\(worker.program))"
        guard let comparison = worker.comparison, let growth = worker.heapGrowth else {
            let only = worker.comparable.first ?? worker.members[0]
            return "\(who): one snapshot, \(SizeFormatting.size(Int64(clamping: only.process.liveBytes))) live (\(only.name))"
        }
        return "\(who): \(SizeFormatting.size(growth, signed: true)) over \(worker.comparable.count) snapshots "
            + "(\(comparison.old.name) … \(comparison.new.name))"
    }

    /// Helpers that took no snapshot of their own left their exit snapshots
    /// in helpers/, out of the program's way: say where, once.
    /// Named largest heap first: when the program is a launcher that runs
    /// the real work as a child (`fakeroot`, `sh -c 'a; b'`), that child is
    /// a helper, and the line after says where its heap is.
    private func noteHelpers() {
        let files = SnapshotDirectory.helpers(in: directory)
        guard !files.isEmpty else { return }
        let read = files.map { path in (path: path, live: (try? SnapshotFile(path: path))?.process.liveBytes ?? 0) }
        let largestFirst = read.enumerated().sorted { ($0.element.live, $1.offset) > ($1.element.live, $0.offset) }
            .map(\.element)
        let names = largestFirst.compactMap { SnapshotFileName(URL(fileURLWithPath: $0.path).lastPathComponent)?.program }
        let helpers = URL(fileURLWithPath: directory).appendingPathComponent(SnapshotDirectory.helpersSubdirectory).path
        Console.note((files.count == 1 ? "1 exit snapshot of a helper that took none of its own"
                                       : "\(files.count) exit snapshots of helpers that took none of their own")
            + " (\(Self.programs(names))) \(files.count == 1 ? "is" : "are") in \(paths.show(helpers))/")
        if let largest = largestFirst.first, largest.live >= Self.notableHelperHeap,
           let name = SnapshotFileName(URL(fileURLWithPath: largest.path).lastPathComponent) {
            let who = files.count == 1 ? "\(name.program) (pid \(name.pid))" : "the largest, \(name.program) (pid \(name.pid)),"
            Console.note("\(who) held \(SizeFormatting.size(Int64(clamping: largest.live))) when it ended: "
                + "`heapdiff top \(paths.show(largest.path))`")
        }
    }

    /// A helper's heap at its end worth pointing at (a compiler's, or a
    /// launcher's child doing the real work), not a shell's few KiB.
    static let notableHelperHeap: UInt64 = 64 * 1024

    /// Leak tests that a test harness (pytest-heapdiff, HeapDiffTesting)
    /// judged in the program: how many, and the first that kept growing.
    private func noteLeakTests() {
        let (verdicts, problems) = LeakTestVerdictFiles.load(directory: directory, since: verdictsBefore)
        problems.forEach { Console.warning($0) }
        guard !verdicts.isEmpty else { return }
        Console.note(LeakTestsReport(verdicts: verdicts, paths: paths).summaryLine())
    }

    /// `bash, readlink, basename, …`: the first three distinct names.
    private static func programs(_ names: [String]) -> String {
        var distinct: [String] = []
        for name in names where !distinct.contains(name) { distinct.append(name) }
        return distinct.prefix(3).joined(separator: ", ") + (distinct.count > 3 ? ", …" : "")
    }
}
