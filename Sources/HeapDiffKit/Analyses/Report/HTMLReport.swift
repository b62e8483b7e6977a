import Foundation

/// `heapdiff report`: one self-contained HTML page over a series of
/// snapshots of one process. This file gathers the page's data
/// (`HTMLReportModel`); `HTMLPage` writes the page around it.
public enum HTMLReport {
    public struct Options: Sendable {
        /// The page's title; by default `heapdiff report: PROGRAM (pid N)`.
        public var title: String?
        /// Grouping, attribution and filters, as for diff and trend.
        public var statistics: StatisticsOptions
        /// What the trend's growth is fitted against.
        public var axis: TrendAnalysis.Axis
        /// Sites drawn one by one in the stacked area chart (the rest is "other").
        public var top: Int
        /// Rows the trend and diff tables show before "show all"; 0 shows all.
        public var limit: Int
        /// Sites whose series are embedded for the diff table: the largest by
        /// peak live bytes. Any site left out never had more than the smallest
        /// one kept, so no change between two snapshots can hide in the
        /// "other sites" row that sums them.
        public var maxSites: Int
        public var paths: PathDisplay

        public init(title: String? = nil, statistics: StatisticsOptions = StatisticsOptions(), axis: TrendAnalysis.Axis = .time,
                    top: Int = 10, limit: Int = 10, maxSites: Int = 1_000, paths: PathDisplay = .unchanged) {
            self.title = title
            self.statistics = statistics
            self.axis = axis
            self.top = top
            self.limit = limit
            self.maxSites = maxSites
            self.paths = paths
        }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noSnapshots

        public var description: String { "a report needs at least one snapshot" }
    }

    public static func model(_ snapshots: [Snapshot], options: Options = Options(),
                             symbolizer: Symbolizer) throws -> HTMLReportModel {
        try model(count: snapshots.count, load: { snapshots[$0] }, options: options, symbolizer: symbolizer)
    }

    /// The report over `count` snapshots of one process in the order taken,
    /// given one at a time by `load`. Each is reduced to its groups' numbers
    /// (and, for the first and the last, their folded stacks) as soon as it is
    /// read; with three or more, the reading is that of `TrendAnalysis`, which
    /// groups them for the trend at the same time. `progress` is told how many
    /// snapshots have been read.
    public static func model(count: Int, load: (Int) throws -> Snapshot, options: Options,
                             symbolizer: Symbolizer, progress: ((Int) -> Void)? = nil) throws -> HTMLReportModel {
        guard count > 0 else { throw Failure.noSnapshots }
        var collector = SiteSeriesCollector(snapshots: count)
        var points = [HTMLReportModel.SnapshotPoint?](repeating: nil, count: count)
        var process: ProcessRecord?
        var programName: String?
        var baseStacks: [String: UInt64] = [:], liveStacks: [String: UInt64] = [:]

        // TrendAnalysis keeps only the groups that changed, over the snapshots
        // it fits; the charts and the diff need every group in every snapshot,
        // so each snapshot is grouped here as well (the second time with its
        // frames already in the symbolizer's cache).
        func read(_ index: Int) throws -> Snapshot {
            let snapshot = try load(index)
            collector.add(snapshot.statisticsByKey(options.statistics, symbolizer: symbolizer), at: index)
            points[index] = point(snapshot, total: snapshot.total(options.statistics, symbolizer: symbolizer))
            if index == 0 {
                process = snapshot.process
                programName = SnapshotFileName.programName(path: snapshot.path, process: snapshot.process)
            }
            if index == 0 || index == count - 1 {
                let stacks = FoldedStacks.bytesPerStack(of: snapshot, symbolizer: symbolizer)
                if index == 0 { baseStacks = stacks }
                if index == count - 1 { liveStacks = stacks }
            }
            return snapshot
        }

        var trend: TrendAnalysis?
        var trendUnavailable: String?
        do {
            guard count >= SnapshotSeries<Snapshot>.trendMinimum else { throw TrendAnalysis.Failure.tooFewSnapshots(count) }
            trend = try TrendAnalysis.analyze(count: count, load: read, options: options.statistics, axis: options.axis,
                                              symbolizer: symbolizer, progress: progress)
        } catch let failure as TrendAnalysis.Failure {
            trendUnavailable = failure.description
        }
        // Without a trend (or had it stopped early) the charts still need every snapshot.
        for index in 0..<count where points[index] == nil {
            progress?(index)
            _ = try read(index)
        }

        let sites = chooseSites(collector, trend: trend, options: options)
        let series = collector.series(of: sites.embedded)
        let others = collector.sum(excluding: Set(sites.embedded))
        let position = Dictionary(uniqueKeysWithValues: sites.embedded.enumerated().map { ($1, $0) })
        let first = process ?? ProcessRecord()
        let program = programName ?? "the program"
        return HTMLReportModel(
            title: options.title ?? "heapdiff report: \(program) (pid \(first.pid))",
            program: first.program, pid: first.pid, keyType: options.statistics.keyType.rawValue,
            snapshots: points.compactMap { $0 },
            sites: sites.embedded.enumerated().map { row, site in
                HTMLReportModel.SiteSeries(label: collector.keys[site].label(paths: options.paths), function: collector.functions[site],
                                           sizes: series.sizes[row], counts: series.counts[row])
            },
            otherSites: HTMLReportModel.OtherSites(sites: collector.keys.count - sites.embedded.count,
                                                   sizes: others.sizes, counts: others.counts),
            stacked: HTMLReportModel.StackedSites(sites: sites.charted.compactMap { position[$0] },
                                                  other: collector.sum(excluding: Set(sites.charted)).sizes),
            trend: trend.map { table($0, options: options) },
            trendUnavailable: trendUnavailable,
            flame: FlameGraphData(live: liveStacks, base: baseStacks, liveSnapshot: count - 1, baseSnapshot: 0),
            limit: options.limit, minSizeDiff: options.statistics.minimumSizeDiff,
            sampleRate: first.sampleRate)
    }

