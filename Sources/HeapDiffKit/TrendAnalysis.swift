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

        public var description: String {
            switch self {
            case .tooFewSnapshots(let count):
                return "a trend needs at least 3 snapshots of one process, not \(count)"
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
        var grouped: [(snapshot: Snapshot, statistics: [GroupKey: Statistic])] = []
        grouped.reserveCapacity(count)
        for index in 0..<count {
            progress?(index)
            var snapshot = try load(index)
            let statistics = snapshot.statisticsByKey(options, symbolizer: symbolizer)
            snapshot.traces = []
            grouped.append((snapshot, statistics))
        }
        // The exit snapshot is left out when there are enough others: it is
        // taken after the work has stopped (and often after destructors), so
        // it would bend the recent half of every series towards flat.
        let phases = grouped.filter { $0.snapshot.process.trigger != .exit }
        let usable = phases.count >= 3 ? phases : grouped
        guard usable.count >= 3 else { throw Failure.tooFewSnapshots(count) }
        let orderedGroups = usable.sorted { $0.snapshot.process.seq < $1.snapshot.process.seq }
        let ordered = orderedGroups.map(\.snapshot)
        let perSnapshot = orderedGroups.map(\.statistics)
        let start = ordered[0].process.monotonicNs
        let seconds = ordered.map { Double($0.process.monotonicNs &- start) / 1e9 }
        func series(_ sizes: [Int64], _ counts: [Int64]) -> Series {
            let y = sizes.map(Double.init)
            let index = (0..<sizes.count).map(Double.init)
            let x = axis == .time ? seconds : index
            let recent = Trend.recentFit(x: x, y: y)
            return Series(sizes: sizes, counts: counts,
                          bytesPerSecond: axis == .time ? recent.slope : nil,
                          bytesPerSnapshot: Trend.recentFit(x: index, y: y).slope,
                          r2: recent.r2, verdict: Trend.verdict(x: x, y: y))
        }
        var sites: [Site] = []
        for key in Set(perSnapshot.flatMap(\.keys)) {
            let sizes = perSnapshot.map { $0[key]?.size ?? 0 }
            guard Set(sizes).count > 1, let latest = perSnapshot.last(where: { $0[key] != nil })?[key] else { continue }
            sites.append(Site(key: key, site: latest.site, traceback: latest.traceback,
                              series: series(sizes, perSnapshot.map { $0[key]?.count ?? 0 })))
        }
        sites.sort { lhs, rhs in
            let (l, r) = (lhs.series, rhs.series)
            if (l.verdict == .steadyGrowth) != (r.verdict == .steadyGrowth) { return l.verdict == .steadyGrowth }
            if l.bytesPerSnapshot != r.bytesPerSnapshot { return l.bytesPerSnapshot > r.bytesPerSnapshot }
            return lhs.key.label() < rhs.key.label()
        }
        return TrendAnalysis(
            snapshots: ordered, seconds: seconds, axis: axis, sites: sites,
            heap: series(ordered.map { Int64(saturating: $0.process.liveBytes) },
                         ordered.map { Int64(saturating: $0.process.liveCount) }),
            rss: series(ordered.map { Int64(saturating: $0.process.rss) }, ordered.map { _ in 0 }))
    }
}
