/// A leak test over the snapshots of one run: which call sites grew by more
/// than a limit and kept growing. The engine behind `heapdiff check`.
///
/// A site that grows and then falls back (a batch in flight, a cache that
/// is trimmed) is not a leak; a site that only grew during warm-up is not
/// one either, which is why warm-up snapshots are dropped first.
public enum LeakCheck {
    public struct Policy: Equatable, Sendable {
        /// A site whose live bytes grew by at most this much passes.
        public var maxGrowthPerSite: Int64
        /// The whole traced heap may grow by at most this much (nil: no limit).
        public var maxTotalGrowth: Int64?
        /// Snapshots at the start that are not compared.
        public var warmupSnapshots: Int

        public init(maxGrowthPerSite: Int64 = 4096, maxTotalGrowth: Int64? = nil, warmupSnapshots: Int = 1) {
            self.maxGrowthPerSite = maxGrowthPerSite
            self.maxTotalGrowth = maxTotalGrowth
            self.warmupSnapshots = warmupSnapshots
        }
    }

    /// A site that grew past the limit in a persistent way.
    public struct Finding: Equatable, Sendable {
        public var key: GroupKey
        public var site: Frame
        public var traceback: [Frame]
        /// Live bytes and blocks at each compared snapshot, oldest first.
        public var sizes: [Int64]
        public var counts: [Int64]

        public var sizeDiff: Int64 { (sizes.last ?? 0) - (sizes.first ?? 0) }
        public var countDiff: Int64 { (counts.last ?? 0) - (counts.first ?? 0) }
    }

    public struct Result: Equatable, Sendable {
        /// The snapshots compared, oldest first (after warm-up).
        public var compared: [Snapshot]
        public var findings: [Finding]
        public var totalSizeDiff: Int64
        public var totalCountDiff: Int64
        public var totalExceeded: Bool

        public var passed: Bool { findings.isEmpty && !totalExceeded }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case tooFewSnapshots(found: Int, afterWarmup: Int)

        public var description: String {
            switch self {
            case let .tooFewSnapshots(found, afterWarmup):
                return "need at least 2 snapshots after warm-up to compare, but the program left \(found) "
                    + "(\(afterWarmup) after warm-up); call heapdiff_snapshot() between phases or use --interval"
            }
        }
    }

    /// The snapshots a check compares: the phase snapshots (program calls,
    /// signals, intervals) after warm-up. The exit snapshot is used only when
    /// there are too few phase snapshots, because by exit static destructors
    /// have often freed what the phases kept.
    public static func phases(of snapshots: [Snapshot], warmup: Int) -> [Snapshot] {
        let ordered = snapshots.sorted { $0.process.seq < $1.process.seq }
        let phases = ordered.filter { $0.process.trigger != .exit }
        let usable = phases.count - min(warmup, phases.count) >= 2 ? phases : ordered
        return Array(usable.dropFirst(min(warmup, usable.count)))
    }

    /// The process a check is about, among those that left snapshots: the
    /// started program when it took at least two phase snapshots itself,
    /// otherwise the process that took the most (a test runner such as
    /// `swift test`, or a wrapper script, runs the workload in a child).
    public static func process(started: Int32, snapshots: [Int32: [Snapshot]]) -> Int32 {
        let phaseCounts = snapshots.mapValues { $0.filter { $0.process.trigger != .exit }.count }
        if phaseCounts[started, default: 0] >= 2 { return started }
        let busiest = phaseCounts.max { lhs, rhs in (lhs.value, rhs.key) < (rhs.value, lhs.key) }
        return busiest.map { $0.value >= 2 ? $0.key : started } ?? started
    }

    /// Checks a run's snapshots against `policy`, grouped and filtered by `options`.
    public static func check(_ snapshots: [Snapshot], policy: Policy, options: StatisticsOptions = StatisticsOptions(),
                             symbolizer: Symbolizer) throws -> Result {
        let compared = phases(of: snapshots, warmup: policy.warmupSnapshots)
        guard compared.count >= 2, let first = compared.first, let last = compared.last else {
            throw Failure.tooFewSnapshots(
                found: snapshots.count, afterWarmup: max(0, snapshots.count - policy.warmupSnapshots))
        }
        let perSnapshot = compared.map { $0.statisticsByKey(options, symbolizer: symbolizer) }
        var findings: [Finding] = []
        for key in Set(perSnapshot.flatMap(\.keys)) {
            let sizes = perSnapshot.map { $0[key]?.size ?? 0 }
            let growth = (sizes.last ?? 0) - (sizes.first ?? 0)
            guard growth > policy.maxGrowthPerSite, isPersistentGrowth(sizes),
                  let latest = perSnapshot.last(where: { $0[key] != nil })?[key] else { continue }
            findings.append(Finding(key: key, site: latest.site, traceback: latest.traceback, sizes: sizes,
                                    counts: perSnapshot.map { $0[key]?.count ?? 0 }))
        }
        findings.sort { lhs, rhs in
            lhs.sizeDiff != rhs.sizeDiff ? lhs.sizeDiff > rhs.sizeDiff : lhs.key.label() < rhs.key.label()
        }
        let totalSizeDiff = Int64(saturating: last.process.liveBytes) - Int64(saturating: first.process.liveBytes)
        let totalCountDiff = Int64(saturating: last.process.liveCount) - Int64(saturating: first.process.liveCount)
        return Result(compared: compared, findings: findings, totalSizeDiff: totalSizeDiff,
                      totalCountDiff: totalCountDiff,
                      totalExceeded: policy.maxTotalGrowth.map { totalSizeDiff > $0 } ?? false)
    }

    /// Growth that persists across a series of sizes: with two points, any
    /// growth; with more, the series never falls back by more than a tenth of
    /// its overall growth, and at least half of its steps are increases.
    /// A site that grows and then shrinks back is therefore not a leak.
    public static func isPersistentGrowth(_ sizes: [Int64]) -> Bool {
        guard let first = sizes.first, let last = sizes.last, last > first else { return false }
        guard sizes.count > 2 else { return true }
        let tolerance = (last - first) / 10
        let steps = zip(sizes.dropFirst(), sizes).map { $0 - $1 }
        let increases = steps.filter { $0 > 0 }.count
        return steps.allSatisfy { $0 >= -tolerance } && increases * 2 >= steps.count
    }
}
