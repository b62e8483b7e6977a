import Foundation
import Testing
@testable import HeapDiffKit

/// `SnapshotSeries`: which snapshots of a process `check`, `trend`, `report`
/// and `run`'s summary use, from the one set of rules.
@Suite struct SnapshotSeriesTests {
    static let finalizing = FormatLayout.Process.flagPythonFinalizing

    /// A snapshot taken by `trigger`, with `kib` KiB live at one site (0x10).
    static func snapshot(_ seq: UInt32, _ trigger: Trigger = .api, kib: UInt64 = 1, flags: UInt32 = 0,
                         pid: UInt32 = 7) -> Snapshot {
        let bytes = kib * 1_024
        return Snapshot(path: "p\(pid).s\(seq)",
                        process: ProcessRecord(pid: pid, seq: seq, trigger: trigger, monotonicNs: UInt64(seq) * 1_000_000_000,
                                               liveBytes: bytes, liveCount: kib, flags: flags,
                                               program: "/usr/bin/app", label: "phase \(seq)"),
                        traces: [Trace(liveBytes: bytes, liveCount: kib, frames: [0x10])])
    }

    static func seqs(_ members: [Snapshot]) -> [UInt32] { members.map(\.process.seq) }

    @Test func twoPhasesAreComparedWhateverTheWarmUp() throws {
        // The plain pattern: one snapshot after warm-up, one after the load, then exit.
        let series = SnapshotSeries([Self.snapshot(1), Self.snapshot(2), Self.snapshot(3, .exit)])
        #expect(Self.seqs(series.own) == [1, 2])
        #expect(Self.seqs(series.phases) == [1, 2])
        for warmup in [0, 1, 5] {
            #expect(Self.seqs(try series.compared(warmup: warmup)) == [1, 2])
        }
    }

    @Test func warmUpIsDroppedButTwoPhasesRemain() throws {
        let series = SnapshotSeries((1...4).map { Self.snapshot($0) } + [Self.snapshot(5, .exit)])
        #expect(Self.seqs(try series.compared(warmup: 0)) == [1, 2, 3, 4])
        #expect(Self.seqs(try series.compared(warmup: 1)) == [2, 3, 4])
        #expect(Self.seqs(try series.compared(warmup: 2)) == [3, 4])
        #expect(Self.seqs(try series.compared(warmup: 9)) == [3, 4])
        // Given in any order, compared in the order taken.
        #expect(Self.seqs(try SnapshotSeries(series.members.reversed()).compared(warmup: 1)) == [2, 3, 4])
    }

