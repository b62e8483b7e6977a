/// How one group of traces changed between two snapshots, like
/// tracemalloc's `StatisticDiff`.
public struct StatisticDiff: Equatable, Sendable {
    public var key: GroupKey
    /// The allocation site of the group's largest trace (in the new
    /// snapshot, or the old one for a group that is gone).
    public var site: Frame
    /// Live bytes in the new snapshot.
    public var size: Int64
    /// New minus old live bytes.
    public var sizeDiff: Int64
    /// Live blocks in the new snapshot.
    public var count: Int64
    public var countDiff: Int64
    public var traceback: [Frame]
    /// Of sampled snapshots, the standard errors of `size` and of
    /// `sizeDiff` (`SampledEstimates`); 0 when exact.
    public var sizeStandardError: Double
    public var sizeDiffStandardError: Double

    public init(key: GroupKey, site: Frame, size: Int64, sizeDiff: Int64, count: Int64, countDiff: Int64,
                traceback: [Frame], sizeStandardError: Double = 0, sizeDiffStandardError: Double = 0) {
        self.key = key
        self.site = site
        self.size = size
        self.sizeDiff = sizeDiff
        self.count = count
        self.countDiff = countDiff
        self.traceback = traceback
        self.sizeStandardError = sizeStandardError
        self.sizeDiffStandardError = sizeDiffStandardError
    }

    /// Whether the figures are estimates from sampled blocks.
    public var isEstimate: Bool { sizeStandardError > 0 || sizeDiffStandardError > 0 }
}
