/// Everything that decides what `statistics` and `compare` return, like the
/// arguments of tracemalloc's `Snapshot.statistics`, `compare_to` and
/// `filter_traces` together.
public struct StatisticsOptions: Equatable, Sendable {
    public var keyType: KeyType
    /// Counts a trace for every distinct key among the frames of its stack
    /// from the allocation site outward, not only the site's (tracemalloc's
    /// `cumulative=True`); frames the rule calls plumbing are left out, so
    /// that `main`'s row is not topped by libc's start-up code. Ignored when
    /// grouping by traceback.
    public var cumulative: Bool
    /// Which frames are allocator plumbing, to be skipped for the site.
    public var rule: AllocationSiteRule
    /// Which traces count at all; see `[TraceFilter].admits`.
    public var filters: [TraceFilter]
    /// Leaves out the blocks of runtimes' caches of freed objects
    /// (`RuntimeCaches`), as `LeakCheck` does.
    public var skipsRuntimeCaches: Bool
    /// `statistics` drops rows with fewer live bytes than this.
    public var minimumSize: Int64
    /// `compare` drops rows whose size changed by less than this either way.
    public var minimumSizeDiff: Int64
    /// At most this many rows, the first in order (0: all): the keys, sites
    /// and tracebacks of the rows after them are never made, which matters
    /// when grouping 200,000 stacks by traceback to print ten.
    public var limit: Int

    public init(keyType: KeyType = .lineno, cumulative: Bool = false, rule: AllocationSiteRule = .standard,
                filters: [TraceFilter] = [], minimumSize: Int64 = 0, minimumSizeDiff: Int64 = 0, limit: Int = 0,
                skipsRuntimeCaches: Bool = false) {
        self.keyType = keyType
        self.cumulative = cumulative
        self.rule = rule
        self.filters = filters
        self.skipsRuntimeCaches = skipsRuntimeCaches
        self.minimumSize = minimumSize
        self.minimumSizeDiff = minimumSizeDiff
        self.limit = limit
    }

    /// Whether each trace counts once per frame key rather than once.
    var countsEveryFrame: Bool { cumulative && keyType != .traceback }
}
