/// `heapdiff trend`'s result: every call site's live bytes across a series
/// of snapshots of one process, its growth rate and verdict, and the same
/// for the whole traced heap, with an extrapolation of where it is heading.
public struct TrendAnalysis: Sendable {
    /// What growth is measured against.
    public enum Axis: String, Sendable {
        case time    // seconds since the first snapshot (CLOCK_MONOTONIC)
        case index   // snapshot number, for snapshots taken per phase rather than per period
    }

    public struct Series: Sendable {
        public var sizes: [Int64]
        public var counts: [Int64]
        /// Bytes per second (nil on the index axis) and per snapshot, from the
        /// recent half of the series: how fast it grows now.
        public var bytesPerSecond: Double?
        public var bytesPerSnapshot: Double
        /// r² of the recent half's linear fit.
        public var r2: Double
        public var verdict: Trend.Verdict
        /// Of sampled snapshots: each size's standard error, and that of the
        /// recent half's growth (its last size minus its first) and so of
        /// the rates, which that growth over its span also measures; all 0
        /// when exact (`SampledEstimates`).
        public var sizeStandardErrors: [Double] = []
        public var recentGrowthStandardError: Double = 0
        public var bytesPerSecondStandardError: Double?
        public var bytesPerSnapshotStandardError: Double = 0

        /// Live bytes at the last snapshot less those at the first.
        public var growthOverSeries: Int64 { (sizes.last ?? 0) - (sizes.first ?? 0) }

        public var isEstimate: Bool { recentGrowthStandardError > 0 || sizeStandardErrors.contains { $0 > 0 } }
    }

    public struct Site: Sendable {
        public var key: GroupKey
        public var site: Frame
        public var traceback: [Frame]
        public var series: Series
    }

    /// The snapshots, in the order taken, without their traces (only their
    /// process records and paths are needed once they are grouped).
    public var snapshots: [Snapshot]
    /// Seconds from the first snapshot to each.
    public var seconds: [Double]
    public var axis: Axis
    /// Sites whose live bytes changed, steady growth first, then by growth rate.
    public var sites: [Site]
    /// The whole traced heap (live bytes) and the process's resident memory.
    public var heap: Series
    public var rss: Series

    /// Seconds until the traced heap reaches `bytes` at its current rate;
    /// nil when it is not growing (or already there) or the axis is not time.
    public func secondsUntilHeap(reaches bytes: Int64) -> Double? {
        guard let rate = heap.bytesPerSecond, rate > 0, let now = heap.sizes.last, bytes > now else { return nil }
        return Double(bytes - now) / rate
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case tooFewSnapshots(Int)
        /// Too few once the snapshots of an interpreter's teardown are left out.
        case tooFewBeforeTeardown(Int, leftOut: Int)
        /// Too few once the exit snapshot (and any teardown) is left out.
        case tooFewBeforeExit(Int, leftOut: Int)

        public var description: String {
            switch self {
            case .tooFewSnapshots(let count):
                return "a trend needs at least 3 snapshots of one process, not \(count)"
            case let .tooFewBeforeTeardown(count, leftOut):
                return "a trend needs at least 3 snapshots of one process, not \(count) "
                    + "(and \(leftOut) taken as Python finalized, which show its teardown)"
            case let .tooFewBeforeExit(count, leftOut):
                return "a trend needs at least 3 snapshots of one process taken while it ran, not \(count) "
                    + "(and \(leftOut) taken at exit or in a teardown, after destructors freed what it held)"
            }
        }
    }

    /// `progress` is told how many snapshots have been grouped so far.
    public static func analyze(_ snapshots: [Snapshot], options: StatisticsOptions = StatisticsOptions(),
                               axis: Axis = .time, symbolizer: Symbolizer,
                               progress: ((Int) -> Void)? = nil) throws -> TrendAnalysis {
        try analyze(count: snapshots.count, load: { snapshots[$0] }, options: options, axis: axis,
                    symbolizer: symbolizer, progress: progress)
    }

