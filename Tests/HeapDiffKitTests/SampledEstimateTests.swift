import HeapDiffFormat
import Foundation
import Testing
@testable import HeapDiffKit

/// Sampled snapshots (`HEAPDIFF_SAMPLE`): the format's sampling fields read
/// back, standard errors of sizes and of growth, and what `diff`, `check`
/// and `trend` make of them. Frames have no modules: each site is keyed by
/// its address.
@Suite struct SampledEstimateTests {
    static let rate: UInt64 = 65_536

    /// A stack of a sampled snapshot: `live` and `allocated` sample points,
    /// standing for `live` × rate bytes.
    struct Stack {
        var site: UInt64
        var live: UInt64
        var allocated: UInt64
        var caller: UInt64 = 0x900
    }

    static func snapshot(seq: UInt32, pid: UInt32 = 1, rate: UInt64 = rate, _ stacks: [Stack]) -> Snapshot {
        let traces = stacks.map { stack in
            var trace = Trace(liveBytes: stack.live * rate, liveCount: stack.live * 4, allocBytes: stack.allocated * rate,
                              allocCount: stack.allocated * 4, frames: [stack.site, stack.caller])
            trace.liveSamples = stack.live
            trace.allocSamples = stack.allocated
            return trace
        }
        let live = stacks.map(\.live).reduce(0, +)
        let process = ProcessRecord(pid: pid, seq: seq, trigger: .interval, monotonicNs: UInt64(seq) * 1_000_000_000,
                                    startMonotonicNs: 5, liveBytes: live * rate, liveCount: live * 4,
                                    sampleRate: rate, liveSamples: live, label: "")
        return Snapshot(path: "s\(pid).\(seq)", process: process, traces: traces)
    }

    // MARK: - The arithmetic

