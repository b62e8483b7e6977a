import Foundation

/// Anything that carries the PROCESS record of one snapshot: a loaded
/// `Snapshot`, or a `SnapshotFile` whose record alone was read.
public protocol SeriesMember: Sendable {
    var path: String { get }
    var process: ProcessRecord { get }
}

extension Snapshot: SeriesMember {}

/// A snapshot file known by its PROCESS record only: enough to choose among
/// a series before reading any traces.
public struct SnapshotFile: SeriesMember, Equatable {
    public var path: String
    public var process: ProcessRecord

    public init(path: String, process: ProcessRecord) {
        self.path = path
        self.process = process
    }

    /// Reads the file's PROCESS record (`ProcessRecord.load(path:)`).
    public init(path: String) throws {
        self.init(path: path, process: try ProcessRecord.load(path: path))
    }

    public var name: String { URL(fileURLWithPath: path).lastPathComponent }
}

/// The snapshots of one process, in the order it took them, and the one set
/// of rules by which `check`, `trend`, `report` and `run`'s summary choose
/// among them:
///
/// - A process's *own* snapshots are those it took while its program ran:
///   its `heapdiff_snapshot()` calls, the snapshot signal, `--interval`.
///   The exit snapshot is not one of them: by exit the work has stopped and
///   destructors have often freed what the program held (a Rust or C++
///   program's drops, OpenSSL's cleanup), so that a cache that grew all run
///   long showed as shrinking.
/// - A snapshot taken while a CPython interpreter shuts down (flagged by the
///   recorder; every exit snapshot of a `python` run is) shows the teardown,
///   not the program. When the process took snapshots of its own, such a
///   snapshot is never the "after" of a comparison, nor a point of a trend
///   or a report: it is left out.
/// - `comparable`: what a diff spans (first to last) and a report charts:
///   the own snapshots when there are two or more; with one, that and the
///   exit snapshot, unless it is a teardown (the only "after" there is);
///   with none, every snapshot.
/// - `trend`: the comparable snapshots, when there are three.
/// - `compared(warmup:)`: a leak check's phases, which are the own
///   snapshots (the exit snapshot only when the program took none). Two are
///   compared as they are; of more, the first `warmup` are dropped, but
///   never so many that fewer than two remain. Fewer than two phases: no
///   comparison spans the workload, and that is an error, never a pass.
public struct SnapshotSeries<Member: SeriesMember>: Sendable {
    /// Oldest first (by SEQ; members given out of order are sorted).
    public let members: [Member]

    public init(_ members: [Member]) {
        self.members = members.enumerated()
            .sorted { ($0.element.process.seq, $0.offset) < ($1.element.process.seq, $1.offset) }
            .map(\.element)
    }

    public var pid: Int32? { members.first.map { Int32(bitPattern: $0.process.pid) } }

    /// The snapshots of the process's last image: a process that executed
    /// itself again (haproxy's reload, a service restarting in place), a pid
    /// recycled into a directory used before, or an attach session after an
    /// earlier one began recording anew, and its files go on past the
    /// earlier ones' SEQs. The image is told by the time its recording began;
    /// the last is the one that wrote the latest snapshot.
    public var lastImage: SnapshotSeries {
        guard let latest = members.max(by: { $0.process.wallTimeNs < $1.process.wallTimeNs }),
              members.contains(where: { $0.process.startMonotonicNs != latest.process.startMonotonicNs })
        else { return self }
        return SnapshotSeries(members.filter { $0.process.startMonotonicNs == latest.process.startMonotonicNs })
    }

    /// The program's name as it was started (`python3.11`, `redis-server`).
    public var program: String {
        guard let last = members.last else { return "the program" }
        return SnapshotFileName.programName(path: last.path, process: last.process) ?? "the program"
    }

    // MARK: - The rules

    /// Taken by the program while it ran, not at exit nor during an interpreter's teardown.
    public static func isOwn(_ member: Member) -> Bool {
        member.process.trigger != .exit && !member.process.pythonFinalizing
    }

    /// The snapshots the program took itself (calls, signal, interval).
    public var own: [Member] { members.filter(Self.isOwn) }

    /// The exit snapshot, when there is one.
    public var exit: Member? { members.last { $0.process.trigger == .exit } }

