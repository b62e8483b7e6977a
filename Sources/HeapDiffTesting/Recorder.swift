import Foundation
import HeapDiffFormat
import HeapDiffKit
#if canImport(Glibc)
import Glibc
#endif

/// libheapdiff.so as this process sees it: `heapdiff_snapshot` found with
/// dlsym (a test target never links against the recorder), and the snapshot
/// files it writes for this process.
struct Recorder: @unchecked Sendable {
    typealias SnapshotFunction = @convention(c) (UnsafePointer<CChar>?) -> Int32
    typealias PauseFunction = @convention(c) () -> Int32
    typealias ResumeFunction = @convention(c) (Int32) -> Void

    let takeSnapshot: SnapshotFunction
    /// heapdiff_pause and heapdiff_resume (nil with a recorder older than them).
    let pause: PauseFunction?
    let resume: ResumeFunction?
    /// HEAPDIFF_OUTPUT, resolved the way the recorder resolved it at start-up.
    let output: String
    let pid = getpid()

    /// The recorder, or nil when it is not preloaded.
    static let inThisProcess: Recorder? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "heapdiff_snapshot") else { return nil }
        let configured = ProcessInfo.processInfo.environment[HD_ENV_OUTPUT].flatMap { $0.isEmpty ? nil : $0 }
        let output = URL(fileURLWithPath: configured ?? ".",
                         relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
        let pause = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "heapdiff_pause")
        let resume = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "heapdiff_resume")
        return Recorder(takeSnapshot: unsafeBitCast(symbol, to: SnapshotFunction.self),
                        pause: pause.map { unsafeBitCast($0, to: PauseFunction.self) },
                        resume: resume.map { unsafeBitCast($0, to: ResumeFunction.self) }, output: output)
    }()

    /// Said once per process, the first time a body runs unjudged.
    static let notLoadedNotice: Void = {
        let notice = "HeapDiffTesting: the heapdiff recorder is not loaded, so expectNoHeapGrowth runs each body "
            + "once and judges nothing; run the tests under heapdiff (`heapdiff run -- swift test`)\n"
        FileHandle.standardError.write(Data(notice.utf8))
    }()

    /// Runs `work` with this thread paused: what it allocates is not the
    /// program's (reading and symbolizing snapshots, in an unoptimized test
    /// build, allocated ~3 times as long under the recorder as it worked).
    func unrecorded<T>(_ work: () throws -> T) rethrows -> T {
        guard let pause, let resume else { return try work() }
        let wasPaused = pause()
        defer { resume(wasPaused) }
        return try work()
    }

    /// The SEQ of this process's newest snapshot so far, 0 for none.
    func latestSequenceNumber() throws -> UInt32 {
        guard FileManager.default.fileExists(atPath: output) else { return 0 }
        return try SnapshotDirectory.snapshots(in: output, pid: pid).last?.seq ?? 0
    }

    /// Takes a snapshot and returns its SEQ, the newest one after `previous`.
    func snapshot(label: String, after previous: UInt32) throws -> UInt32 {
        guard label.withCString({ takeSnapshot($0) }) == 0 else {
            throw HeapDiffTestingError.noSnapshot("heapdiff_snapshot failed (the recorder said why on standard error)")
        }
        let newest = try latestSequenceNumber()
        guard newest > previous else {
            throw HeapDiffTestingError.noSnapshot("the recorder wrote no snapshot of process \(pid) in \(output)")
        }
        return newest
    }

    /// How many expectations ran at each place (FILE-LINE) in this process,
    /// so far; only under expectNoHeapGrowth's lock.
    nonisolated(unsafe) private static var runsAtPlace: [String: Int] = [:]

    /// The run of the expectation at this place that starts now: 1, then 2,
    /// 3… for a parameterized test's cases or a helper called from several
    /// tests, which must not share a folder of snapshots.
    static func nextRun(at fileID: String, line: Int) -> Int {
        let place = place(fileID, line)
        let run = (runsAtPlace[place] ?? 0) + 1
        runsAtPlace[place] = run
        return run
    }

    private static func place(_ fileID: String, _ line: Int) -> String {
        let file = fileID.split(separator: "/").last.map(String.init) ?? "test"
        return "\(file)-\(line)"
    }

    /// A fresh folder for the snapshots of one expectation, named after where
    /// it is written (FILE-LINE, FILE-LINE-2 for the second run there…): out
    /// of the output directory itself, where `heapdiff check` and `heapdiff
    /// run` look for the process's own snapshots.
    func folder(for fileID: String, line: Int, run: Int) throws -> String {
        let place = Self.place(fileID, line)
        let folder = output + "/HeapDiffTesting/" + (run == 1 ? place : "\(place)-\(run)")
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        return folder
    }

    /// Records a verdict where `heapdiff check` and `run` count it; a
    /// failure to record is said on standard error and does not change the test.
    func record(_ verdict: LeakTestVerdict) {
        do {
            try LeakTestVerdictFiles.append(verdict, directory: output, pid: pid)
        } catch {
            FileHandle.standardError.write(Data("HeapDiffTesting: \(error)\n".utf8))
        }
    }

    /// Moves the snapshots numbered `sequenceNumbers` into `folder` and
    /// returns their new paths.
    func move(_ sequenceNumbers: [UInt32], to folder: String) throws -> [String] {
        let files = Dictionary(try SnapshotDirectory.snapshots(in: output, pid: pid).map { ($0.seq, $0.path) },
                               uniquingKeysWith: { first, _ in first })
        return try sequenceNumbers.map { seq in
            guard let path = files[seq] else {
                throw HeapDiffTestingError.noSnapshot("snapshot #\(seq) of process \(pid) is gone from \(output)")
            }
            let moved = folder + "/" + URL(fileURLWithPath: path).lastPathComponent
            try FileManager.default.moveItem(atPath: path, toPath: moved)
            return moved
        }
    }
}
