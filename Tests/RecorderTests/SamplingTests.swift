import Foundation
import HeapDiffKit
import Testing

/// Sampled recording (`HEAPDIFF_SAMPLE`): the live-block table and its
/// membership filter never lose or double-count a block, across threads,
/// realloc and fork; the process totals count every allocation.
@Suite struct SamplingTests {
    let symbolizer = Symbolizer()

    /// Per marked line of `file`: the summed counters of its traces (those
    /// whose allocation site is that line), freed-out traces included.
    struct Counters: Equatable {
        var liveBytes: UInt64 = 0, liveCount: UInt64 = 0, allocBytes: UInt64 = 0, allocCount: UInt64 = 0
        var liveSamples: UInt64 = 0, allocSamples: UInt64 = 0
    }

    func counters(_ sites: [String], in file: String, of snapshot: Snapshot) throws -> [String: Counters] {
        let lines = Dictionary(uniqueKeysWithValues: try sites.map { (try Harness.line(of: $0, in: file), $0) })
        var result = Dictionary(uniqueKeysWithValues: sites.map { ($0, Counters()) })
        for trace in snapshot.traces {
            // The trace's site, as grouping by line names it (a freed-out trace made live to be grouped).
            var alone = snapshot
            var probe = trace
            probe.liveCount = 1
            alone.traces = [probe]
            guard let site = alone.statistics(by: .lineno, symbolizer: symbolizer).first?.site,
                  (site.file ?? "").hasSuffix("/" + file), let line = site.line, let name = lines[line] else { continue }
            result[name]!.liveBytes += trace.liveBytes
            result[name]!.liveCount += trace.liveCount
            result[name]!.allocBytes += trace.allocBytes
            result[name]!.allocCount += trace.allocCount
            result[name]!.liveSamples += trace.liveSamples
            result[name]!.allocSamples += trace.allocSamples
        }
        return result
    }

    static let freedSites = ["handed", "chain", "chain_grow", "chain_shrink", "grown_start", "calloc_freed",
                             "aligned_freed", "forked"]
    static let keptSites = ["kept", "grown_kept"]

    /// Runs sampling_membership.c; returns the parent's and the child's snapshots.
    func runMembership(rate: String?, in dir: URL, exe: String) throws -> (parent: Snapshot, child: Snapshot) {
        let out = dir.appendingPathComponent("out-\(rate ?? "exact")")
        var environment = ["HEAPDIFF_OUTPUT": out.path]
        if let rate { environment["HEAPDIFF_SAMPLE"] = rate }
        let result = try Harness.run(exe, environment: environment)
        try #require(result.status == 0, "stderr: \(result.stderr)")
        let childPid = try #require(Int32(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let snapshots = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0) }
        let parent = try #require(snapshots.first { $0.process.label == "parent" })
        let child = try #require(snapshots.first { $0.process.label == "child" && $0.process.pid == UInt32(childPid) })
        return (parent, child)
    }

