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
        let statistics = grouping.groups(of: self).values
            .filter { $0.size >= options.minimumSize }
            .map { Statistic(key: $0.key, site: $0.site, size: $0.size, count: $0.count, traceback: $0.traceback) }
        return statistics.sortedWithTies(key: \.key) { lhs, rhs in
            if lhs.size != rhs.size { return lhs.size > rhs.size }
            if lhs.count != rhs.count { return lhs.count > rhs.count }
            return nil
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
    public func compare(to old: Snapshot, _ options: StatisticsOptions, symbolizer: Symbolizer) -> [StatisticDiff] {
        let grouping = TraceGrouping(options: options, symbolizer: symbolizer)
        let newGroups = grouping.groups(of: self)
        let oldGroups = grouping.groups(of: old)

        var diffs: [StatisticDiff] = []
        for key in Set(newGroups.keys).union(oldGroups.keys) {
            let new = newGroups[key]
            let before = oldGroups[key]
            guard let representative = new ?? before else { continue }
            let size = new?.size ?? 0
            let count = new?.count ?? 0
            let diff = StatisticDiff(
                key: key, site: representative.site,
                size: size, sizeDiff: size.saturatingSubtracting(before?.size ?? 0),
                count: count, countDiff: count.saturatingSubtracting(before?.count ?? 0),
                traceback: representative.traceback)
            let emptyAndUnchanged = diff.size == 0 && diff.sizeDiff == 0 && diff.count == 0 && diff.countDiff == 0
            if !emptyAndUnchanged && diff.sizeDiff.magnitude >= options.minimumSizeDiff.magnitude {
                diffs.append(diff)
            }
        }
        return diffs.sortedWithTies(key: \.key) { lhs, rhs in
            if lhs.sizeDiff.magnitude != rhs.sizeDiff.magnitude {
                return lhs.sizeDiff.magnitude > rhs.sizeDiff.magnitude
            }
            if lhs.size != rhs.size { return lhs.size > rhs.size }
            return nil
        }
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
        let new = total(options, symbolizer: symbolizer)
        let before = old.total(options, symbolizer: symbolizer)
        return HeapTotal(size: new.size, count: new.count,
                         sizeDiff: new.size.saturatingSubtracting(before.size),
                         countDiff: new.count.saturatingSubtracting(before.count))
    }
}

extension Array {
    /// Sorts by `precedes`, which returns nil for a tie; ties are broken by
    /// the group key's label, then its full spelling, so that the order never
    /// depends on dictionary iteration order, which changes from run to run.
    /// Labels are made only for elements that tie, once each: a traceback
    /// key's label is long, and a snapshot can have many thousand of them.
    func sortedWithTies(key: KeyPath<Element, GroupKey>, by precedes: (Element, Element) -> Bool?) -> [Element] {
        var labels: [Int: String] = [:]
        func label(_ index: Int) -> String {
            if let known = labels[index] { return known }
            let made = self[index][keyPath: key].label()
            labels[index] = made
            return made
        }
        return indices.sorted { lhs, rhs in
            if let decided = precedes(self[lhs], self[rhs]) { return decided }
            let (left, right) = (label(lhs), label(rhs))
            if left != right { return left < right }
            return String(reflecting: self[lhs][keyPath: key]) < String(reflecting: self[rhs][keyPath: key])
        }.map { self[$0] }
    }
}
