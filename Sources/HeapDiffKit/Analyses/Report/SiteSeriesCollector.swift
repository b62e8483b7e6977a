/// Every group's live bytes and blocks, snapshot by snapshot, kept as the
/// snapshots stream by: only the numbers, sparse (a group absent from a
/// snapshot costs nothing there), so a long series of big snapshots costs
/// memory for its groups, not for its traces.
struct SiteSeriesCollector {
    private var index: [GroupKey: Int] = [:]
    private(set) var keys: [GroupKey] = []
    /// The site's function as last seen, for the page's hover text.
    private(set) var functions: [String?] = []
    /// Per snapshot: (group, size, count) of the groups present.
    private var columns: [[(site: Int, size: Int64, count: Int64)]]

    init(snapshots: Int) {
        columns = Array(repeating: [], count: snapshots)
    }

    /// Snapshot `snapshot`'s groups (snapshots may come in any order).
    mutating func add(_ statistics: [GroupKey: Statistic], at snapshot: Int) {
        var column: [(site: Int, size: Int64, count: Int64)] = []
        column.reserveCapacity(statistics.count)
        for (key, statistic) in statistics {
            let site: Int
            if let known = index[key] {
                site = known
            } else {
                site = keys.count
                index[key] = site
                keys.append(key)
                functions.append(nil)
            }
            if let function = statistic.site.function { functions[site] = function }
            column.append((site, statistic.size, statistic.count))
        }
        columns[snapshot] = column
    }

    func site(of key: GroupKey) -> Int? { index[key] }

    /// Per group: its largest live bytes over the series, and its live bytes
    /// in the first and the last snapshot.
    func extremes() -> [(peak: Int64, first: Int64, last: Int64)] {
        var result = Array(repeating: (peak: Int64(0), first: Int64(0), last: Int64(0)), count: keys.count)
        for (snapshot, column) in columns.enumerated() {
            for entry in column {
                result[entry.site].peak = max(result[entry.site].peak, entry.size)
                if snapshot == 0 { result[entry.site].first = entry.size }
                if snapshot == columns.count - 1 { result[entry.site].last = entry.size }
            }
        }
        return result
    }

    /// Sizes and counts of the groups `sites`, in every snapshot ([group][snapshot]).
    func series(of sites: [Int]) -> (sizes: [[Int64]], counts: [[Int64]]) {
        var row: [Int: Int] = [:]
        for (position, site) in sites.enumerated() { row[site] = position }
        var sizes = Array(repeating: Array(repeating: Int64(0), count: columns.count), count: sites.count)
        var counts = sizes
        for (snapshot, column) in columns.enumerated() {
            for entry in column {
                guard let position = row[entry.site] else { continue }
                sizes[position][snapshot] = entry.size
                counts[position][snapshot] = entry.count
            }
        }
        return (sizes, counts)
    }

    /// Per snapshot, the sizes and counts of every group not in `sites`, summed.
    func sum(excluding sites: Set<Int>) -> (sizes: [Int64], counts: [Int64]) {
        var sizes: [Int64] = [], counts: [Int64] = []
        for column in columns {
            var size: Int64 = 0, count: Int64 = 0
            for entry in column where !sites.contains(entry.site) {
                size = size.saturatingAdding(entry.size)
                count = count.saturatingAdding(entry.count)
            }
            sizes.append(size)
            counts.append(count)
        }
        return (sizes, counts)
    }
}