    @Test(arguments: [
        // (old live, old allocated, new live, new allocated, differing points)
        (10, 10, 30, 30, 20),     // only grew: the new blocks' points
        (10, 50, 10, 100, 20),    // every block replaced: both sides' points
        (10, 10, 10, 10, 0),      // nothing allocated or freed: the same samples
        (10, 10, 0, 10, 10),      // all freed
        (5, 100, 15, 200, 20),    // grew, with churn: 15 new at most, 5 freed at most
        (0, 0, 7, 9, 7),          // a new stack
    ] as [(UInt64, UInt64, UInt64, UInt64, UInt64)])
    func differingPoints(oldLive: UInt64, oldAllocated: UInt64, newLive: UInt64, newAllocated: UInt64,
                         expected: UInt64) {
        #expect(SampledEstimates.differingPoints(oldLive: oldLive, oldAllocated: oldAllocated, newLive: newLive,
                                                 newAllocated: newAllocated) == expected)
    }

    // MARK: - The format

    @Test func minorOneCarriesTheRateAndEachStacksSamples() throws {
        var builder = SnapshotBuilderV2()
        builder.minor = 1
        builder.process = ProcessRecord(pid: 9, sampleRate: 524_288, liveSamples: 12, label: "sampled")
        var trace = Trace(liveBytes: 3 * 524_288, liveCount: 40, allocBytes: 5 * 524_288, allocCount: 70,
                          frames: [0x10, 0x20])
        trace.liveSamples = 3
        trace.allocSamples = 5
        builder.traces = [trace, Trace(liveBytes: 1 << 21, liveCount: 1, frames: [0x30])]
        let directory = try TemporaryDirectory()
        let path = directory.path + "/sampled.heapsnap"
        try Data(builder.bytes()).write(to: URL(fileURLWithPath: path))
        let snapshot = try Snapshot.load(path: path)
        #expect(snapshot.isSampled)
        #expect(snapshot.process.sampleRate == 524_288 && snapshot.process.liveSamples == 12)
        #expect(snapshot.process.label == "sampled")
        #expect(snapshot.traces == builder.traces)
        #expect(snapshot.traces[0].liveSamples == 3 && snapshot.traces[0].allocSamples == 5)
        // The PROCESS record alone, as series read it.
        #expect(try ProcessRecord.load(path: path).sampleRate == 524_288)

        // Minor 0 has neither: exact.
        builder.minor = 0
        try Data(builder.bytes()).write(to: URL(fileURLWithPath: path))
        let exact = try Snapshot.load(path: path)
        #expect(!exact.isSampled && exact.process.liveSamples == 0)
        #expect(exact.traces.allSatisfy { $0.liveSamples == 0 && $0.allocSamples == 0 })
    }

    // MARK: - Rows

    @Test func aSampledRowCarriesItsStandardErrorAndIsMarked() {
        // Two stacks at 0x10 (3 and 4 points), one at 0x20.
        let snapshot = Self.snapshot(seq: 1, [Stack(site: 0x10, live: 3, allocated: 3),
                                              Stack(site: 0x10, live: 4, allocated: 6, caller: 0x901),
                                              Stack(site: 0x20, live: 1, allocated: 1)])
        let statistics = snapshot.statistics(by: .lineno, symbolizer: Symbolizer())
        #expect(statistics.map(\.size) == [7 * Int64(Self.rate), Int64(Self.rate)])
        #expect(statistics[0].sizeStandardError == Double(Self.rate) * 7.0.squareRoot())
        #expect(statistics[1].sizeStandardError == Double(Self.rate))
        #expect(snapshot.total.sizeStandardError == Double(Self.rate) * 8.0.squareRoot())

        let lines = TextReport(keyType: .lineno).top(statistics, total: snapshot.total,
                                                     sampleRates: [snapshot.process.sampleRate])
        #expect(lines[0] == "0x10: size=~448 KiB ±169 KiB, count=~28, average=~16.0 KiB")
        #expect(lines[2] == "total: ~512 KiB ±181 KiB in ~32 blocks")
        #expect(lines[3] == "(sampled every 64.0 KiB: ~ marks an estimate, ± its standard error)")

        let json = JSONReport.top(statistics, snapshot: snapshot, keyType: .lineno)
        #expect(json.contains("\"sampled\": true"))
        #expect(json.contains("\"sample_rate\": 65536"))
        #expect(json.contains("\"size_stderr\": \(Int64((Double(Self.rate) * 7.0.squareRoot()).rounded()))"))
        #expect(CSVReport.top(statistics, sampled: true).hasPrefix("size,count,file,line,function,module,size_stderr\n"
            + "\(7 * Self.rate),28,,,,,\(Int64((Double(Self.rate) * 7.0.squareRoot()).rounded()))\n"))
    }

    @Test func anExactRowIsNotMarked() {
        // Blocks recorded whole in a sampled snapshot: no sample points, no error.
        var whole = Trace(liveBytes: 1 << 20, liveCount: 1, frames: [0x10])
        whole.allocSamples = 0
        let snapshot = Snapshot(path: "s", process: ProcessRecord(liveBytes: 1 << 20, liveCount: 1, sampleRate: Self.rate),
                                traces: [whole])
        let statistics = snapshot.statistics(by: .lineno, symbolizer: Symbolizer())
        #expect(!statistics[0].isEstimate)
        #expect(TextReport(keyType: .lineno).top(statistics, total: snapshot.total)[0]
            == "0x10: size=1024 KiB, count=1, average=1024 KiB")
    }

    // MARK: - Growth

    @Test func withinOneRecordingOnlyTheBlocksBornOrFreedCount() {
        let old = Self.snapshot(seq: 1, [Stack(site: 0x10, live: 10, allocated: 10),     // grows
                                         Stack(site: 0x20, live: 10, allocated: 50),     // churns
                                         Stack(site: 0x30, live: 6, allocated: 6)])      // will be freed
        let new = Self.snapshot(seq: 2, [Stack(site: 0x10, live: 30, allocated: 30),
                                         Stack(site: 0x20, live: 12, allocated: 90),
                                         Stack(site: 0x30, live: 0, allocated: 6)])
        let diffs = Dictionary(uniqueKeysWithValues: new.compare(to: old, by: .lineno, symbolizer: Symbolizer())
            .map { ($0.key, $0) })
        let rate = Double(Self.rate)
        #expect(diffs[.address(module: "", offset: 0x10)]?.sizeDiffStandardError == rate * 20.0.squareRoot())
        #expect(diffs[.address(module: "", offset: 0x10)]?.sizeStandardError == rate * 30.0.squareRoot())
        #expect(diffs[.address(module: "", offset: 0x20)]?.sizeDiffStandardError == rate * 22.0.squareRoot())
        // A stack whose blocks were all freed: its old points, carried by its old self.
        #expect(diffs[.address(module: "", offset: 0x30)]?.sizeDiffStandardError == rate * 6.0.squareRoot())
        #expect(new.total(comparedTo: old).sizeDiffStandardError == rate * 48.0.squareRoot())

        // Another process: nothing is shared, both sides' points count.
        let other = Self.snapshot(seq: 2, pid: 2, [Stack(site: 0x10, live: 30, allocated: 30)])
        let across = other.compare(to: old, by: .lineno, symbolizer: Symbolizer())
        #expect(across.first { $0.key == .address(module: "", offset: 0x10) }?.sizeDiffStandardError
            == rate * 40.0.squareRoot())
    }

    @Test func snapshotsRecordedDifferentlyAreNamed() {
        let sampled = Self.snapshot(seq: 1, [])
        let exact = Snapshot(path: "exact.heapsnap", process: ProcessRecord())
        #expect(SampleRateMismatch(old: sampled, new: sampled) == nil)
        #expect(SampleRateMismatch(old: exact, new: sampled)?.description
            == "exact.heapsnap records every allocation and s1.1 was sampled every 64.0 KiB, so their figures carry "
            + "different errors; pass --rescale to compare them anyway")
        let coarser = Self.snapshot(seq: 2, rate: 1 << 19, [])
        #expect(SampleRateMismatch(old: sampled, new: coarser)?.description.hasPrefix(
            "s1.1 was sampled every 64.0 KiB and s1.2 was sampled every 512 KiB") == true)
    }

    // MARK: - check and trend

    @Test func checkCallsNoGrowthWithinItsNoiseALeak() throws {
        // 0x10 leaks 20 sample points between the compared phases: 20 / √20 = 4.5 standard errors.
        // 0x20 gains 2 points only: 2 / √2 = 1.4. 0x30 is a bounded cache whose blocks are all
        // replaced, up by 4 points: 4 / √(10 + 14) = 0.8. All three grew by more than 4 KiB.
        let series = [
            Self.snapshot(seq: 1, [Stack(site: 0x10, live: 10, allocated: 10), Stack(site: 0x20, live: 1, allocated: 1),
                                   Stack(site: 0x30, live: 10, allocated: 40)]),
            Self.snapshot(seq: 2, [Stack(site: 0x10, live: 20, allocated: 20), Stack(site: 0x20, live: 2, allocated: 2),
                                   Stack(site: 0x30, live: 12, allocated: 80)]),
            Self.snapshot(seq: 3, [Stack(site: 0x10, live: 30, allocated: 30), Stack(site: 0x20, live: 3, allocated: 3),
                                   Stack(site: 0x30, live: 14, allocated: 120)]),
        ]
        let result = try LeakCheck.check(series, policy: .init(maxGrowthPerSite: 4_096, warmupSnapshots: 0),
                                         symbolizer: Symbolizer())
        #expect(result.findings.map(\.key) == [.address(module: "", offset: 0x10)])
        #expect(result.findings[0].sizeDiffStandardError == Double(Self.rate) * 20.0.squareRoot())
        #expect(result.sampleRate == Self.rate)
        let text = CheckReport(result: result, policy: .init(), keyType: .lineno, limit: 0, directory: "/tmp/x",
                               paths: .unchanged).text()
        #expect(text[0] == "0x10: grew ~+1280 KiB ±286 KiB (~+80 blocks): ~640 KiB → ~1280 KiB → ~1920 KiB")
        #expect(text.last?.hasPrefix("heapdiff check: FAILED: 1 call site kept growing past 4096 B and beyond 3 "
            + "standard errors; the traced heap grew ~+") == true)

        // The same figures recorded exactly: all three are leaks.
        let exact = series.map { snapshot -> Snapshot in
            var snapshot = snapshot
            snapshot.process.sampleRate = 0
            return snapshot
        }
        let exactResult = try LeakCheck.check(exact, policy: .init(maxGrowthPerSite: 4_096, warmupSnapshots: 0),
                                              symbolizer: Symbolizer())
        #expect(exactResult.findings.count == 3)
    }

    @Test func aStepBackWithinNoiseIsNoFallingBack() {
        // Exact, a dip of 300 in a growth of 800 is falling back; within a noise of 200 a step it is not.
        #expect(LeakCheck.isPersistentGrowth([100, 500, 600, 900]))
        #expect(!LeakCheck.isPersistentGrowth([100, 600, 300, 900]))
        #expect(LeakCheck.isPersistentGrowth([100, 600, 300, 900], standardErrors: [100, 100, 100, 100]))
    }

    @Test func trendSaysWithinNoiseAndGivesTheRateItsError() throws {
        // 0x10 leaks 10 points a snapshot; 0x20 holds churned blocks whose estimate wanders by a
        // point at a time, and rises by a point a snapshot over the recent half: a straight line
        // (steady growth, had it been exact) of 2 points where 20 could differ.
        let wandering: [UInt64] = [9, 8, 10, 9, 10, 11]
        let series: [Snapshot] = (1...6).map { (seq: Int) -> Snapshot in
            let leak = Stack(site: 0x10, live: UInt64(10 * seq), allocated: UInt64(10 * seq))
            let cache = Stack(site: 0x20, live: wandering[seq - 1], allocated: UInt64(20 * seq))
            return Self.snapshot(seq: UInt32(seq), [leak, cache])
        }
        let analysis = try TrendAnalysis.analyze(series, axis: .index, symbolizer: Symbolizer())
        let sites: [GroupKey: TrendAnalysis.Series] = Dictionary(uniqueKeysWithValues: analysis.sites.map {
            ($0.key, $0.series)
        })
        let leak = try #require(sites[.address(module: "", offset: 0x10)])
        #expect(leak.verdict == .steadyGrowth)
        // Recent half: snapshots 4 to 6, 20 points born in between.
        #expect(leak.recentGrowthStandardError == Double(Self.rate) * 20.0.squareRoot())
        #expect(leak.bytesPerSnapshotStandardError == Double(Self.rate) * 20.0.squareRoot() / 2)
        #expect(leak.sizeStandardErrors.last == Double(Self.rate) * 60.0.squareRoot())
        let wander = try #require(sites[.address(module: "", offset: 0x20)])
        #expect(wander.verdict == .noise)
        #expect(analysis.sites.first?.key == .address(module: "", offset: 0x10))
    }

    @Test func theHeapsGrowthIsToldFromOtherStacksChurn() throws {
        // A service's heap: 0x10 leaks 10 points a snapshot, 0x20 churns (500 points allocated and
        // freed a snapshot, 2 live), 0x30 holds 1,000 points it never frees. Over the recent half
        // (snapshots 4 to 6) at most 20 + (2 + 2) + 0 points differ: the churn can only have replaced
        // its own 2. Summed first, the 1,000 points churned would count as possibly live in the new
        // snapshot (√2020 points of error), and the heap's growth of 20 points would be noise.
        let series: [Snapshot] = (1...6).map { (seq: Int) -> Snapshot in
            Self.snapshot(seq: UInt32(seq), [
                Stack(site: 0x10, live: UInt64(10 * seq), allocated: UInt64(10 * seq)),
                Stack(site: 0x20, live: 2, allocated: UInt64(500 * seq)),
                Stack(site: 0x30, live: 1_000, allocated: 1_000),
            ])
        }
        let analysis = try TrendAnalysis.analyze(series, axis: .index, symbolizer: Symbolizer())
        #expect(analysis.heap.recentGrowthStandardError == Double(Self.rate) * 24.0.squareRoot())
        #expect(analysis.heap.verdict == .steadyGrowth)
        // A stack that is gone from the new snapshot had all its live points freed.
        let gone: [Snapshot] = (1...6).map { (seq: Int) -> Snapshot in
            var stacks = [Stack(site: 0x10, live: UInt64(10 * seq), allocated: UInt64(10 * seq)),
                          Stack(site: 0x30, live: 1_000, allocated: 1_000)]
            if seq < 6 { stacks.append(Stack(site: 0x40, live: 3, allocated: 3)) }
            return Self.snapshot(seq: UInt32(seq), stacks)
        }
        let goneAnalysis = try TrendAnalysis.analyze(gone, axis: .index, symbolizer: Symbolizer())
        #expect(goneAnalysis.heap.recentGrowthStandardError == Double(Self.rate) * 23.0.squareRoot())
    }
}