    /// What a comparison may span: the own snapshots when there are two or
    /// more; with one, every snapshot but those of an interpreter's
    /// teardown; with none, every snapshot.
    public var comparable: [Member] {
        let own = own
        if own.count >= 2 { return own }
        guard !own.isEmpty else { return members }
        return members.filter { !$0.process.pythonFinalizing }
    }

    /// Snapshots that `comparable` leaves out.
    public var leftOut: [Member] {
        let kept = Set(comparable.map(\.process.seq))
        return members.filter { !kept.contains($0.process.seq) }
    }

    /// Whether everything `comparable` leaves out was taken in an
    /// interpreter's teardown (not only, or not at all, the exit snapshot).
    public var leftOutOnlyTeardown: Bool {
        leftOut.allSatisfy(\.process.pythonFinalizing)
    }

    /// What the reports say of `leftOut` after naming what they compare
    /// ("growth from A to B (…)"); nil when nothing is left out.
    public var leftOutNote: String? {
        let out = leftOut
        guard !out.isEmpty else { return nil }
        if leftOutOnlyTeardown { return "later ones were taken as Python finalized" }
        if out.contains(where: \.process.pythonFinalizing) { return "later ones were taken as Python finalized or at exit" }
        return "the exit snapshot, taken after destructors ran, is left out"
    }

    /// The first and last comparable snapshots: what `run`'s summary and a
    /// report diff by default. Nil with fewer than two.
    public var comparison: (old: Member, new: Member)? {
        let comparable = comparable
        guard comparable.count >= 2, let old = comparable.first, let new = comparable.last else { return nil }
        return (old, new)
    }

    /// The snapshots a trend is fitted over (it needs three): never the exit
    /// snapshot once there are two of the program's own, so never a teardown
    /// as the latest point, which would bend every series towards shrinking.
    public var trend: [Member] { comparable }

    /// Snapshots a trend needs at least.
    public static var trendMinimum: Int { 3 }

    /// Whether `trend` has enough snapshots for a trend.
    public var hasTrend: Bool { trend.count >= Self.trendMinimum }

    /// The snapshots taken from `seq` on: an attach's own, not those of an
    /// earlier session into the same directory.
    public func since(seq: UInt32) -> SnapshotSeries {
        SnapshotSeries(members.filter { $0.process.seq >= seq })
    }

    /// A leak check's phases: the own snapshots, or the exit snapshot when
    /// the program took none.
    public var phases: [Member] {
        let own = own
        if !own.isEmpty { return own }
        return exit.map { [$0] } ?? []
    }

    /// The phases a leak check compares, oldest first, after warm-up.
    public func compared(warmup: Int) throws(SeriesError) -> [Member] {
        let phases = phases
        guard phases.count >= 2 else { throw .tooFewPhases(program: program, pid: pid, own: own.count) }
        return Array(phases.dropFirst(min(max(warmup, 0), phases.count - 2)))
    }

    // MARK: - Which process

    /// The series a check is about, among those of a run's directory: the
    /// started program's when it took at least two snapshots of its own,
    /// otherwise that of the process that took the most (a test runner such
    /// as `swift test`, or a wrapper script, runs the workload in a child);
    /// the started program's again when nobody took two.
    public static func checked(started: Int32, among all: [SnapshotSeries]) -> SnapshotSeries? {
        let startedSeries = all.first { $0.pid == started }
        if let startedSeries, startedSeries.own.count >= 2 { return startedSeries }
        let busiest = all.max { lhs, rhs in (lhs.own.count, rhs.pid ?? 0) < (rhs.own.count, lhs.pid ?? 0) }
        if let busiest, busiest.own.count >= 2 { return busiest }
        return startedSeries
    }

    /// The other processes of a run that left only an exit snapshot: workers
    /// that were never asked for one (and, with HEAPDIFF_FOLLOW_CHILDREN=all,
    /// helpers), in pid order.
    public static func exitOnly(started: Int32, among all: [SnapshotSeries]) -> [SnapshotSeries] {
        all.filter { $0.pid != started && $0.own.isEmpty }
    }