    /// The same over `count` snapshots given one at a time by `load`: each is
    /// grouped as soon as it is read and its traces are let go, so a long
    /// series costs memory for its groups, not for all of its traces.
    /// `progress` is told how many snapshots have been read so far.
    public static func analyze(count: Int, load: (Int) throws -> Snapshot,
                               options: StatisticsOptions = StatisticsOptions(), axis: Axis = .time,
                               symbolizer: Symbolizer, progress: ((Int) -> Void)? = nil) throws -> TrendAnalysis {
        var grouping = SeriesGrouping(options: options, symbolizer: symbolizer)
        var grouped: [Grouped] = []
        grouped.reserveCapacity(count)
        for index in 0..<count {
            progress?(index)
            var snapshot = try load(index)
            let rows = grouping.group(snapshot)
            let allocSamples = snapshot.traces.reduce(0 as UInt64) { $0 &+ $1.allocSamples }
            snapshot.traces = []
            grouped.append(Grouped(snapshot: snapshot, rows: rows, allocSamples: allocSamples))
        }
        return try analyze(grouped, count: count, grouping: grouping, axis: axis)
    }

    /// A snapshot without its traces, and its groups.
    private struct Grouped: SeriesMember {
        var snapshot: Snapshot
        var rows: [SeriesGrouping.Row]
        /// Every stack's allocated sample points (the heap's, for its noise).
        var allocSamples: UInt64
        var path: String { snapshot.path }
        var process: ProcessRecord { snapshot.process }
    }

    private static func analyze(_ grouped: [Grouped], count: Int, grouping: SeriesGrouping,
                                axis: Axis) throws -> TrendAnalysis {
        // The series' own rule (SnapshotSeries.trend): the exit snapshot is
        // left out once the program took two of its own, as it is taken after
        // the work has stopped and destructors ran, and an interpreter's
        // teardown is never a point.
        let chosen = SnapshotSeries(grouped)
        let orderedGroups = chosen.trend
        guard orderedGroups.count >= SnapshotSeries<Snapshot>.trendMinimum else {
            let leftOut = count - orderedGroups.count
            if leftOut == 0 { throw Failure.tooFewSnapshots(count) }
            throw chosen.leftOutOnlyTeardown
                ? Failure.tooFewBeforeTeardown(orderedGroups.count, leftOut: leftOut)
                : Failure.tooFewBeforeExit(orderedGroups.count, leftOut: leftOut)
        }
        let ordered = orderedGroups.map(\.snapshot)
        let start = ordered[0].process.monotonicNs
        let seconds = ordered.map { Double($0.process.monotonicNs &- start) / 1e9 }
        let rates = ordered.map { Double($0.process.sampleRate) }
        func series(_ sizes: [Int64], _ counts: [Int64], samples: (live: [UInt64], allocated: [UInt64])? = nil,
                    differing: ((Int, Int) -> UInt64)? = nil) -> Series {
            let y = sizes.map(Double.init)
            let index = (0..<sizes.count).map(Double.init)
            let x = axis == .time ? seconds : index
            let recent = Trend.recentFit(x: x, y: y)
            var series = Series(sizes: sizes, counts: counts,
                                bytesPerSecond: axis == .time ? recent.slope : nil,
                                bytesPerSnapshot: Trend.recentFit(x: index, y: y).slope,
                                r2: recent.r2, verdict: Trend.verdict(x: x, y: y))
            if let samples, rates.contains(where: { $0 > 0 }) {
                noise(of: &series, samples: samples, x: x, rates: rates, differing: differing)
            }
            return series
        }
        let sites = changingSites(orderedGroups.map(\.rows), grouping: grouping).map { changing in
            Site(key: changing.key, site: grouping.site(of: changing.latest), traceback: grouping.traceback(of: changing.latest),
                 series: series(changing.sizes, changing.counts, samples: (changing.liveSamples, changing.allocSamples)))
        }
        return TrendAnalysis(
            snapshots: ordered, seconds: seconds, axis: axis, sites: ranked(sites),
            heap: series(ordered.map { Int64(saturating: $0.process.liveBytes) },
                         ordered.map { Int64(saturating: $0.process.liveCount) },
                         samples: (ordered.map(\.process.liveSamples), orderedGroups.map(\.allocSamples)),
                         differing: { heapDifferingPoints(old: orderedGroups[$0], new: orderedGroups[$1]) }),
            rss: series(ordered.map { Int64(saturating: $0.process.rss) }, ordered.map { _ in 0 }))
    }

