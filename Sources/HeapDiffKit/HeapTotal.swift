/// The whole live heap of a snapshot, or its change between two.
public struct HeapTotal: Equatable, Sendable {
    public var size: Int64
    public var count: Int64
    /// Present when comparing: new minus old.
    public var sizeDiff: Int64?
    public var countDiff: Int64?

    public init(size: Int64, count: Int64, sizeDiff: Int64? = nil, countDiff: Int64? = nil) {
        self.size = size
        self.count = count
        self.sizeDiff = sizeDiff
        self.countDiff = countDiff
    }
}

extension Snapshot {
    /// Every traced block, including those of stacks the recorder dropped,
    /// so this can exceed the sum of the statistics.
    public var total: HeapTotal {
        HeapTotal(size: Int64(saturating: process.liveBytes), count: Int64(saturating: process.liveCount))
    }

    public func total(comparedTo old: Snapshot) -> HeapTotal {
        let new = total
        let before = old.total
        return HeapTotal(size: new.size, count: new.count,
                         sizeDiff: new.size.saturatingSubtracting(before.size),
                         countDiff: new.count.saturatingSubtracting(before.count))
    }
}
