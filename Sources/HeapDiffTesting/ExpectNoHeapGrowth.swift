import Foundation
import HeapDiffKit

/// Fails a test when its body makes some call site's memory keep growing.
///
/// Runs `body` `rounds` times with a heap snapshot after each, then judges the
/// snapshots in this process by `heapdiff check`'s rule: the first round is
/// warm-up, and a call site fails when its live bytes grew by more than
/// `maxGrowthPerSite` from the first compared round to the last and kept
/// growing across them. The error thrown then names each grown line, its
/// growth and a short stack, in `heapdiff check`'s words; XCTest and Swift
/// Testing report it as the test's failure.
///
/// Expectations run one at a time in a process, since a snapshot is of the
/// whole heap; other tests that run meanwhile (Swift Testing runs tests in
/// parallel) are measured too, so keep leak tests in a `.serialized` suite or
/// run `swift test --no-parallel` when they share a target with other tests.
///
/// It judges only when the heapdiff recorder is loaded (`heapdiff run -- swift
/// test`, `heapdiff check -- swift test`); otherwise it runs `body` once and
/// returns, and says so once. Each verdict (passed, leaked, could not judge)
/// is also recorded in the recorder's output directory, where `heapdiff
/// check` and `heapdiff run` count it; a leaking test's snapshots are kept in
/// `HeapDiffTesting/FILE-LINE/` there (`FILE-LINE-2/` for the second run of the
/// same expectation in a process, as in a parameterized test), a passing one's removed.
///
/// ```swift
/// func testLoginLogoutDoesNotGrow() throws {
///     let store = SessionStore()
///     try expectNoHeapGrowth {
///         for user in 0..<1_000 { store.logout(store.login(user: "user-\(user)")) }
///     }
/// }
/// ```
public func expectNoHeapGrowth(rounds: Int = 5, maxGrowthPerSite: Int = 4096,
                               fileID: String = #fileID, line: Int = #line, function: String = #function,
                               _ body: () throws -> Void) throws {
    guard let recorder = Recorder.inThisProcess else {
        _ = Recorder.notLoadedNotice
        try body()
        return
    }
    oneAtATime.lock()
    defer { oneAtATime.unlock() }
    guard rounds >= 2 else { throw HeapDiffTestingError.badArgument("rounds must be at least 2, not \(rounds)") }
    guard maxGrowthPerSite >= 0 else {
        throw HeapDiffTestingError.badArgument("maxGrowthPerSite must be 0 or more, not \(maxGrowthPerSite)")
    }

    // Only numbers are kept across rounds, in storage made beforehand, so
    // the harness itself adds no growth between snapshots.
    let run = Recorder.nextRun(at: fileID, line: line)
    let test = "\(fileID):\(line) in \(function)" + (run > 1 ? ", run \(run) there" : "")
    // The harness's own failures are recorded as "could not judge"; the body's are the test's.
    func judging<T>(_ step: () throws -> T) throws -> T {
        do {
            return try step()
        } catch {
            recorder.record(LeakTestVerdict(status: .error, harness: HeapGrowth.harness, test: test,
                                            summary: "\(error)"))
            throw error
        }
    }
    let before = try judging { try recorder.latestSequenceNumber() }
    var taken = [UInt32]()
    taken.reserveCapacity(rounds)
    for round in 1...rounds {
        try body()
        let previous = taken.last ?? before
        taken.append(try judging { try recorder.snapshot(label: "round \(round)", after: previous) })
    }

    let folder = try judging { try recorder.folder(for: fileID, line: line, run: run) }
    let policy = LeakCheck.Policy(maxGrowthPerSite: Int64(maxGrowthPerSite))
    let result = try judging {
        try recorder.unrecorded {
            let snapshots = try recorder.move(taken, to: folder).map { try Snapshot.load(path: $0) }
            let options = StatisticsOptions(rule: HeapGrowth.rule)
            return try LeakCheck.check(snapshots, policy: policy, options: options, symbolizer: Symbolizer())
        }
    }
    guard !result.passed else {
        try? FileManager.default.removeItem(atPath: folder)
        recorder.record(LeakTestVerdict(status: .passed, harness: HeapGrowth.harness, test: test))
        return
    }
    let growth = HeapGrowth(result: result, policy: policy, directory: folder)
    recorder.record(LeakTestVerdict(status: .leaked, harness: HeapGrowth.harness, test: test, snapshots: folder,
                                    summary: growth.summary))
    throw growth
}

/// Serializes expectations: two measuring at once would see each other's growth.
private let oneAtATime = NSLock()
