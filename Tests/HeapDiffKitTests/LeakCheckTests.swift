import Testing
@testable import HeapDiffKit

/// `heapdiff check`'s verdicts on hand-built series of snapshots. Frames
/// have no modules, so each site is keyed by its address.
@Suite struct LeakCheckTests {
    /// One snapshot of a series: live bytes per site address (one block each).
    static func snapshot(seq: UInt32, trigger: Trigger = .api, _ sites: [UInt64: UInt64]) -> Snapshot {
        let traces = sites.sorted { $0.key < $1.key }.map { Trace(liveBytes: $0.value, liveCount: 1, frames: [$0.key]) }
        let live = sites.values.reduce(0, +)
        return Snapshot(path: "s\(seq)", process: ProcessRecord(seq: seq, trigger: trigger, liveBytes: live,
                                                                  liveCount: UInt64(sites.count), label: "phase \(seq)"),
                        traces: traces)
    }

    @Test(arguments: [
        ([100, 200, 300, 400], true),        // steady growth
        ([100, 200], true),                  // two points: any growth
        ([100, 100], false),                 // flat
        ([100, 900, 100, 150], false),       // grew, then fell back
        ([100, 500, 500, 500], false),       // grew once, then plateau: one increase in three steps
        ([100, 500, 900, 890], true),        // a small dip within a tenth of the growth
        ([100, 500, 900, 700], false),       // a dip larger than a tenth of the growth
        ([400, 300, 200], false),            // shrinking
        // Grew once, then stayed give or take a few bytes (a pandas service's
        // caches, KiB): the small steps up are no growth.
        ([110, 154, 155, 151, 153, 152], false),
        (Array(stride(from: 0, through: 190, by: 10)), true),   // twenty phases, each a small share of the growth
        ([0, 100, 100, 200, 200, 300], true),   // growth in bursts, every other phase
    ])
    func persistence(sizes: [Int64], persistent: Bool) {
        #expect(LeakCheck.isPersistentGrowth(sizes) == persistent)
    }

    @Test func growingSiteFailsAndPlateauAndSawtoothPass() throws {
        // 0x10 leaks 10 KiB a phase; 0x20 warms up in phase 1 then stays;
        // 0x30 rises and falls; 0x40 grows, but by less than the limit.
        let series = [
            Self.snapshot(seq: 1, [0x10: 10_240, 0x20: 1_000, 0x30: 5_000, 0x40: 100]),
            Self.snapshot(seq: 2, [0x10: 20_480, 0x20: 50_000, 0x30: 60_000, 0x40: 1_000]),
            Self.snapshot(seq: 3, [0x10: 30_720, 0x20: 50_000, 0x30: 5_000, 0x40: 2_000]),
            Self.snapshot(seq: 4, [0x10: 40_960, 0x20: 50_000, 0x30: 70_000, 0x40: 3_000]),
            Self.snapshot(seq: 5, [0x10: 51_200, 0x20: 50_000, 0x30: 5_000, 0x40: 4_000]),
        ]
        let result = try LeakCheck.check(series, policy: .init(maxGrowthPerSite: 4_096, warmupSnapshots: 1),
                                         symbolizer: Symbolizer())
        #expect(!result.passed)
        #expect(result.compared.map(\.process.seq) == [2, 3, 4, 5])
        #expect(result.findings.map(\.key) == [.address(module: "", offset: 0x10)])
        #expect(result.findings.first?.sizes == [20_480, 30_720, 40_960, 51_200])
        #expect(result.findings.first?.sizeDiff == 30_720)
        #expect(result.findings.first?.countDiff == 0)
        #expect(result.totalSizeDiff == (51_200 + 50_000 + 5_000 + 4_000) - (20_480 + 50_000 + 60_000 + 1_000))
        #expect(!result.totalExceeded)

        let raisedLimit = try LeakCheck.check(series, policy: .init(maxGrowthPerSite: 30_720), symbolizer: Symbolizer())
        #expect(raisedLimit.passed)   // growth must exceed the limit, not equal it
    }

    @Test func totalGrowthLimit() throws {
        let series = [Self.snapshot(seq: 1, [0x10: 100]), Self.snapshot(seq: 2, [0x10: 5_000, 0x20: 5_000])]
        let policy = LeakCheck.Policy(maxGrowthPerSite: 1 << 20, maxTotalGrowth: 9_000, warmupSnapshots: 0)
        let result = try LeakCheck.check(series, policy: policy, symbolizer: Symbolizer())
        #expect(result.findings.isEmpty)
        #expect(result.totalSizeDiff == 9_900)
        #expect(result.totalExceeded && !result.passed)
    }

    @Test func tooFewPhasesIsAnError() {
        // One phase and the exit snapshot: nothing spans the workload, whatever the warm-up.
        #expect(throws: SeriesError.tooFewPhases(program: "the program", pid: 0, own: 1)) {
            try LeakCheck.check([Self.snapshot(seq: 1, [:]), Self.snapshot(seq: 2, trigger: .exit, [:])],
                                policy: .init(warmupSnapshots: 0), symbolizer: Symbolizer())
        }
    }
}