    @Test func everyBlockRecordedWholeGivesTheExactCounts() throws {
        // HEAPDIFF_SAMPLE=1: every allocation is at least the rate, so each is
        // recorded whole, through the sampled path (filter included).
        let dir = try Harness.temporaryDirectory("sampling-whole")
        let exe = try Harness.build("sampling_membership", in: dir)
        let sampled = try runMembership(rate: "1", in: dir, exe: exe)
        let exact = try runMembership(rate: nil, in: dir, exe: exe)
        #expect(sampled.parent.process.sampleRate == 1 && exact.parent.process.sampleRate == 0)
        let sites = Self.freedSites + Self.keptSites
        for (name, snapshots) in [("parent", (sampled.parent, exact.parent)), ("child", (sampled.child, exact.child))] {
            let whole = try counters(sites, in: "sampling_membership.c", of: snapshots.0)
            let reference = try counters(sites, in: "sampling_membership.c", of: snapshots.1)
            for site in Self.freedSites {
                #expect(whole[site]!.liveCount == 0 && whole[site]!.liveBytes == 0, "\(name) \(site): \(whole[site]!)")
            }
            // 8 threads x 3,000 kept blocks of 16 + (37 round + 11 thread) mod 700 bytes.
            var keptBytes: UInt64 = 0
            for thread in 0..<8 {
                for round in 0..<3000 { keptBytes += 16 + UInt64((round * 37 + thread * 11) % 700) }
            }
            #expect(whole["kept"]!.liveCount == 24_000 && whole["kept"]!.liveBytes == keptBytes, "\(name)")
            // 8 threads x 300 blocks grown to 100 + round bytes (round = 0, 10, … 2990).
            var grownBytes: UInt64 = 0
            for step in 0..<300 { grownBytes += 8 * (100 + UInt64(step * 10)) }
            #expect(whole["grown_kept"]!.liveCount == 2_400 && whole["grown_kept"]!.liveBytes == grownBytes, "\(name)")
            #expect(whole.mapValues(\.liveBytes) == reference.mapValues(\.liveBytes), "\(name)")
            // A sampled snapshot keeps every stack (an exact one only those with live blocks), so
            // every site's allocations are there: 8 threads x 3,000 rounds, a 12-step realloc chain
            // per round, a block grown with realloc every 10th round, 2,000 before the fork.
            #expect(whole.mapValues(\.allocCount) == [
                "kept": 24_000, "handed": 24_000, "chain": 24_000, "chain_grow": 288_000, "chain_shrink": 24_000,
                "grown_start": 2_400, "grown_kept": 2_400, "calloc_freed": 24_000, "aligned_freed": 24_000,
                "forked": 2_000,
            ], "\(name)")
            #expect(whole["kept"]!.allocCount == reference["kept"]!.allocCount)
            #expect(whole.values.allSatisfy { $0.liveSamples == 0 && $0.allocSamples == 0 })
            #expect(snapshots.0.process.liveSamples == 0)
        }
    }

    @Test(arguments: ["4096", "64KiB"])
    func noBlockIsLostOrCountedTwice(rate: String) throws {
        let dir = try Harness.temporaryDirectory("sampling-membership")
        let exe = try Harness.build("sampling_membership", in: dir)
        let exact = try runMembership(rate: nil, in: dir, exe: exe)
        let sites = Self.freedSites + Self.keptSites
        // Three runs: each draws its own sample points.
        for _ in 0..<3 {
            let sampled = try runMembership(rate: rate, in: dir, exe: exe)
            for (name, snapshot) in [("parent", sampled.parent), ("child", sampled.child)] {
                #expect(snapshot.process.sampleRate == (rate == "4096" ? 4096 : 65536))
                let counters = try counters(sites, in: "sampling_membership.c", of: snapshot)
                for site in Self.freedSites {
                    let c = counters[site]!
                    #expect(c.liveBytes == 0 && c.liveCount == 0 && c.liveSamples == 0, "\(name) \(site): \(c)")
                }
                for site in Self.keptSites {
                    // Nothing of theirs was freed: live is all they allocated, sample for sample.
                    let c = counters[site]!
                    #expect(c.liveBytes == c.allocBytes && c.liveCount == c.allocCount && c.liveSamples == c.allocSamples,
                            "\(name) \(site): \(c)")
                }
                #expect(counters["kept"]!.liveSamples > 0, "\(name): kept was never sampled")
                #expect(snapshot.process.liveSamples == snapshot.traces.reduce(0) { $0 + $1.liveSamples })
            }
            // The process totals count every allocation, sampled or not: as many as the exact recording's.
            let allocations = Double(exact.parent.process.allocCount), bytes = Double(exact.parent.process.allocBytes)
            #expect(abs(Double(sampled.parent.process.allocCount) - allocations) <= 0.001 * allocations,
                    "\(sampled.parent.process.allocCount) allocations counted, \(allocations) recorded exactly")
            #expect(abs(Double(sampled.parent.process.allocBytes) - bytes) <= 0.001 * bytes)
        }
    }

    /// Runs sampling_totals.c; returns its "end" snapshot.
    func runTotals(rate: String?, in dir: URL, exe: String, run: Int) throws -> Snapshot {
        let out = dir.appendingPathComponent("out-\(rate ?? "exact")-\(run)")
        var environment = ["HEAPDIFF_OUTPUT": out.path]
        if let rate { environment["HEAPDIFF_SAMPLE"] = rate }
        let result = try Harness.run(exe, environment: environment)
        try #require(result.status == 0, "stderr: \(result.stderr)")
        let snapshots = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0) }
        return try #require(snapshots.first { $0.process.label == "end" })
    }

    @Test func blocksOfTheRateOrMoreAreWholeAndTheTotalsExact() throws {
        // Blocks of 64 KiB and more among a churn of small ones, at 64 KiB:
        // each is recorded whole wherever the thread's countdown stands (the
        // countdown never holds more than R - 1 bytes), and the totals count
        // every allocation, to the unit (a refused one not at all).
        let dir = try Harness.temporaryDirectory("sampling-totals")
        let exe = try Harness.build("sampling_totals", in: dir)
        let exact = try runTotals(rate: nil, in: dir, exe: exe, run: 0)
        let bigSites = ["big_malloc", "big_calloc", "big_realloc"]
        var bigBytes: UInt64 = 0
        for i in 0..<2000 { bigBytes += 65536 + UInt64(i % 7) * 1000 }
        // Three runs: each draws its own sample points.
        for run in 1...3 {
            let sampled = try runTotals(rate: "64KiB", in: dir, exe: exe, run: run)
            #expect(sampled.process.sampleRate == 65536)
            let counters = try counters(bigSites + ["small"], in: "sampling_totals.c", of: sampled)
            for site in bigSites {
                let c = counters[site]!
                #expect(c.liveCount == 2000 && c.liveBytes == bigBytes && c.liveSamples == 0, "run \(run) \(site): \(c)")
            }
            // ~100 MB of small blocks: sampled ~1,500 times at 64 KiB, after the refused malloc too.
            #expect(counters["small"]!.liveCount == 0 && counters["small"]!.allocSamples > 500, "run \(run): \(counters["small"]!)")
            #expect(sampled.process.allocCount == exact.process.allocCount, "run \(run)")
            #expect(sampled.process.allocBytes == exact.process.allocBytes, "run \(run)")
        }
        #expect(exact.process.allocCount >= 200_000 + 4 * 2000)
    }

    @Test func aThreadsKeptHomeIsGivenBackWhenItEnds() throws {
        // sampled_thread_homes.c: 1,000 threads, one after another, each ending
        // with the home of a sampled block it freed kept for its next one
        // (sampled_home.c). Given back at each thread's end, the allocator's
        // bytes in use at exit are the bare run's but for the few blocks the
        // main thread still holds, moved to homes of at least 1 KiB; kept
        // for good, they would be ~1,000 KiB more.
        let dir = try Harness.temporaryDirectory("sampling-thread-homes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("sampled_thread_homes", in: dir)
        func inUse(_ environment: [String: String], preload: Bool) throws -> Int {
            let result = try Harness.run(exe, environment: environment, preload: preload)
            try #require(result.status == 0, "stderr: \(result.stderr)")
            return try #require(Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let bare = try inUse([:], preload: false)
        let sampled = try inUse(["HEAPDIFF_OUTPUT": dir.appendingPathComponent("out").path, "HEAPDIFF_SAMPLE": "1"],
                                preload: true)
        #expect(sampled >= bare && sampled - bare < 64 * 1024, "in use: \(sampled) bytes sampled, \(bare) bare")
    }

    @Test func threadsSampledAtSixtyFourKiBOrMoreMakeNoStackMemos() throws {
        // sampled_thread_memory.c: 32 threads alive together, each allocating
        // through 512 distinct stacks; the process's VmRSS while all are live.
        // At 64 KiB the recorder walks every sampled stack instead of making
        // each thread its stack memos (config.h, hd_thread_memos_pay): ~1.4 MiB
        // over the bare run. At 16 KiB it makes them, and they hold ~17 MiB
        // here (as they did at every rate before).
        let dir = try Harness.temporaryDirectory("sampling-thread-memory")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("sampled_thread_memory", in: dir, flags: ["-g", "-O0", "-pthread"])
        func residentKiB(_ rate: String?) throws -> Int {
            var environment: [String: String] = [:]
            if let rate {
                environment = ["HEAPDIFF_OUTPUT": dir.appendingPathComponent("out-\(rate)").path, "HEAPDIFF_SAMPLE": rate]
            }
            let result = try Harness.run(exe, environment: environment, preload: rate != nil)
            try #require(result.status == 0, "stderr: \(result.stderr)")
            return try #require(Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let bare = try residentKiB(nil), rare = try residentKiB("64KiB"), often = try residentKiB("16KiB")
        #expect(rare - bare < 4 * 1024, "VmRSS: \(rare) KiB sampled at 64 KiB, \(bare) KiB bare")
        #expect(often - bare > 8 * 1024, "VmRSS: \(often) KiB sampled at 16 KiB, \(bare) KiB bare")
    }

    @Test func everyAllocationRecordedThreadsKeepMemosOnlyAsLargeAsTheirStacks() throws {
        // The same program, 128 stacks a thread (depths 1 to 16, 5 to 20
        // frames), every allocation recorded: each thread remembers its
        // stacks, each memo cut to the words and frames its stack has
        // (stack_memo.c), ~5 MiB over the bare run here. Memos of the
        // deepest stack's size, as before, held ~9 MiB.
        let dir = try Harness.temporaryDirectory("full-thread-memory")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("sampled_thread_memory", in: dir, flags: ["-g", "-O0", "-pthread"])
        func residentKiB(recorded: Bool) throws -> Int {
            let environment = recorded ? ["HEAPDIFF_OUTPUT": dir.appendingPathComponent("out").path] : [:]
            let result = try Harness.run(exe, arguments: ["16"], environment: environment, preload: recorded)
            try #require(result.status == 0, "stderr: \(result.stderr)")
            return try #require(Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let bare = try residentKiB(recorded: false), recorded = try residentKiB(recorded: true)
        #expect(recorded - bare < 7 * 1024, "VmRSS: \(recorded) KiB recorded, \(bare) KiB bare")
        #expect(recorded - bare > 2 * 1024, "VmRSS: \(recorded) KiB recorded, \(bare) KiB bare: were the stacks remembered?")
    }
}
