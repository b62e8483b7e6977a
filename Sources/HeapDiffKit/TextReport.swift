/// Renders statistics as text rows in tracemalloc's style:
///
///     server.c:42: size=12.3 MiB (+10.1 MiB), count=1000 (+900), average=12.6 KiB
///
/// followed, when grouping by traceback, by the group's frames, and ending
/// with a line for the whole heap.
public struct TextReport: Sendable {
    public var keyType: KeyType
    public var paths: PathDisplay

    public init(keyType: KeyType, paths: PathDisplay = .unchanged) {
        self.keyType = keyType
        self.paths = paths
    }

    /// Rows for `heapdiff top`, one per statistic, then the total.
    public func top(_ statistics: [Statistic], total: HeapTotal) -> [String] {
        var lines: [String] = []
        for statistic in statistics {
            var row = "\(label(statistic.key, site: statistic.site)): size=\(SizeFormatting.size(statistic.size))"
                + ", count=\(SizeFormatting.count(statistic.count))"
            row += average(size: statistic.size, count: statistic.count)
            lines.append(row)
            lines += tracebackLines(statistic.traceback)
        }
        lines.append("total: \(SizeFormatting.size(total.size)) in \(SizeFormatting.groupedCount(total.count)) blocks")
        return lines
    }

    /// Rows for `heapdiff diff`, one per changed group, then the total change.
    public func diff(_ diffs: [StatisticDiff], total: HeapTotal) -> [String] {
        var lines: [String] = []
        for diff in diffs {
            var row = "\(label(diff.key, site: diff.site)): "
                + "size=\(SizeFormatting.size(diff.size)) (\(SizeFormatting.size(diff.sizeDiff, signed: true)))"
                + ", count=\(SizeFormatting.count(diff.count)) (\(SizeFormatting.count(diff.countDiff, signed: true)))"
            row += average(size: diff.size, count: diff.count)
            lines.append(row)
            lines += tracebackLines(diff.traceback)
        }
        var totalLine = "total: \(SizeFormatting.size(total.size))"
        if let sizeDiff = total.sizeDiff { totalLine += " (\(SizeFormatting.size(sizeDiff, signed: true)))" }
        totalLine += " in \(SizeFormatting.groupedCount(total.count)) blocks"
        if let countDiff = total.countDiff { totalLine += " (\(SizeFormatting.groupedCount(countDiff, signed: true)))" }
        lines.append(totalLine)
        return lines
    }

    /// A traceback key is too long for a row: the row names the allocation
    /// site and the frames follow on their own lines.
    private func label(_ key: GroupKey, site: Frame) -> String {
        guard keyType == .traceback, key != .noFrames else { return key.label(paths: paths) }
        return GroupKey.forFrame(site, by: .lineno).label(paths: paths)
    }

    private func average(size: Int64, count: Int64) -> String {
        guard count > 0 else { return "" }
        return ", average=\(SizeFormatting.size(Double(size) / Double(count)))"
    }

    private func tracebackLines(_ frames: [Frame]) -> [String] {
        guard keyType == .traceback else { return [] }
        let formatter = FrameFormatter(paths: paths)
        return frames.map { "    " + formatter.format($0) }
    }
}