    // MARK: - Parts

    private static func point(_ snapshot: Snapshot, total: HeapTotal) -> HTMLReportModel.SnapshotPoint {
        let process = snapshot.process
        return HTMLReportModel.SnapshotPoint(
            name: URL(fileURLWithPath: snapshot.path).lastPathComponent, seq: process.seq, label: process.label,
            trigger: process.trigger.description,
            seconds: Double(process.monotonicNs &- process.startMonotonicNs) / 1e9,
            rss: Int64(saturating: process.rss), liveBytes: Int64(saturating: process.liveBytes),
            liveCount: Int64(saturating: process.liveCount), totalSize: total.size, totalCount: total.count)
    }

    /// The groups charted one by one: the trend's ranking (steady growth
    /// first), so that the chart and the table agree, then those that grew
    /// most from first to last, then the largest; and the groups embedded:
    /// those charted and the largest by peak.
    static func chooseSites(_ collector: SiteSeriesCollector, trend: TrendAnalysis?,
                            options: Options) -> (charted: [Int], embedded: [Int]) {
        let extremes = collector.extremes()
        let labels = collector.keys.map { $0.label() }
        var charted: [Int] = [], chosen = Set<Int>()
        for site in trend?.sites ?? [] where charted.count < options.top {
            if let index = collector.site(of: site.key), chosen.insert(index).inserted { charted.append(index) }
        }
        let byGrowth = extremes.indices.filter { extremes[$0].peak > 0 }.sorted { lhs, rhs in
            let (l, r) = (extremes[lhs], extremes[rhs])
            let (lg, rg) = (l.last.saturatingSubtracting(l.first), r.last.saturatingSubtracting(r.first))
            if lg != rg { return lg > rg }
            if l.last != r.last { return l.last > r.last }
            return labels[lhs] < labels[rhs]
        }
        for index in byGrowth where charted.count < options.top && chosen.insert(index).inserted {
            charted.append(index)
        }
        let byPeak = extremes.indices.sorted { lhs, rhs in
            extremes[lhs].peak != extremes[rhs].peak ? extremes[lhs].peak > extremes[rhs].peak : labels[lhs] < labels[rhs]
        }
        let embedded = Set(charted).union(byPeak.prefix(options.maxSites))
        return (charted, byPeak.filter(embedded.contains))
    }

    private static func table(_ analysis: TrendAnalysis, options: Options) -> HTMLReportModel.TrendTable {
        let shown = options.limit == 0 ? analysis.sites : Array(analysis.sites.prefix(options.limit))
        return HTMLReportModel.TrendTable(
            axis: analysis.axis.rawValue, seqs: analysis.snapshots.map(\.process.seq),
            heap: series(analysis.heap), rss: series(analysis.rss),
            rows: shown.map { HTMLReportModel.TrendRow(label: $0.key.label(paths: options.paths), function: $0.site.function,
                                                       series: series($0.series)) },
            more: analysis.sites.count - shown.count)
    }

    /// JSON has no NaN or infinity; a degenerate fit is shown as no rate.
    private static func series(_ series: TrendAnalysis.Series) -> HTMLReportModel.TrendSeries {
        func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }
        return HTMLReportModel.TrendSeries(
            verdict: series.verdict.rawValue, bytesPerSecond: series.bytesPerSecond.flatMap(finite),
            bytesPerSnapshot: finite(series.bytesPerSnapshot) ?? 0, r2: finite(series.r2) ?? 0,
            first: series.sizes.first ?? 0, last: series.sizes.last ?? 0)
    }
}
