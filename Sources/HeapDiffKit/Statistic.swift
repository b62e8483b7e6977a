/// The live heap of one group of traces in one snapshot, like tracemalloc's
/// `Statistic`.
public struct Statistic: Equatable, Sendable {
    /// What the grouped traces have in common.
    public var key: GroupKey
    /// The allocation site of the group's largest trace.
    public var site: Frame
    /// Live bytes.
    public var size: Int64
    /// Live blocks.
    public var count: Int64
    /// The full stack of the group's largest trace, innermost first.
    public var traceback: [Frame]

    public init(key: GroupKey, site: Frame, size: Int64, count: Int64, traceback: [Frame]) {
        self.key = key
        self.site = site
        self.size = size
        self.count = count
        self.traceback = traceback
    }
}