    /// A sampled series' standard errors, and its verdict when its recent
    /// half grew or shrank by no more than its noise (`SampledEstimates`):
    /// over the series' stacks, whose sample points are summed per group,
    /// the bound on the points that differ holds for the sums too.
    /// DIFFERING, when given, bounds the points that differ between two of
    /// the series' snapshots more tightly than their sums can (the heap's).
    private static func noise(of series: inout Series, samples: (live: [UInt64], allocated: [UInt64]), x: [Double],
                              rates: [Double], differing: ((Int, Int) -> UInt64)?) {
        let count = series.sizes.count
        series.sizeStandardErrors = (0..<count).map { rates[$0] * Double(samples.live[$0]).squareRoot() }
        let (first, last) = (count - max(2, (count + 1) / 2), count - 1)
        let points = differing?(first, last)
            ?? SampledEstimates.differingPoints(oldLive: samples.live[first], oldAllocated: samples.allocated[first],
                                                newLive: samples.live[last], newAllocated: samples.allocated[last])
        let error = max(rates[first], rates[last]) * Double(points).squareRoot()
        series.recentGrowthStandardError = error
        series.bytesPerSnapshotStandardError = error / Double(last - first)
        if series.bytesPerSecond != nil, x[last] > x[first] {
            series.bytesPerSecondStandardError = error / (x[last] - x[first])
        }
        let change = abs(Double(series.sizes[last]) - Double(series.sizes[first]))
        if [.steadyGrowth, .shrinking].contains(series.verdict), change <= SampledEstimates.significance * error {
            series.verdict = .noise
        }
    }

    /// The points by which the whole heap's live estimate may differ between
    /// two snapshots: each group's bound, summed, and the bound of the blocks
    /// no group holds (stacks a filter left out). The bound of the sums would
    /// count every point allocated in between as possibly live in the new
    /// snapshot, so that a service whose requests churn while a cache holds
    /// its blocks would have its heap's growth called noise however large; a
    /// group's churn can only replace that group's own live points. A group
    /// the new snapshot no longer lists had all its live points freed.
    private static func heapDifferingPoints(old: Grouped, new: Grouped) -> UInt64 {
        var before: [Int32: (live: UInt64, allocated: UInt64)] = [:]
        for row in old.rows { before[row.key] = (row.liveSamples, row.allocSamples) }
        var points: UInt64 = 0
        var grouped = (oldLive: UInt64(0), oldAllocated: UInt64(0), newLive: UInt64(0), newAllocated: UInt64(0))
        for row in new.rows {
            let then = before.removeValue(forKey: row.key) ?? (0, 0)
            points &+= SampledEstimates.differingPoints(oldLive: then.live, oldAllocated: then.allocated,
                                                        newLive: row.liveSamples, newAllocated: row.allocSamples)
            grouped.oldLive &+= then.live
            grouped.oldAllocated &+= then.allocated
            grouped.newLive &+= row.liveSamples
            grouped.newAllocated &+= row.allocSamples
        }
        for then in before.values {
            points &+= then.live
            grouped.oldLive &+= then.live
            grouped.oldAllocated &+= then.allocated
        }
        func rest(_ total: UInt64, _ part: UInt64) -> UInt64 { total > part ? total - part : 0 }
        return points &+ SampledEstimates.differingPoints(
            oldLive: rest(old.process.liveSamples, grouped.oldLive), oldAllocated: rest(old.allocSamples, grouped.oldAllocated),
            newLive: rest(new.process.liveSamples, grouped.newLive), newAllocated: rest(new.allocSamples, grouped.newAllocated))
    }