    /// Whether a helper's exit snapshot is in fact a worker's: a process
    /// that this series' program (its last image, after any exec) forked and
    /// that executed nothing since, as its recording began with the
    /// program's: a gunicorn or nginx worker that took no snapshot of its
    /// own. When it exits the recorder cannot tell it from the subshells of a
    /// launcher that has yet to execute the program (pyenv's shim); once the
    /// program has ended, this can.
    public func forked(_ helper: some SeriesMember) -> Bool {
        guard let program = members.last?.process else { return false }
        return helper.process.ppid == program.pid && helper.process.startMonotonicNs == program.startMonotonicNs
    }

    /// How much the traced heap grew over `comparison` (nil without one).
    public var heapGrowth: Int64? {
        comparison.map { Int64(saturating: $0.new.process.liveBytes) - Int64(saturating: $0.old.process.liveBytes) }
    }

    /// The other processes of a run that took snapshots of their own: forked
    /// workers (gunicorn, nginx, multiprocessing), a test runner's child.
    /// The one whose traced heap grew most comes first; those with a single
    /// snapshot, whose growth is unknown, last; ties by pid.
    public static func workers(started: Int32, among all: [SnapshotSeries]) -> [SnapshotSeries] {
        all.filter { $0.pid != started && !$0.own.isEmpty }.sorted { lhs, rhs in
            let (l, r) = (lhs.heapGrowth ?? .min, rhs.heapGrowth ?? .min)
            return l != r ? l > r : (lhs.pid ?? 0) < (rhs.pid ?? 0)
        }
    }
}

extension SnapshotSeries: Equatable where Member: Equatable {}

// MARK: - Reading series from files

/// Why a series cannot be read or used.
public enum SeriesError: Error, Equatable, CustomStringConvertible {
    case noSnapshots(directory: String)
    /// `--pid` names a process without snapshots in the directory; `present`
    /// lists those that have some ("8742 (gcc, 3 snapshots)"), in pid order.
    case noSnapshotsOfProcess(directory: String, pid: Int32, present: [String])
    /// Files of two processes given as one series; `analysis` names what
    /// follows one process ("a trend", "a leak check").
    case mixedProcesses(path: String, pid: UInt32, firstPath: String, firstPID: UInt32, analysis: String)
    /// Files of one pid whose recording began at two different times: the
    /// process executed a program again (or the pid was recycled, or it was
    /// attached anew) between them, and its heap started over.
    case twoImages(path: String, firstPath: String, pid: UInt32, analysis: String)
    /// One snapshot given twice (two files with the same SEQ of one process).
    case sameSnapshot(path: String, otherPath: String, seq: UInt32, pid: UInt32)
    /// A leak check has fewer than two phases: `own` snapshots the program took itself.
    case tooFewPhases(program: String, pid: Int32?, own: Int)

    public var description: String {
        switch self {
        case .noSnapshots(let directory):
            return "\(directory): no snapshots"
        case let .noSnapshotsOfProcess(directory, pid, present):
            let shown = present.prefix(5).joined(separator: ", ") + (present.count > 5 ? ", …" : "")
            return "\(directory) holds no snapshots of process \(pid)"
                + (present.isEmpty ? "" : "; it holds those of process\(present.count == 1 ? "" : "es") \(shown)")
        case let .mixedProcesses(path, pid, firstPath, firstPID, analysis):
            return "\(path) is of process \(pid), \(firstPath) of process \(firstPID); \(analysis) follows one process"
        case let .twoImages(path, firstPath, pid, analysis):
            return "\(firstPath) and \(path) are of process \(pid) before and after its recording began anew "
                + "(it executed a program again, or was attached again); \(analysis) follows one recording"
        case let .sameSnapshot(path, otherPath, seq, pid):
            return "\(path) and \(otherPath) are the same snapshot (#\(seq) of process \(pid))"
        case let .tooFewPhases(program, pid, own):
            let who = pid.map { "\(program) (pid \($0))" } ?? program
            let took = own == 0 ? "took no snapshot of its own" : "took \(own) snapshot\(own == 1 ? "" : "s") of its own"
            return "\(who) \(took), so no comparison spans its workload (its exit snapshot is not a phase): "
                + "take one snapshot after warm-up and one after the load, with heapdiff_snapshot() or --interval"
        }
    }
}

