import Testing
@testable import HeapDiffKit

/// Trend verdicts on synthetic series, and the analysis of a synthetic run.
@Suite struct TrendTests {
    static let x = (0..<10).map(Double.init)

    @Test(arguments: [
        ([0, 10, 20, 30, 40, 50, 60, 70, 80, 90], Trend.Verdict.steadyGrowth),           // linear
        ([0, 90, 100, 100, 100, 100, 100, 100, 100, 100], .plateau),                     // step, then flat
        ([0, 50, 100, 100, 101, 100, 100, 101, 100, 100], .plateau),                     // warm-up with jitter
        ([0, 100, 0, 100, 0, 100, 0, 100, 0, 100], .fluctuating),                        // sawtooth
        ([90, 80, 70, 60, 50, 40, 30, 20, 10, 0], .shrinking),                           // draining
        ([500, 500, 500, 500, 500, 500, 500, 500, 500, 500], .flat),
        ([0, 1000, 1000, 1010, 1020, 1030, 1040, 1050, 1060, 1070], .steadyGrowth),      // warmed up, then leaks slowly
        ([0, 100, 0, 100, 0, 100, 100, 100, 100, 100], .plateau),                         // settled high
    ])
    func verdicts(sizes: [Double], expected: Trend.Verdict) {
        #expect(Trend.verdict(x: Self.x, y: sizes) == expected)
    }

    @Test func leastSquares() {
        let line = Trend.fit(x: [0, 1, 2, 3], y: [1, 3, 5, 7])
        #expect(line.slope == 2 && line.intercept == 1 && line.r2 == 1)
        let noisy = Trend.fit(x: [0, 1, 2], y: [0, 2, 1])
        #expect(noisy.slope == 0.5)
        #expect(abs(noisy.r2 - 0.25) < 1e-12)
    }

    /// A run of 6 snapshots a second apart: site 0x10 leaks 1 KiB a second,
    /// site 0x20 warms up to 50 KiB and stays, site 0x30 is freed away.
    static func run() -> [Snapshot] {
        (0..<6).map { i in
            let leak = UInt64(1_024 * (i + 1)), warm = UInt64(i == 0 ? 10_000 : 50_000), draining = UInt64(6_000 - 1_000 * i)
            let traces = [Trace(liveBytes: leak, liveCount: UInt64(i + 1), frames: [0x10]),
                          Trace(liveBytes: warm, liveCount: 5, frames: [0x20]),
                          Trace(liveBytes: draining, liveCount: UInt64(6 - i), frames: [0x30])]
            return Snapshot(path: "s\(i)", process: ProcessRecord(
                seq: UInt32(i + 1), trigger: .interval, monotonicNs: 5_000_000_000 + UInt64(i) * 1_000_000_000,
                liveBytes: leak + warm + draining, liveCount: 12), traces: traces)
        }
    }

    /// A process that could not read /proc/self/status (its RSS is 0 in every
    /// snapshot) has no RSS line of zeros, and one that could has its own.
    @Test func rssLineSaysWhenNoneWasRecorded() throws {
        let unread = try TrendAnalysis.analyze(Self.run(), symbolizer: Symbolizer())
        let lines = TrendReport(analysis: unread, keyType: .lineno, limit: 1, target: nil, paths: .unchanged).text()
        #expect(lines.contains("RSS: not recorded (the process could not read /proc/self/status)"), "\(lines)")
        let read = Self.run().enumerated().map { i, snapshot in
            var snapshot = snapshot
            snapshot.process.rss = UInt64(4 + i) << 20
            return snapshot
        }
        let measured = try TrendAnalysis.analyze(read, symbolizer: Symbolizer())
        let text = TrendReport(analysis: measured, keyType: .lineno, limit: 1, target: nil, paths: .unchanged).text()
        #expect(text.contains("RSS: 4096 KiB → 9216 KiB, now +1024 KiB/s"), "\(text)")
    }