    /// The keys whose live bytes are not the same in every snapshot (a key
    /// missing from a snapshot has 0 there), with their series and the entry
    /// of their latest group, which gives the site and traceback shown.
    private static func changingSites(_ perSnapshot: [[SeriesGrouping.Row]], grouping: SeriesGrouping)
        -> [ChangingSite] {
        let keyCount = grouping.keys.count
        var present = [Int](repeating: 0, count: keyCount)
        var firstSize = [Int64](repeating: 0, count: keyCount)
        var varies = [Bool](repeating: false, count: keyCount)
        var latest = [Int32](repeating: -1, count: keyCount)
        for rows in perSnapshot {
            for row in rows {
                let key = Int(row.key)
                if present[key] == 0 {
                    firstSize[key] = row.size
                } else if row.size != firstSize[key] {
                    varies[key] = true
                }
                present[key] += 1
                latest[key] = row.entry
            }
        }
        // Present everywhere: it changed if its sizes differ. Missing
        // somewhere: if it ever had a size other than that 0.
        var slot = [Int](repeating: -1, count: keyCount)
        var changing: [ChangingSite] = []
        let zeros = [Int64](repeating: 0, count: perSnapshot.count), none = [UInt64](repeating: 0, count: perSnapshot.count)
        for key in 0..<keyCount where present[key] > 0
            && (varies[key] || (present[key] < perSnapshot.count && firstSize[key] != 0)) {
            slot[key] = changing.count
            changing.append(ChangingSite(key: grouping.keys[key], sizes: zeros, counts: zeros, liveSamples: none,
                                         allocSamples: none, latest: latest[key]))
        }
        for (index, rows) in perSnapshot.enumerated() {
            for row in rows where slot[Int(row.key)] >= 0 {
                let site = slot[Int(row.key)]
                changing[site].sizes[index] = row.size
                changing[site].counts[index] = row.count
                changing[site].liveSamples[index] = row.liveSamples
                changing[site].allocSamples[index] = row.allocSamples
            }
        }
        return changing
    }

    private struct ChangingSite {
        var key: GroupKey
        var sizes: [Int64], counts: [Int64]
        var liveSamples: [UInt64], allocSamples: [UInt64]
        var latest: Int32
    }

    /// Steady growth first, then by growth per snapshot now; among equal
    /// rates (a service idle since a burst: every rate is 0) by what the site
    /// grew over the whole series, then by its live bytes now, so that the
    /// burst's 20 MiB come before the 0 B of a request's buffers; then by
    /// label (and for equal labels by the key's full spelling, so that the
    /// order never depends on the order the sites were found in).
    private static func ranked(_ sites: [Site]) -> [Site] {
        var labels: [Int: String] = [:]
        func label(_ index: Int) -> String {
            if let known = labels[index] { return known }
            let made = sites[index].key.label()
            labels[index] = made
            return made
        }
        return sites.indices.sorted { left, right in
            let (l, r) = (sites[left].series, sites[right].series)
            if (l.verdict == .steadyGrowth) != (r.verdict == .steadyGrowth) { return l.verdict == .steadyGrowth }
            if l.bytesPerSnapshot != r.bytesPerSnapshot { return l.bytesPerSnapshot > r.bytesPerSnapshot }
            let (leftGrowth, rightGrowth) = (l.growthOverSeries, r.growthOverSeries)
            if leftGrowth != rightGrowth { return leftGrowth > rightGrowth }
            let (leftNow, rightNow) = (l.sizes.last ?? 0, r.sizes.last ?? 0)
            if leftNow != rightNow { return leftNow > rightNow }
            let (leftLabel, rightLabel) = (label(left), label(right))
            if leftLabel != rightLabel { return leftLabel < rightLabel }
            return String(reflecting: sites[left].key) < String(reflecting: sites[right].key)
        }.map { sites[$0] }
    }
}

extension StatisticsOptions {
    /// The options of the short trend `run` and `attach` print after their
    /// diff: grouped by whole stack (traceback), each series would be too
    /// fine to read there, so such a summary groups by line instead.
    public var forTrendSummary: StatisticsOptions {
        var options = self
        if options.keyType == .traceback { options.keyType = .lineno }
        return options
    }
}
