/// A leak test over the snapshots of one run: which call sites grew by more
/// than a limit and kept growing. The engine behind `heapdiff check`.
///
/// A site that grows and then falls back (a batch in flight, a cache that
/// is trimmed) is not a leak; a site that only grew during warm-up is not
/// one either, which is why warm-up snapshots are dropped first. Which
/// snapshots are the phases is `SnapshotSeries`'s rule. Of sampled
/// snapshots, a growth must also stand out from its sampling noise:
/// exceed `SampledEstimates.significance` standard errors. Blocks that a
/// runtime keeps in its cache of freed objects (`RuntimeCaches`: libdispatch's
/// continuations, which fill up as more threads run tasks) are left out.
public enum LeakCheck {
    public struct Policy: Equatable, Sendable {
        /// A site whose live bytes grew by at most this much passes.
        public var maxGrowthPerSite: Int64
        /// The whole traced heap may grow by at most this much (nil: no limit).
        public var maxTotalGrowth: Int64?
        /// Phases at the start that are not compared (never so many that
        /// fewer than two remain).
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
        /// Of sampled snapshots: the standard error of each size, and of the
        /// growth from the first to the last (0 when exact).
        public var sizeStandardErrors: [Double] = []
        public var sizeDiffStandardError: Double = 0

        public var sizeDiff: Int64 { (sizes.last ?? 0) - (sizes.first ?? 0) }
        public var isEstimate: Bool { sizeDiffStandardError > 0 || sizeStandardErrors.contains { $0 > 0 } }
        public var countDiff: Int64 { (counts.last ?? 0) - (counts.first ?? 0) }
    }

    public struct Result: Equatable, Sendable {
        /// The snapshots compared, oldest first (after warm-up).
        public var compared: [Snapshot]
        public var findings: [Finding]
        public var totalSizeDiff: Int64
        public var totalCountDiff: Int64
        /// The standard error of `totalSizeDiff` (0 when exact).
        public var totalSizeDiffStandardError: Double = 0
        public var totalExceeded: Bool
        /// The sampling rate of the snapshots (0: every allocation recorded).
        public var sampleRate: UInt64 = 0

        public var passed: Bool { findings.isEmpty && !totalExceeded }
    }

    /// Checks a series of one process's snapshots against `policy`, grouped
    /// and filtered by `options`: the phases that `SnapshotSeries` chooses
    /// (`compared(warmup:)`) are judged. Throws `SnapshotSeries.TooFewPhases`
    /// when fewer than two phases span the workload.
    public static func check(_ snapshots: [Snapshot], policy: Policy, options: StatisticsOptions = StatisticsOptions(),
                             symbolizer: Symbolizer) throws -> Result {
        let compared = try SnapshotSeries(snapshots).compared(warmup: policy.warmupSnapshots)
        return judge(compared, policy: policy, options: options, symbolizer: symbolizer)
    }

    /// Judges phases already chosen, oldest first (at least two): which
    /// sites grew past the limit and kept growing, and the whole heap's growth.
    public static func judge(_ compared: [Snapshot], policy: Policy, options: StatisticsOptions = StatisticsOptions(),
                             symbolizer: Symbolizer) -> Result {
        var options = options
        options.skipsRuntimeCaches = true
        let perSnapshot = compared.map { $0.statisticsByKey(options, symbolizer: symbolizer) }
        // The growth's own noise, with the blocks live in both cancelled out.
        var growthErrors: [GroupKey: Double] = [:]
        var totalError = 0.0
        if let first = compared.first, let last = compared.last, first.isSampled || last.isSampled {
            for diff in last.compare(to: first, options, symbolizer: symbolizer) {
                growthErrors[diff.key] = diff.sizeDiffStandardError
            }
            totalError = last.total(comparedTo: first).sizeDiffStandardError
        }
        var findings: [Finding] = []
        for key in Set(perSnapshot.flatMap(\.keys)) {
            let sizes = perSnapshot.map { $0[key]?.size ?? 0 }
            let errors = perSnapshot.map { $0[key]?.sizeStandardError ?? 0 }
            let growth = (sizes.last ?? 0) - (sizes.first ?? 0)
            let growthError = growthErrors[key] ?? 0
            guard growth > policy.maxGrowthPerSite, isPersistentGrowth(sizes, standardErrors: errors),
                  SampledEstimates.exceedsNoise(growth, standardError: growthError),
                  let latest = perSnapshot.last(where: { $0[key] != nil })?[key] else { continue }
            findings.append(Finding(key: key, site: latest.site, traceback: latest.traceback, sizes: sizes,
                                    counts: perSnapshot.map { $0[key]?.count ?? 0 }, sizeStandardErrors: errors,
                                    sizeDiffStandardError: growthError))
        }
        findings.sort { lhs, rhs in
            lhs.sizeDiff != rhs.sizeDiff ? lhs.sizeDiff > rhs.sizeDiff : lhs.key.label() < rhs.key.label()
        }
        let first = compared.first?.process, last = compared.last?.process
        let totalSizeDiff = Int64(saturating: last?.liveBytes ?? 0) - Int64(saturating: first?.liveBytes ?? 0)
        let totalCountDiff = Int64(saturating: last?.liveCount ?? 0) - Int64(saturating: first?.liveCount ?? 0)
        return Result(compared: compared, findings: findings, totalSizeDiff: totalSizeDiff,
                      totalCountDiff: totalCountDiff, totalSizeDiffStandardError: totalError,
                      totalExceeded: policy.maxTotalGrowth.map {
                          totalSizeDiff > $0 && SampledEstimates.exceedsNoise(totalSizeDiff, standardError: totalError)
                      } ?? false,
                      sampleRate: compared.map(\.process.sampleRate).max() ?? 0)
    }

    /// Growth that persists across a series of sizes: with two points, any
    /// growth; with more, the series never falls back by more than a tenth of
    /// its overall growth, and at least half of its steps are increases of
    /// more than half the average step. A site that grows and then shrinks
    /// back is therefore not a leak, nor one that grew in one step and then
    /// stayed, give or take a few bytes (pandas' caches after the first
    /// requests: 110, 154, 155, 151, 153, 152 KiB). Of sampled sizes
    /// (`standardErrors` not 0), a step back within its noise is no falling
    /// back.
    public static func isPersistentGrowth(_ sizes: [Int64], standardErrors: [Double] = []) -> Bool {
        guard let first = sizes.first, let last = sizes.last, last > first else { return false }
        guard sizes.count > 2 else { return true }
        let tolerance = (last - first) / 10
        let steps = zip(sizes.dropFirst(), sizes).map { $0 - $1 }
        let halfAverageStep = (last - first) / Int64(2 * steps.count)
        let increases = steps.filter { $0 > halfAverageStep }.count
        let noise = standardErrors.count == sizes.count
            ? zip(standardErrors.dropFirst(), standardErrors).map { SampledEstimates.significance * ($0 * $0 + $1 * $1).squareRoot() }
            : [Double](repeating: 0, count: steps.count)
        return zip(steps, noise).allSatisfy { step, noise in Double(step) >= -max(Double(tolerance), noise) }
            && increases * 2 >= steps.count
    }
}
