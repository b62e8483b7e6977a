import Foundation
import HeapDiffKit

/// Fails a test when its body makes some call site's memory keep growing.
///
/// Runs `body` `rounds` times with a heap snapshot after each, then judges the
/// snapshots in this process by `heapdiff check`'s rule: the first round
/// (`warmupRounds`: raise it when caches fill over several rounds) is
/// warm-up, and a call site fails when its live bytes grew by more than
/// `maxGrowthPerSite` from the first compared round to the last and kept
/// growing across them. The error thrown then names each grown line, its
/// growth and a short stack, in `heapdiff check`'s words; XCTest and Swift
/// Testing report it as the test's failure.
///
/// Expectations (synchronous and async alike) run one at a time in a
/// process, since a snapshot is of the whole heap; other tests that run
/// meanwhile (Swift Testing runs tests in parallel) are measured too, so keep
/// leak tests in a `.serialized` suite or run `swift test --no-parallel` when
/// they share a target with other tests.
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
public func expectNoHeapGrowth(rounds: Int = 5, warmupRounds: Int? = nil, maxGrowthPerSite: Int = 4096,
                               fileID: String = #fileID, line: Int = #line, function: String = #function,
                               _ body: () throws -> Void) throws {
    guard let recorder = Recorder.inThisProcess else {
        _ = Recorder.notLoadedNotice
        try body()
        return
    }
    oneAtATime.take()
    defer { oneAtATime.release() }
    var expectation = try Expectation(recorder: recorder, rounds: rounds, warmupRounds: warmupRounds,
                                      maxGrowthPerSite: maxGrowthPerSite, fileID: fileID, line: line,
                                      function: function)
    for round in 1...rounds {
        try body()
        try expectation.roundEnded(round)
    }
    try expectation.judge()
}

/// The same for a body that awaits: an async test's requests, a server's
/// handler driven through its event loops. Its work may run on any thread;
/// the snapshots are of the whole process, taken after each round's `body`
/// has returned.
///
/// ```swift
/// @Test func recommendationsStayBounded() async throws {
///     try await withApp(configure: configure) { app in
///         try await expectNoHeapGrowth {
///             for user in 0..<200 {
///                 try await app.testing().test(.GET, "users/\(user)/recommendations") { _ in }
///             }
///         }
///     }
/// }
/// ```
public func expectNoHeapGrowth(rounds: Int = 5, warmupRounds: Int? = nil, maxGrowthPerSite: Int = 4096,
                               fileID: String = #fileID, line: Int = #line, function: String = #function,
                               _ body: () async throws -> Void) async throws {
    guard let recorder = Recorder.inThisProcess else {
        _ = Recorder.notLoadedNotice
        try await body()
        return
    }
    await oneAtATime.take()
    defer { oneAtATime.release() }
    var expectation = try Expectation(recorder: recorder, rounds: rounds, warmupRounds: warmupRounds,
                                      maxGrowthPerSite: maxGrowthPerSite, fileID: fileID, line: line,
                                      function: function)
    for round in 1...rounds {
        try await body()
        try expectation.roundEnded(round)
    }
    try expectation.judge()
}

/// One expectation's rounds, between its body's runs: the snapshot after
/// each round, then the verdict. Only numbers are kept across rounds, in
/// storage made beforehand, so the harness itself adds no growth between
/// snapshots.
private struct Expectation {
    let recorder: Recorder
    let policy: LeakCheck.Policy
    let fileID: String
    let line: Int
    /// 1, or 2, 3… for later runs at the same place (a parameterized test's cases).
    let run: Int
    /// How the verdict names the test.
    let test: String
    /// The SEQ of each round's snapshot, after `before` (the newest one before the first round).
    private var taken: [UInt32]
    private let before: UInt32

    init(recorder: Recorder, rounds: Int, warmupRounds: Int?, maxGrowthPerSite: Int, fileID: String, line: Int,
         function: String) throws {
        guard rounds >= 2 else { throw HeapDiffTestingError.badArgument("rounds must be at least 2, not \(rounds)") }
        // By default the first round warms up when at least two rounds are left to compare.
        let warmup = warmupRounds ?? min(1, rounds - 2)
        guard (0...(rounds - 2)).contains(warmup) else {
            throw HeapDiffTestingError.badArgument("warmupRounds must be 0 to rounds - 2 (\(rounds - 2)), not \(warmup)")
        }
        guard maxGrowthPerSite >= 0 else {
            throw HeapDiffTestingError.badArgument("maxGrowthPerSite must be 0 or more, not \(maxGrowthPerSite)")
        }
        self.recorder = recorder
        policy = LeakCheck.Policy(maxGrowthPerSite: Int64(maxGrowthPerSite), warmupSnapshots: warmup)
        self.fileID = fileID
        self.line = line
        run = Recorder.nextRun(at: fileID, line: line)
        test = "\(fileID):\(line) in \(function)" + (run > 1 ? ", run \(run) there" : "")
        taken = []
        taken.reserveCapacity(rounds)
        before = try Self.judging(recorder, test) { try recorder.latestSequenceNumber() }
    }

    /// Runs a step of the harness's own: its failures are recorded as
    /// "could not judge" (the body's are the test's).
    private static func judging<T>(_ recorder: Recorder, _ test: String, _ step: () throws -> T) throws -> T {
        do {
            return try step()
        } catch {
            recorder.record(LeakTestVerdict(status: .error, harness: HeapGrowth.harness, test: test,
                                            summary: "\(error)"))
            throw error
        }
    }

    private func judging<T>(_ step: () throws -> T) throws -> T { try Self.judging(recorder, test, step) }

    mutating func roundEnded(_ round: Int) throws {
        let previous = taken.last ?? before
        taken.append(try judging { try recorder.snapshot(label: "round \(round)", after: previous) })
    }

    /// Keeps the rounds' snapshots in the expectation's folder and judges
    /// them; throws the growth when some site kept growing.
    func judge() throws {
        let folder = try judging { try recorder.folder(for: fileID, line: line, run: run) }
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
}

/// Serializes expectations, synchronous and async alike.
private let oneAtATime = OneAtATime()