    @Test func fewerThanTwoPhasesIsAnErrorNeverAPass() {
        let one = SnapshotSeries([Self.snapshot(1), Self.snapshot(2, .exit)])
        #expect(throws: SeriesError.tooFewPhases(program: "app", pid: 7, own: 1)) { try one.compared(warmup: 0) }
        // The exit snapshot is a phase only when the program took none: then it is the only one.
        let none = SnapshotSeries([Self.snapshot(1, .exit)])
        #expect(Self.seqs(none.phases) == [1])
        #expect(throws: SeriesError.tooFewPhases(program: "app", pid: 7, own: 0)) { try none.compared(warmup: 0) }
        #expect(SeriesError.tooFewPhases(program: "app", pid: 7, own: 1).description
            == "app (pid 7) took 1 snapshot of its own, so no comparison spans its workload (its exit snapshot is not a "
            + "phase): take one snapshot after warm-up and one after the load, with heapdiff_snapshot() or --interval")
    }

    @Test func aTeardownIsNeverTheAfterOfAComparison() throws {
        // Two own snapshots, then the exit snapshot of a Python interpreter's teardown.
        let series = SnapshotSeries([Self.snapshot(1, kib: 10), Self.snapshot(2, kib: 30),
                                     Self.snapshot(3, .exit, kib: 2, flags: Self.finalizing)])
        #expect(Self.seqs(series.comparable) == [1, 2])
        #expect(Self.seqs(series.leftOut) == [3])
        #expect(series.comparison.map { [$0.old.process.seq, $0.new.process.seq] } == [1, 2])
        #expect(Self.seqs(series.trend) == [1, 2])
        #expect(series.heapGrowth == Int64(20 * 1_024))
        // Interval snapshots that fired during the teardown are left out as well.
        let late = SnapshotSeries([Self.snapshot(1), Self.snapshot(2), Self.snapshot(3), Self.snapshot(4, .interval, flags: Self.finalizing),
                                   Self.snapshot(5, .exit, flags: Self.finalizing)])
        #expect(Self.seqs(late.own) == [1, 2, 3])
        #expect(Self.seqs(late.comparable) == [1, 2, 3])
        #expect(Self.seqs(late.trend) == [1, 2, 3])
        // With one own snapshot there is nothing to compare; the teardown is still not used.
        let single = SnapshotSeries([Self.snapshot(1), Self.snapshot(2, .exit, flags: Self.finalizing)])
        #expect(Self.seqs(single.comparable) == [1])
        #expect(single.comparison == nil)
        // A program that took none: its snapshots are all there is.
        let exitOnly = SnapshotSeries([Self.snapshot(1, .exit, flags: Self.finalizing)])
        #expect(Self.seqs(exitOnly.comparable) == [1])
    }

    /// A native exit snapshot comes after destructors and atexit handlers ran
    /// (a Rust service's cache dropped at the end of main read as -20 MiB,
    /// "shrinking"): it is the "after" only of a program's single own snapshot.
    @Test func aNativeExitSnapshotIsTheAfterOfASingleOwnSnapshotOnly() {
        let short = SnapshotSeries([Self.snapshot(1, kib: 10), Self.snapshot(2, kib: 30), Self.snapshot(3, .exit, kib: 1)])
        #expect(Self.seqs(short.comparable) == [1, 2])
        #expect(Self.seqs(short.leftOut) == [3])
        #expect(short.leftOutNote == "the exit snapshot, taken after destructors ran, is left out")
        #expect(short.comparison.map { [$0.old.process.seq, $0.new.process.seq] } == [1, 2])
        #expect(short.heapGrowth == Int64(20 * 1_024))
        #expect(!short.hasTrend)
        let single = SnapshotSeries([Self.snapshot(1, kib: 10), Self.snapshot(2, .exit, kib: 30)])
        #expect(Self.seqs(single.comparable) == [1, 2])
        #expect(single.leftOutNote == nil)
        #expect(single.comparison.map { [$0.old.process.seq, $0.new.process.seq] } == [1, 2])
        let long = SnapshotSeries((1...3).map { Self.snapshot($0) } + [Self.snapshot(4, .exit)])
        #expect(Self.seqs(long.trend) == [1, 2, 3])
        #expect(Self.seqs(long.comparable) == [1, 2, 3])
        // A teardown and an exit snapshot both left out.
        let both = SnapshotSeries([Self.snapshot(1), Self.snapshot(2), Self.snapshot(3, .interval, flags: Self.finalizing),
                                   Self.snapshot(4, .exit)])
        #expect(both.leftOutNote == "later ones were taken as Python finalized or at exit")
    }

    /// check, trend and run's summary judge a series that ends in a teardown alike.
    @Test func checkTrendAndRunJudgeATeardownSeriesAlike() throws {
        // Four phases leaking 8 KiB each at 0x10, then Python's teardown frees everything.
        let series = (1...4).map { Self.snapshot(UInt32($0), kib: UInt64(8 * $0)) }
            + [Self.snapshot(5, .exit, kib: 1, flags: Self.finalizing)]
        let check = try LeakCheck.check(series, policy: .init(maxGrowthPerSite: 4_096, warmupSnapshots: 1),
                                        symbolizer: Symbolizer())
        #expect(Self.seqs(check.compared) == [2, 3, 4])
        #expect(check.findings.map(\.key) == [.address(module: "", offset: 0x10)])
        #expect(check.findings.first?.sizes == [16_384, 24_576, 32_768])
        let trend = try TrendAnalysis.analyze(series, axis: .index, symbolizer: Symbolizer())
        #expect(Self.seqs(trend.snapshots) == [1, 2, 3, 4])
        #expect(trend.sites.first?.key == .address(module: "", offset: 0x10))
        #expect(trend.sites.first?.series.verdict == .steadyGrowth)
        #expect(trend.heap.verdict == .steadyGrowth)
        let run = SnapshotSeries(series)
        #expect(run.comparison.map { [$0.old.process.seq, $0.new.process.seq] } == [1, 4])
        #expect(run.heapGrowth == Int64(24 * 1_024))
        // With only two phases: check compares them, and a trend is refused rather than fitted to the teardown.
        let two = Array(series.prefix(2)) + [series[4]]
        #expect(Self.seqs(try LeakCheck.check(two, policy: .init(), symbolizer: Symbolizer()).compared) == [1, 2])
        #expect(throws: TrendAnalysis.Failure.tooFewBeforeTeardown(2, leftOut: 1)) {
            try TrendAnalysis.analyze(two, axis: .index, symbolizer: Symbolizer())
        }
    }

    @Test func theProcessThatTookThePhasesIsChecked() {
        func series(pid: UInt32, own: Int) -> SnapshotSeries<Snapshot> {
            SnapshotSeries((0..<own).map { Self.snapshot(UInt32($0 + 1), pid: pid) }
                           + [Self.snapshot(UInt32(own + 1), .exit, pid: pid)])
        }
        // The started program took its own phases.
        #expect(SnapshotSeries.checked(started: 10, among: [series(pid: 10, own: 3), series(pid: 11, own: 6)])?.pid == 10)
        // A runner (10) whose child (12) ran the workload.
        #expect(SnapshotSeries.checked(started: 10, among: [series(pid: 10, own: 0), series(pid: 11, own: 0),
                                                            series(pid: 12, own: 3)])?.pid == 12)
        // Nobody took two: the started program, whose error then explains.
        #expect(SnapshotSeries.checked(started: 10, among: [series(pid: 10, own: 1), series(pid: 11, own: 0)])?.pid == 10)
        #expect(SnapshotSeries<Snapshot>.checked(started: 10, among: []) == nil)
    }

    @Test func workersAreRankedByGrowth() {
        func worker(_ pid: UInt32, _ kibs: [UInt64]) -> SnapshotSeries<Snapshot> {
            SnapshotSeries(kibs.enumerated().map { Self.snapshot(UInt32($0.offset + 1), .signal, kib: $0.element, pid: pid) }
                           + [Self.snapshot(UInt32(kibs.count + 1), .exit, kib: 1, flags: Self.finalizing, pid: pid)])
        }
        let master = SnapshotSeries([Self.snapshot(1, .exit, kib: 185, flags: Self.finalizing, pid: 100)])
        let all = [master, worker(101, [10, 20]), worker(102, [10, 90]), worker(103, [50]), worker(104, [10, 10])]
        let ranked = SnapshotSeries.workers(started: 100, among: all)
        #expect(ranked.map(\.pid) == [102, 101, 104, 103])
        #expect(ranked.map(\.heapGrowth) == [80 * 1_024, 10 * 1_024, 0, nil])
    }

    /// A helper's exit snapshot is a worker's when the program's last image
    /// forked it and it executed nothing since: same recording start.
    @Test func forkedWorkersAreToldFromALaunchersHelpers() {
        func record(pid: UInt32, ppid: UInt32, start: UInt64, trigger: Trigger = .exit) -> Snapshot {
            Snapshot(path: "\(pid)", process: ProcessRecord(pid: pid, ppid: ppid, trigger: trigger, startMonotonicNs: start))
        }
        // pid 10 ran bash from t=1 (the shim), then executed python at t=5.
        let program = SnapshotSeries([record(pid: 10, ppid: 1, start: 5, trigger: .api), record(pid: 10, ppid: 1, start: 5)])
        #expect(program.forked(record(pid: 11, ppid: 10, start: 5)))        // a worker python forked
        #expect(!program.forked(record(pid: 12, ppid: 10, start: 1)))       // a subshell of the shim
        #expect(!program.forked(record(pid: 13, ppid: 10, start: 7)))       // a program python executed
        #expect(!program.forked(record(pid: 14, ppid: 11, start: 5)))       // a worker's own child
    }

    /// A directory of several processes: `trend` and `report` take, of those
    /// with a trend, the one whose heap grew most. A launcher (runuser, sudo
    /// -u) snapshots as often as its program and, with the lower pid, used to
    /// be taken; a gunicorn master, started first and stopped last, left
    /// more snapshots than the worker that leaked.
    @Test func theProcessThatGrewMostIsTakenFromADirectory() throws {
        let directory = try TemporaryDirectory()
        func write(_ program: String, pid: UInt32, kib: [UInt64], in directory: TemporaryDirectory) throws {
            for (index, live) in kib.enumerated() {
                var builder = SnapshotBuilder()
                let seq = UInt32(index + 1)
                builder.process = ProcessRecord(pid: pid, seq: seq, trigger: .interval, liveBytes: live * 1_024)
                _ = try builder.write(in: directory, name: "\(program).\(pid).\(seq).heapsnap")
            }
        }
        try write("runuser", pid: 100, kib: [4, 4, 4, 4, 4], in: directory)
        try write("postgres", pid: 101, kib: [100, 200, 300, 400], in: directory)
        try write("postgres", pid: 102, kib: [50, 900], in: directory)          // more growth, but no trend
        try write("shrinker", pid: 103, kib: [900, 800, 700, 600], in: directory)

        let main = try #require(try SnapshotSeries<SnapshotFile>.mainProcess(in: directory.path))
        #expect(main.series.pid == 101 && main.withTrend == 3)
        #expect(main.others.map(\.pid) == [100, 102, 103])
        #expect(main.others.map(\.program) == ["runuser", "postgres", "shrinker"])
        #expect(main.others.map(\.count) == [5, 2, 4])
        var notes: [String] = []
        #expect(try SnapshotSeries.load(inputs: [directory.path], pid: nil, note: { notes.append($0) }).pid == 101)
        #expect(try SnapshotSeries.load(inputs: [directory.path], pid: 100, note: { notes.append($0) }).pid == 100)
        // A pid without snapshots there (a typo): the error lists those it has.
        let absent = SeriesError.noSnapshotsOfProcess(directory: directory.path, pid: 7, present: [
            "100 (runuser, 5 snapshots)", "101 (postgres, 4 snapshots)", "102 (postgres, 2 snapshots)",
            "103 (shrinker, 4 snapshots)"])
        #expect(throws: absent) { try SnapshotSeries.load(inputs: [directory.path], pid: 7) }
        #expect(absent.description == "\(directory.path) holds no snapshots of process 7; it holds those of processes "
            + "100 (runuser, 5 snapshots), 101 (postgres, 4 snapshots), 102 (postgres, 2 snapshots), 103 (shrinker, 4 snapshots)")
        #expect(notes == ["\(directory.path) holds the snapshots of 4 processes: this is postgres (pid 101), of the 3 with a "
            + "trend, the one whose traced heap grew most (+300 KiB); --pid chooses another: 100 (runuser, 5), "
            + "102 (postgres, 2), 103 (shrinker, 4)"])

        // None with a trend: the most snapshots; as many, the lowest pid.
        let short = try TemporaryDirectory()
        try write("app", pid: 21, kib: [1, 2], in: short)
        try write("app", pid: 20, kib: [1, 1], in: short)
        try write("app", pid: 22, kib: [1], in: short)
        #expect(try SnapshotSeries<SnapshotFile>.mainProcess(in: short.path)?.series.pid == 20)
        notes = []
        #expect(try SnapshotSeries.load(inputs: [short.path], pid: nil, note: { notes.append($0) }).pid == 20)
        #expect(notes == ["\(short.path) holds the snapshots of 3 processes: this is app (pid 20), the one that left the most "
            + "snapshots (2), as none has a trend; --pid chooses another: 21 (app, 2), 22 (app, 1)"])
        // None grew: as many snapshots, the lowest pid, and said so.
        let flat = try TemporaryDirectory()
        try write("nginx", pid: 41, kib: [8, 8, 8, 8], in: flat)
        try write("nginx", pid: 40, kib: [8, 8, 8, 8], in: flat)
        try write("nginx", pid: 42, kib: [9, 9, 9], in: flat)
        notes = []
        #expect(try SnapshotSeries.load(inputs: [flat.path], pid: nil, note: { notes.append($0) }).pid == 40)
        #expect(notes == ["\(flat.path) holds the snapshots of 3 processes: this is nginx (pid 40), none of the 3 with a "
            + "trend grew (this one: +0 B, 4 snapshots); --pid chooses another: 41 (nginx, 4), 42 (nginx, 3)"])
        // One process: nothing to say.
        let one = try TemporaryDirectory()
        try write("app", pid: 30, kib: [1, 2, 3], in: one)
        notes = []
        #expect(try SnapshotSeries.load(inputs: [one.path], pid: nil, note: { notes.append($0) }).pid == 30)
        #expect(notes.isEmpty)
    }

    /// Files are known by their PROCESS record alone, read from the start of the file.
    @Test func filesAreChosenFromTheirProcessRecords() throws {
        let directory = try TemporaryDirectory()
        var paths: [String] = []
        for (seq, trigger, flags) in [(UInt32(1), Trigger.api, UInt32(0)), (2, .api, 0), (3, .exit, Self.finalizing)] {
            var builder = SnapshotBuilder()
            builder.process = ProcessRecord(pid: 7, seq: seq, trigger: trigger, flags: flags, program: "/usr/bin/python3.11",
                                            commandLine: ["python3", String(repeating: "x", count: 40_000)])
            paths.append(try builder.write(in: directory, name: "python3.11.7.\(seq).heapsnap"))
        }
        var other = SnapshotBuilder()
        other.process = ProcessRecord(pid: 8, seq: 1, trigger: .api)
        let otherPath = try other.write(in: directory, name: "python3.11.8.1.heapsnap")

        let series = try SnapshotSeries.load(directory: directory.path, pid: 7)
        #expect(series.members.map(\.path) == paths)
        #expect(series.comparable.map(\.path) == Array(paths.prefix(2)))
        #expect(series.members.last?.process.commandLine.last?.count == 40_000)   // a record longer than the first read
        #expect(try SnapshotSeries.load(inputs: [directory.path], pid: nil).members.map(\.path) == paths)
        #expect(try SnapshotSeries.load(inputs: paths.reversed(), pid: nil).members.map(\.path) == paths)
        #expect(throws: SeriesError.mixedProcesses(path: otherPath, pid: 8, firstPath: paths[0], firstPID: 7,
                                                          analysis: "a series")) {
            try SnapshotSeries.load(files: [paths[0], otherPath])
        }
        #expect(throws: SeriesError.sameSnapshot(path: paths[1], otherPath: paths[1], seq: 2, pid: 7)) {
            try SnapshotSeries.load(files: [paths[1], paths[0], paths[1]], analysis: "a trend")
        }
        // A damaged file is reported as loading it would report it.
        let bad = try directory.write(Array("not a snapshot".utf8), name: "python3.11.7.4.heapsnap")
        #expect(throws: SnapshotError.notASnapshot(path: bad)) { try SnapshotFile(path: bad) }
    }

    /// A series is titled by the name its program was started as, which the
    /// recorder puts in the file names, not by the executable a symlink
    /// leads to; a file named otherwise falls back to the executable.
    @Test func theProgramIsNamedAsItWasStarted() {
        func member(_ path: String, _ program: String) -> SnapshotFile {
            SnapshotFile(path: path, process: ProcessRecord(pid: 12, seq: 1, trigger: .api, program: program))
        }
        #expect(SnapshotSeries([member("/runs/redis-server.12.1.heapsnap", "/usr/bin/redis-check-rdb")]).program
            == "redis-server")
        #expect(SnapshotSeries([member("/runs/my.app.v2.12.1.heapsnap.gz", "/opt/x")]).program == "my.app.v2")
        #expect(SnapshotSeries([member("/tmp/copied.heapsnap", "/usr/bin/redis-check-rdb")]).program == "redis-check-rdb")
        #expect(SnapshotSeries([member("/tmp/copied.heapsnap", "")]).program == "the program")
        #expect(SnapshotSeries([SnapshotFile]()).program == "the program")
    }
}
