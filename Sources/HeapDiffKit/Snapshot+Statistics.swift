extension Snapshot {
    /// Live heap per group, largest first (by size, then count), like
    /// tracemalloc's `Snapshot.statistics`.
    public func statistics(by keyType: KeyType, symbolizer: Symbolizer,
                           rule: AllocationSiteRule = .standard) -> [Statistic] {
        let grouping = TraceGrouping(keyType: keyType, rule: rule, symbolizer: symbolizer)
        let statistics = grouping.groups(of: self).values.map {
            Statistic(key: $0.key, site: $0.site, size: $0.size, count: $0.count, traceback: $0.traceback)
        }
        return statistics.sortedWithTies(key: \.key) { lhs, rhs in
            if lhs.size != rhs.size { return lhs.size > rhs.size }
            if lhs.count != rhs.count { return lhs.count > rhs.count }
            return nil
        }
    }

    /// How each group changed since `old`, biggest change first (by absolute
    /// size change, then size), like tracemalloc's `Snapshot.compare_to`.
    /// Groups present in only one snapshot count as empty in the other.
    public func compare(to old: Snapshot, by keyType: KeyType, symbolizer: Symbolizer,
                        rule: AllocationSiteRule = .standard) -> [StatisticDiff] {
        let grouping = TraceGrouping(keyType: keyType, rule: rule, symbolizer: symbolizer)
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
            if !emptyAndUnchanged { diffs.append(diff) }
        }
        return diffs.sortedWithTies(key: \.key) { lhs, rhs in
            if lhs.sizeDiff.magnitude != rhs.sizeDiff.magnitude {
                return lhs.sizeDiff.magnitude > rhs.sizeDiff.magnitude
            }
            if lhs.size != rhs.size { return lhs.size > rhs.size }
            return nil
        }
    }
}

extension Array {
    /// Sorts by `precedes`, which returns nil for a tie; ties are broken by
    /// the group key's label, then its full spelling, so that the order never
    /// depends on dictionary iteration order, which changes from run to run.
    func sortedWithTies(key: KeyPath<Element, GroupKey>, by precedes: (Element, Element) -> Bool?) -> [Element] {
        let decorated = map { element in
            (element: element, label: element[keyPath: key].label(), spelling: String(reflecting: element[keyPath: key]))
        }
        return decorated.sorted { lhs, rhs in
            if let decided = precedes(lhs.element, rhs.element) { return decided }
            if lhs.label != rhs.label { return lhs.label < rhs.label }
            return lhs.spelling < rhs.spelling
        }.map(\.element)
    }
}