    @Test func leakRanksFirstAndWarmUpIsAPlateau() throws {
        let analysis = try TrendAnalysis.analyze(Self.run().reversed(), symbolizer: Symbolizer())
        #expect(analysis.seconds == [0, 1, 2, 3, 4, 5])
        #expect(analysis.sites.map(\.key) == [.address(module: "", offset: 0x10), .address(module: "", offset: 0x20),
                                              .address(module: "", offset: 0x30)])
        #expect(analysis.sites.map(\.series.verdict) == [.steadyGrowth, .plateau, .shrinking])
        let leak = analysis.sites[0].series
        #expect(leak.bytesPerSecond == 1_024 && leak.bytesPerSnapshot == 1_024 && leak.r2 == 1)
        // The whole heap: 1 KiB/s of leak against 1,000 B/s drained.
        #expect(analysis.heap.bytesPerSecond == 24)
        let heapNow: Int64 = 6_144 + 50_000 + 1_000
        #expect(analysis.heap.sizes.last == heapNow)
        #expect(analysis.secondsUntilHeap(reaches: 57_144 + 24_000) == 1_000)
        #expect(analysis.secondsUntilHeap(reaches: 100) == nil)
    }

    /// A service idle since a burst (swift-nio's server, attached): every
    /// rate now is 0, and the site that grew by the burst ranks before
    /// request buffers that came and went and before a smaller plateau.
    @Test func amongEqualRatesTheGrowthOverTheSeriesRanks() throws {
        let series: [(frame: UInt64, kib: [UInt64])] = [
            (0x10, [0, 0, 4, 0, 0, 0]),               // a request's buffer: came and went
            (0x20, [0, 516, 516, 516, 516, 516]),    // the cache's table, grown once
            (0x30, [0, 20_000, 20_000, 20_000, 20_000, 20_000]),   // the burst's responses
            (0x40, [100, 300, 300, 300, 300, 300]),  // grew less
            (0x50, [50, 50, 60, 50, 50, 50]),        // grew nothing, holds more than 0x10
        ]
        let snapshots = (0..<6).map { i in
            let traces = series.map { Trace(liveBytes: $0.kib[i] * 1_024, liveCount: 1, frames: [$0.frame]) }
            return Snapshot(path: "s\(i)", process: ProcessRecord(
                seq: UInt32(i + 1), trigger: .interval, monotonicNs: UInt64(i + 1) * 1_000_000_000,
                liveBytes: traces.map(\.liveBytes).reduce(0, +), liveCount: 5), traces: traces)
        }
        let analysis = try TrendAnalysis.analyze(snapshots, symbolizer: Symbolizer())
        #expect(analysis.sites.map(\.series.bytesPerSnapshot) == [0, 0, 0, 0, 0])
        #expect(analysis.sites.map(\.key) == [0x30, 0x20, 0x40, 0x50, 0x10].map { .address(module: "", offset: $0) })
    }

    @Test func indexAxisForPhaseSnapshots() throws {
        let analysis = try TrendAnalysis.analyze(Self.run(), axis: .index, symbolizer: Symbolizer())
        #expect(analysis.sites.first?.series.bytesPerSecond == nil)
        #expect(analysis.sites.first?.series.bytesPerSnapshot == 1_024)
        #expect(analysis.secondsUntilHeap(reaches: 1 << 30) == nil)
    }

    @Test func needsThreeSnapshots() {
        #expect(throws: TrendAnalysis.Failure.tooFewSnapshots(2)) {
            try TrendAnalysis.analyze(Array(Self.run().prefix(2)), symbolizer: Symbolizer())
        }
    }

    @Test func theExitSnapshotDoesNotFlattenALeak() throws {
        // Five phases leaking 1 KiB each, then an exit snapshot after the work stopped.
        func snapshot(seq: UInt32, trigger: Trigger, kib: UInt64) -> Snapshot {
            let bytes = kib * 1_024
            let process = ProcessRecord(seq: seq, trigger: trigger, liveBytes: bytes, liveCount: kib)
            return Snapshot(path: "s\(seq)", process: process, traces: [Trace(liveBytes: bytes, liveCount: kib, frames: [0x10])])
        }
        var series: [Snapshot] = []
        for phase in UInt64(1)...5 {
            series.append(snapshot(seq: UInt32(phase), trigger: .api, kib: phase))
        }
        series.append(snapshot(seq: 6, trigger: .exit, kib: 5))
        let analysis = try TrendAnalysis.analyze(series, axis: .index, symbolizer: Symbolizer())
        let used: [UInt32] = analysis.snapshots.map { $0.process.seq }
        #expect(used == [1, 2, 3, 4, 5])
        #expect(analysis.sites.first?.series.verdict == .steadyGrowth)
        // With two phase snapshots a trend is refused, never fitted through the exit snapshot: taken
        // after destructors ran (a Rust program's drops), it showed a steady leak as shrinking.
        #expect(throws: TrendAnalysis.Failure.tooFewBeforeExit(2, leftOut: 1)) {
            try TrendAnalysis.analyze(Array(series.suffix(3)), axis: .index, symbolizer: Symbolizer())
        }
        let dropped = Array(series.prefix(2)) + [snapshot(seq: 3, trigger: .exit, kib: 0)]
        #expect(throws: TrendAnalysis.Failure.tooFewBeforeExit(2, leftOut: 1)) {
            try TrendAnalysis.analyze(dropped, axis: .index, symbolizer: Symbolizer())
        }
        #expect(TrendAnalysis.Failure.tooFewBeforeExit(2, leftOut: 1).description
            == "a trend needs at least 3 snapshots of one process taken while it ran, not 2 (and 1 taken at exit or "
            + "in a teardown, after destructors freed what it held)")
    }
}

@Suite struct TrendSummaryOptionsTests {
    /// run's and attach's short trend: whole-stack groups become lines; every
    /// other grouping, and the rest of the options, stay as given.
    @Test func tracebackBecomesLinenoAndNothingElseChanges() {
        let traceback = StatisticsOptions(keyType: .traceback, cumulative: true, limit: 7)
        #expect(traceback.forTrendSummary == StatisticsOptions(keyType: .lineno, cumulative: true, limit: 7))
        for keyType in [KeyType.lineno, .function, .file, .module] {
            let options = StatisticsOptions(keyType: keyType, limit: 3)
            #expect(options.forTrendSummary == options)
        }
    }
}