extension SnapshotSeries {
    /// `members`, given one by one, as the series of one process, each
    /// snapshot once: the check behind every command that takes snapshot
    /// files (`trend`, `report`, `check --snapshots`). `analysis` names the
    /// command's use of them in the error ("a trend").
    public static func ofOneProcess(_ members: [Member], analysis: String = "a series") throws(SeriesError)
        -> SnapshotSeries {
        if let first = members.first, let other = members.first(where: { $0.process.pid != first.process.pid }) {
            throw .mixedProcesses(path: other.path, pid: other.process.pid, firstPath: first.path,
                                  firstPID: first.process.pid, analysis: analysis)
        }
        if let first = members.first,
           let other = members.first(where: { $0.process.startMonotonicNs != first.process.startMonotonicNs }) {
            throw .twoImages(path: other.path, firstPath: first.path, pid: first.process.pid, analysis: analysis)
        }
        let series = SnapshotSeries(members)
        if let twice = zip(series.members, series.members.dropFirst()).first(where: { $0.process.seq == $1.process.seq }) {
            throw .sameSnapshot(path: twice.0.path, otherPath: twice.1.path, seq: twice.0.process.seq,
                                pid: twice.0.process.pid)
        }
        return series
    }
}

extension SnapshotSeries where Member == SnapshotFile {
    /// `pid`'s snapshots in `directory` (after an exec, the last program's;
    /// see `SnapshotDirectory`), each known by its PROCESS record.
    public static func load(directory: String, pid: Int32) throws -> SnapshotSeries {
        SnapshotSeries(try SnapshotDirectory.snapshots(in: directory, pid: pid).map { try SnapshotFile(path: $0.path) })
            .lastImage
    }

    /// One series per process that left snapshots in `directory`, in pid order.
    public static func loadAll(directory: String) throws -> [SnapshotSeries] {
        try SnapshotDirectory.processes(in: directory).map { try load(directory: directory, pid: $0) }
    }

    /// The recorder writes the exit snapshot of every descendant of the
    /// program that took none of its own to the helpers subfolder; once the
    /// program `pid` has ended, those of the workers it forked
    /// (`forked(_:)`) are moved back beside its files, and an emptied
    /// subfolder is removed (a program run as root makes it at its start).
    /// Files that cannot be read or moved stay.
    ///
    /// A program that wrote no snapshot at all (killed by a signal it left
    /// to its default action, as vsftpd is by SIGTERM) has no start time to
    /// compare: then a helper is its worker when the program is its parent
    /// and `executable` (the file heapdiff started, symlinks resolved) its
    /// own executable too; a launcher script's subshells run a shell instead.
    public static func returnForkedWorkers(in directory: String, program pid: Int32, executable: String? = nil) {
        let subfolder = URL(fileURLWithPath: directory).appendingPathComponent(SnapshotDirectory.helpersSubdirectory).path
        defer {
            if (try? FileManager.default.contentsOfDirectory(atPath: subfolder).isEmpty) == true {
                _ = rmdir(subfolder)
            }
        }
        let helpers = SnapshotDirectory.helpers(in: directory)
        guard !helpers.isEmpty, let program = try? load(directory: directory, pid: pid) else { return }
        for path in helpers {
            guard let file = try? SnapshotFile(path: path) else { continue }
            let forked = program.members.isEmpty
                ? executable.map { file.process.ppid == UInt32(bitPattern: pid) && file.process.program == $0 } ?? false
                : program.forked(file)
            guard forked else { continue }
            _ = rename(path, URL(fileURLWithPath: directory).appendingPathComponent(file.name).path)
        }
    }

    /// Snapshot files given one by one, which must be of one process
    /// (`ofOneProcess`).
    public static func load(files paths: [String], analysis: String = "a series") throws -> SnapshotSeries {
        try ofOneProcess(try paths.map { try SnapshotFile(path: $0) }, analysis: analysis)
    }

    /// What `trend` and `report` take: snapshot files of one process, or a
    /// directory, from which `pid`'s series is taken, or else that of its
    /// main process (`mainProcess`), which `note` is told of when there were
    /// others (`choiceNote`). `analysis` words the error for files of two
    /// processes (`ofOneProcess`).
    public static func load(inputs: [String], pid: Int32?, analysis: String = "a series",
                            note: (String) -> Void = { _ in }) throws -> SnapshotSeries {
        guard let directory = directory(inputs) else { return try load(files: inputs, analysis: analysis) }
        if let pid {
            let series = try load(directory: directory, pid: pid)
            guard series.members.isEmpty else { return series }
            throw SeriesError.noSnapshotsOfProcess(directory: directory, pid: pid, present: try present(in: directory))
        }
        guard let main = try mainProcess(in: directory) else { throw SeriesError.noSnapshots(directory: directory) }
        choiceNote(main, directory: directory).map(note)
        return main.series
    }

