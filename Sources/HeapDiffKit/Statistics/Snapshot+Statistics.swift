extension Snapshot {
    /// Live heap per group, largest first (by size, then count), like
    /// tracemalloc's `Snapshot.statistics`, after `filter_traces` with
    /// `options.filters`; rows under `options.minimumSize` are left out.
    /// The same statistics, by group key: how analyses over a series of
    /// snapshots (check, trend) follow one group from snapshot to snapshot.
    public func statisticsByKey(_ options: StatisticsOptions, symbolizer: Symbolizer) -> [GroupKey: Statistic] {
        Dictionary(statistics(options, symbolizer: symbolizer).map { ($0.key, $0) },
                   uniquingKeysWith: { first, _ in first })
    }

    public func statistics(_ options: StatisticsOptions, symbolizer: Symbolizer) -> [Statistic] {
        let grouping = TraceGrouping(options: options, symbolizer: symbolizer)
        let grouped = grouping.groups(of: self)
        let rows = grouped.groups.filter { $0.size >= options.minimumSize }
            .map { Row(key: $0.key, size: $0.size, sizeDiff: 0, count: $0.count, countDiff: 0) }
        // Sorted as numbers; keys, labels and tracebacks made for the rows kept only.
        return Self.sorted(rows, limit: options.limit, order: grouping.keyTable.order()) { lhs, rhs in
            if lhs.size != rhs.size { return lhs.size > rhs.size }
            if lhs.count != rhs.count { return lhs.count > rhs.count }
            return nil
        }.map { row in
            let group = grouped[row.key]!
            return Statistic(key: grouping.keyTable.key(row.key), site: group.site, size: group.size,
                             count: group.count, traceback: grouped.traceback(of: group),
                             sizeStandardError: group.variance.squareRoot())
        }
    }

    public func statistics(by keyType: KeyType, symbolizer: Symbolizer,
                           rule: AllocationSiteRule = .standard) -> [Statistic] {
        statistics(StatisticsOptions(keyType: keyType, rule: rule), symbolizer: symbolizer)
    }

    /// How each group changed since `old`, biggest change first (by absolute
    /// size change, then size), like tracemalloc's `Snapshot.compare_to`.
    /// Groups present in only one snapshot count as empty in the other; rows
    /// whose size changed by less than `options.minimumSizeDiff` are left out.
    /// Of sampled snapshots, each row carries the standard errors of its
    /// size and of its change (`SampledEstimates`).
    public func compare(to old: Snapshot, _ options: StatisticsOptions, symbolizer: Symbolizer) -> [StatisticDiff] {
        let grouping = TraceGrouping(options: options, symbolizer: symbolizer)
        let growth = SampledEstimates.growthVariances(old: old, new: self)
        let new = grouping.groups(of: self, variances: growth.new)
        let before = grouping.groups(of: old, variances: growth.old)

        var rows: [Row] = []
        rows.reserveCapacity(new.groups.count)
        func add(_ key: Int32, _ newGroup: TraceGrouping.Group?, _ oldGroup: TraceGrouping.Group?) {
            let size = newGroup?.size ?? 0, count = newGroup?.count ?? 0
            var row = Row(key: key, size: size, sizeDiff: size.saturatingSubtracting(oldGroup?.size ?? 0),
                          count: count, countDiff: count.saturatingSubtracting(oldGroup?.count ?? 0))
            row.sizeVariance = newGroup?.liveVariance ?? 0
            row.sizeDiffVariance = (newGroup?.variance ?? 0) + (oldGroup?.variance ?? 0)
            let emptyAndUnchanged = row.size == 0 && row.sizeDiff == 0 && row.count == 0 && row.countDiff == 0
            if !emptyAndUnchanged && row.sizeDiff.magnitude >= options.minimumSizeDiff.magnitude {
                rows.append(row)
            }
        }
        for group in new.groups { add(group.key, group, before[group.key]) }
        for group in before.groups where new[group.key] == nil { add(group.key, nil, group) }

        return Self.sorted(rows, limit: options.limit, order: grouping.keyTable.order()) { lhs, rhs in
            if lhs.sizeDiff.magnitude != rhs.sizeDiff.magnitude {
                return lhs.sizeDiff.magnitude > rhs.sizeDiff.magnitude
            }
            if lhs.size != rhs.size { return lhs.size > rhs.size }
            return nil
        }.map { row in
            // The new snapshot's group gives the row its site and traceback,
            // or the old one's when the key is gone.
            let (grouped, group) = new[row.key].map { (new, $0) } ?? (before, before[row.key]!)
            return StatisticDiff(
                key: grouping.keyTable.key(row.key), site: group.site,
                size: row.size, sizeDiff: row.sizeDiff, count: row.count, countDiff: row.countDiff,
                traceback: grouped.traceback(of: group), sizeStandardError: row.sizeVariance.squareRoot(),
                sizeDiffStandardError: row.sizeDiffVariance.squareRoot())
        }
    }

    /// A row before its key, site and traceback are made: plain numbers, so
    /// that sorting many moves no strings.
    private struct Row {
        var key: Int32
        var size: Int64, sizeDiff: Int64, count: Int64, countDiff: Int64
        var sizeVariance: Double = 0, sizeDiffVariance: Double = 0
    }

    /// The first `limit` rows (all when 0) by `precedes`, which returns nil
    /// for a tie; ties are broken by `order`, so that the result never
    /// depends on dictionary iteration order, which changes from run to run.
    private static func sorted(_ rows: [Row], limit: Int, order: KeyOrder,
                               by precedes: (Row, Row) -> Bool?) -> [Row] {
        let sorted = rows.sorted { lhs, rhs in
            if let decided = precedes(lhs, rhs) { return decided }
            return order.precedes(lhs.key, rhs.key)
        }
        return limit > 0 ? Array(sorted.prefix(limit)) : sorted
    }

    public func compare(to old: Snapshot, by keyType: KeyType, symbolizer: Symbolizer,
                        rule: AllocationSiteRule = .standard) -> [StatisticDiff] {
        compare(to: old, StatisticsOptions(keyType: keyType, rule: rule), symbolizer: symbolizer)
    }

    /// The heap the statistics cover: the traces that pass `options.filters`
    /// (each counted once, even when cumulative), or without filters the
    /// whole traced heap (`total`).
    public func total(_ options: StatisticsOptions, symbolizer: Symbolizer) -> HeapTotal {
        TraceGrouping(options: options, symbolizer: symbolizer).total(of: self)
    }

    /// `total(_:symbolizer:)` of both snapshots, with the change since `old`.
    public func total(comparedTo old: Snapshot, _ options: StatisticsOptions, symbolizer: Symbolizer) -> HeapTotal {
        let grouping = TraceGrouping(options: options, symbolizer: symbolizer)
        let new = grouping.total(of: self)
        let before = grouping.total(of: old)
        let growth = SampledEstimates.growthVariances(old: old, new: self)
        let newPart = grouping.total(of: self, variances: growth.new), oldPart = grouping.total(of: old, variances: growth.old)
        return HeapTotal(size: new.size, count: new.count,
                         sizeDiff: new.size.saturatingSubtracting(before.size),
                         countDiff: new.count.saturatingSubtracting(before.count),
                         sizeVariance: new.sizeVariance,
                         sizeDiffVariance: newPart.sizeVariance + oldPart.sizeVariance)
    }
}
