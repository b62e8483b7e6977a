/// Everything `heapdiff report` puts in its page, as the JSON the page's
/// script reads (keys in snake_case). Built by `HTMLReport.model`; numbers
/// are plain bytes and counts so that the page, not this model, formats them.
public struct HTMLReportModel: Encodable, Sendable {
    /// One snapshot of the series, in the order taken.
    public struct SnapshotPoint: Encodable, Equatable, Sendable {
        /// The file name, without its directory.
        public var name: String
        public var seq: UInt32
        public var label: String
        public var trigger: String
        /// Since recording began in the process.
        public var seconds: Double
        public var rss: Int64
        /// The traced heap as the recorder counted it (dropped stacks included).
        public var liveBytes: Int64
        public var liveCount: Int64
        /// The heap the statistics cover (after --include/--exclude): the diff's total.
        public var totalSize: Int64
        public var totalCount: Int64
    }

    /// One group's live bytes and blocks in every snapshot.
    public struct SiteSeries: Encodable, Equatable, Sendable {
        public var label: String
        /// The allocation site's function, shown on hover.
        public var function: String?
        public var sizes: [Int64]
        public var counts: [Int64]
    }

    /// The groups not embedded one by one, summed per snapshot.
    public struct OtherSites: Encodable, Equatable, Sendable {
        public var sites: Int
        public var sizes: [Int64]
        public var counts: [Int64]
    }

    /// The stacked area chart: `sites` index `HTMLReportModel.sites`; `other`
    /// is everything else the statistics count, per snapshot.
    public struct StackedSites: Encodable, Equatable, Sendable {
        public var sites: [Int]
        public var other: [Int64]
    }

    /// A growth rate and verdict, as `heapdiff trend` reports them.
    public struct TrendSeries: Encodable, Equatable, Sendable {
        public var verdict: String
        /// nil when the trend was fitted per snapshot (--by-index).
        public var bytesPerSecond: Double?
        public var bytesPerSnapshot: Double
        public var r2: Double
        public var first: Int64
        public var last: Int64
    }

    public struct TrendRow: Encodable, Equatable, Sendable {
        public var label: String
        public var function: String?
        public var series: TrendSeries
    }

    public struct TrendTable: Encodable, Equatable, Sendable {
        /// `time` or `index`, as trend's --by-index.
        public var axis: String
        /// SEQ of the snapshots the trend was fitted over (trend leaves the exit snapshot out).
        public var seqs: [UInt32]
        public var heap: TrendSeries
        public var rss: TrendSeries
        /// Ranked as `heapdiff trend` ranks them, steady growth first; at most `limit`.
        public var rows: [TrendRow]
        /// Rows beyond `limit`.
        public var more: Int
    }

    public var title: String
    public var program: String
    public var pid: UInt32
    public var keyType: String
    public var snapshots: [SnapshotPoint]
    /// The largest groups by peak live bytes (and every charted one), largest first.
    public var sites: [SiteSeries]
    public var otherSites: OtherSites
    public var stacked: StackedSites
    public var trend: TrendTable?
    /// Why there is no trend (fewer than 3 snapshots), when there is none.
    public var trendUnavailable: String?
    public var flame: FlameGraphData
    /// Rows shown in the trend and diff tables before "show all"; 0 shows all.
    public var limit: Int
    /// --min-size-diff: diff rows that changed by less are hidden.
    public var minSizeDiff: Int64
    /// The sampling rate of the snapshots (0: every allocation recorded):
    /// when not 0, every size and count in the page is an estimate.
    public var sampleRate: UInt64 = 0
}