    /// The processes with snapshots in `directory`, as "PID (PROGRAM, N snapshots)".
    static func present(in directory: String) throws -> [String] {
        try SnapshotDirectory.processes(in: directory).compactMap { pid in
            let files = try SnapshotDirectory.snapshots(in: directory, pid: pid)
            guard let last = files.last, let name = SnapshotFileName(URL(fileURLWithPath: last.path).lastPathComponent)
            else { return nil }
            return "\(pid) (\(name.program), \(files.count) snapshot\(files.count == 1 ? "" : "s"))"
        }
    }

    /// The one input when it is a directory.
    public static func directory(_ inputs: [String]) -> String? {
        var isDirectory: ObjCBool = false
        guard inputs.count == 1, FileManager.default.fileExists(atPath: inputs[0], isDirectory: &isDirectory),
              isDirectory.boolValue else { return nil }
        return inputs[0]
    }

    /// The process whose series `trend` and `report` take from a directory
    /// when no pid is given: of those with a trend (three comparable
    /// snapshots), the one whose traced heap grew most, which is the leak
    /// to look at: a gunicorn or nginx worker rather than its master, a
    /// service rather than the launcher (`runuser`, `sudo -u`, a shell) that
    /// lives as long and snapshots as often but holds nothing. Then, or
    /// when none has a trend, the most snapshots; then the lowest pid. Nil
    /// when the directory holds no snapshots.
    public static func mainProcess(in directory: String) throws -> MainProcess? {
        mainProcess(among: try loadAll(directory: directory))
    }

    /// `mainProcess(in:)` of a directory's series already read (`loadAll`).
    public static func mainProcess(among all: [SnapshotSeries]) -> MainProcess? {
        let withTrend = all.filter(\.hasTrend)
        let pool = withTrend.isEmpty ? all : withTrend
        let key = { (series: SnapshotSeries) in
            (withTrend.isEmpty ? 0 : series.heapGrowth ?? .min, series.members.count, -Int64(series.pid ?? 0))
        }
        guard let chosen = pool.max(by: { key($0) < key($1) }) else { return nil }
        return MainProcess(series: chosen, withTrend: withTrend.count,
                           others: all.filter { $0.pid != chosen.pid }.map { ($0.pid ?? 0, $0.program, $0.members.count) })
    }

    /// What `mainProcess` chose, and from what.
    public struct MainProcess {
        public let series: SnapshotSeries
        /// How many processes had a trend (0: the most snapshots decided).
        public let withTrend: Int
        /// Every other process, in pid order, with its program and snapshot count.
        public let others: [(pid: Int32, program: String, count: Int)]
    }

    /// What `trend` and `report` say when they took one process of several
    /// from a directory: which, why, and the others' pids; nil when there
    /// was no other.
    static func choiceNote(_ main: MainProcess, directory: String) -> String? {
        guard !main.others.isEmpty else { return nil }
        let chosen = main.series
        let why: String
        if main.withTrend > 1, let growth = chosen.heapGrowth, growth > 0 {
            why = "of the \(main.withTrend) with a trend, the one whose traced heap grew most "
                + "(\(SizeFormatting.size(growth, signed: true)))"
        } else if main.withTrend > 1, let growth = chosen.heapGrowth {
            why = "none of the \(main.withTrend) with a trend grew (this one: \(SizeFormatting.size(growth, signed: true)), "
                + "\(chosen.members.count) snapshots)"
        } else if main.withTrend == 1 {
            why = "the only one with a trend (3 snapshots or more)"
        } else {
            why = "the one that left the most snapshots (\(chosen.members.count)), as none has a trend"
        }
        let shown = main.others.prefix(4).map { "\($0.pid) (\($0.program), \($0.count))" }.joined(separator: ", ")
        let more = main.others.count > 4 ? ", …" : ""
        return "\(directory) holds the snapshots of \(main.others.count + 1) processes: this is \(chosen.program) "
            + "(pid \(chosen.pid ?? 0)), \(why); --pid chooses another: \(shown)\(more)"
    }
}
