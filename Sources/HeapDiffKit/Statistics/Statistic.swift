/// The live heap of one group of traces in one snapshot, like tracemalloc's
/// `Statistic`.
public struct Statistic: Equatable, Sendable {
    /// What the grouped traces have in common.
    public var key: GroupKey
    /// The allocation site of the group's largest trace.
    public var site: Frame
    /// Live bytes (an estimate in a sampled snapshot).
    public var size: Int64
    /// Live blocks (an estimate in a sampled snapshot).
    public var count: Int64
    /// The full stack of the group's largest trace, innermost first.
    public var traceback: [Frame]
    /// The standard error of `size`: 0 when exact (every allocation
    /// recorded, or only blocks recorded whole), else `SampledEstimates`'.
    public var sizeStandardError: Double

    public init(key: GroupKey, site: Frame, size: Int64, count: Int64, traceback: [Frame],
                sizeStandardError: Double = 0) {
        self.key = key
        self.site = site
        self.size = size
        self.count = count
        self.traceback = traceback
        self.sizeStandardError = sizeStandardError
    }

    /// Whether size and count are estimates from sampled blocks.
    public var isEstimate: Bool { sizeStandardError > 0 }
}
