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
/// test`); otherwise it runs `body` once and returns, and says so once.
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
                               fileID: String = #fileID, line: Int = #line,
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
    let before = try recorder.latestSequenceNumber()
    var taken = [UInt32]()
    taken.reserveCapacity(rounds)
    for round in 1...rounds {
        try body()
        taken.append(try recorder.snapshot(label: "round \(round)", after: taken.last ?? before))
    }

    let folder = try recorder.folder(for: fileID, line: line)
    let snapshots = try recorder.move(taken, to: folder).map { try Snapshot.load(path: $0) }
    let policy = LeakCheck.Policy(maxGrowthPerSite: Int64(maxGrowthPerSite))
    let options = StatisticsOptions(rule: HeapGrowth.rule)
    let result = try LeakCheck.check(snapshots, policy: policy, options: options, symbolizer: Symbolizer())
    guard !result.passed else {
        try? FileManager.default.removeItem(atPath: folder)
        return
    }
    throw HeapGrowth(result: result, policy: policy, directory: folder)
}

/// Serializes expectations: two measuring at once would see each other's growth.
private let oneAtATime = NSLock()
