/// The whole live heap of a snapshot, or its change between two.
public struct HeapTotal: Equatable, Sendable {
    public var size: Int64
    public var count: Int64
    /// Present when comparing: new minus old.
    public var sizeDiff: Int64?
    public var countDiff: Int64?
    /// Of sampled snapshots: the variances (bytes²) of `size` and of
    /// `sizeDiff` (see `SampledEstimates`); 0 when exact.
    public var sizeVariance: Double = 0
    public var sizeDiffVariance: Double = 0

    public init(size: Int64, count: Int64, sizeDiff: Int64? = nil, countDiff: Int64? = nil,
                sizeVariance: Double = 0, sizeDiffVariance: Double = 0) {
        self.size = size
        self.count = count
        self.sizeDiff = sizeDiff
        self.countDiff = countDiff
        self.sizeVariance = sizeVariance
        self.sizeDiffVariance = sizeDiffVariance
    }

    public var sizeStandardError: Double { sizeVariance.squareRoot() }
    public var sizeDiffStandardError: Double { sizeDiffVariance.squareRoot() }
}

extension Snapshot {
    /// Every traced block, including those of stacks the recorder dropped,
    /// so this can exceed the sum of the statistics.
    public var total: HeapTotal {
        HeapTotal(size: Int64(saturating: process.liveBytes), count: Int64(saturating: process.liveCount),
                  sizeVariance: process.liveBytesStandardError * process.liveBytesStandardError)
    }

    public func total(comparedTo old: Snapshot) -> HeapTotal {
        let new = total
        let before = old.total
        let variances = SampledEstimates.growthVariances(old: old, new: self)
        return HeapTotal(size: new.size, count: new.count,
                         sizeDiff: new.size.saturatingSubtracting(before.size),
                         countDiff: new.count.saturatingSubtracting(before.count),
                         sizeVariance: new.sizeVariance,
                         sizeDiffVariance: variances.new.reduce(0, +) + variances.old.reduce(0, +))
    }
}
