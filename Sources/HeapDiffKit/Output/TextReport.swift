/// Renders statistics as text rows in tracemalloc's style, with the `size=`
/// column aligned:
///
///     server.c:42:    size=12.3 MiB (+10.1 MiB), count=1000 (+900), average=12.6 KiB
///     libz.so.1+0x99: size=0 B (-4096 B), count=0 (-2)
///
/// followed, when grouping by traceback, by the group's frames, and ending
/// with a line for the whole heap. Alignment pads after the location, up to
/// `maximumPadding` columns: a longer location (a C++ signature) overflows
/// its own row rather than pushing every other row to the right.
public struct TextReport: Sendable {
    public var keyType: KeyType
    public var paths: PathDisplay
    public var style: TextStyle

    /// Locations up to this many characters are aligned.
    public static let maximumPadding = 60

    public init(keyType: KeyType, paths: PathDisplay = .unchanged, style: TextStyle = .plain) {
        self.keyType = keyType
        self.paths = paths
        self.style = style
    }

    /// Rows for `heapdiff top`, one per statistic, then the total. In a
    /// sampled snapshot, estimates are marked `~` and followed by their
    /// standard error (`±`), and a last line says so (`sampleRates`).
    public func top(_ statistics: [Statistic], total: HeapTotal, sampleRates: [UInt64] = []) -> [String] {
        let labels = statistics.map { label($0.key, site: $0.site) }
        let width = columnWidth(labels)
        var lines: [String] = []
        lines.reserveCapacity(statistics.count + 2)
        for (statistic, label) in zip(statistics, labels) {
            let estimated = statistic.isEstimate
            let row = "size=\(SizeFormatting.estimate(statistic.size, standardError: statistic.sizeStandardError))"
                + ", count=\(SizeFormatting.approximately(SizeFormatting.count(statistic.count), if: estimated))"
                + average(size: statistic.size, count: statistic.count, estimated: estimated)
            lines.append(located(label, width: width) + row)
            lines += tracebackLines(statistic.traceback)
        }
        let estimated = total.sizeStandardError > 0
        lines.append(style.location("total:")
            + " \(SizeFormatting.estimate(total.size, standardError: total.sizeStandardError)) in "
            + SizeFormatting.approximately(SizeFormatting.groupedCount(total.count), if: estimated) + " blocks")
        if let note = SizeFormatting.samplingNote(rates: sampleRates) { lines.append(style.secondary(note)) }
        return lines
    }

    /// Rows for `heapdiff diff`, one per changed group, then the total
    /// change; estimates marked as in `top`.
    public func diff(_ diffs: [StatisticDiff], total: HeapTotal, sampleRates: [UInt64] = []) -> [String] {
        let labels = diffs.map { label($0.key, site: $0.site) }
        let width = columnWidth(labels)
        var lines: [String] = []
        lines.reserveCapacity(diffs.count + 2)
        for (diff, label) in zip(diffs, labels) {
            let estimated = diff.isEstimate
            let sizeChange = style.change(
                "(\(SizeFormatting.estimate(diff.sizeDiff, standardError: diff.sizeDiffStandardError, signed: true)))",
                sign: diff.sizeDiff)
            let countChange = style.change(
                "(\(SizeFormatting.approximately(SizeFormatting.count(diff.countDiff, signed: true), if: estimated)))",
                sign: diff.countDiff)
            let row = "size=\(SizeFormatting.estimate(diff.size, standardError: diff.sizeStandardError)) \(sizeChange)"
                + ", count=\(SizeFormatting.approximately(SizeFormatting.count(diff.count), if: estimated)) \(countChange)"
                + average(size: diff.size, count: diff.count, estimated: estimated)
            lines.append(located(label, width: width) + row)
            lines += tracebackLines(diff.traceback)
        }
        let estimated = total.sizeStandardError > 0 || total.sizeDiffStandardError > 0
        var totalLine = style.location("total:")
            + " \(SizeFormatting.estimate(total.size, standardError: total.sizeStandardError))"
        if let sizeDiff = total.sizeDiff {
            totalLine += " " + style.change(
                "(\(SizeFormatting.estimate(sizeDiff, standardError: total.sizeDiffStandardError, signed: true)))",
                sign: sizeDiff)
        }
        totalLine += " in \(SizeFormatting.approximately(SizeFormatting.groupedCount(total.count), if: estimated)) blocks"
        if let countDiff = total.countDiff {
            totalLine += " " + style.change(
                "(\(SizeFormatting.approximately(SizeFormatting.groupedCount(countDiff, signed: true), if: estimated)))",
                sign: countDiff)
        }
        lines.append(totalLine)
        if let note = SizeFormatting.samplingNote(rates: sampleRates) { lines.append(style.secondary(note)) }
        return lines
    }

    /// `label:` and the spaces that bring the next column to `width` + 2.
    private func located(_ label: String, width: Int) -> String {
        let padding = max(1, width - label.count + 1)
        return style.location(label + ":") + String(repeating: " ", count: padding)
    }

    private func columnWidth(_ labels: [String]) -> Int {
        labels.lazy.map(\.count).filter { $0 <= Self.maximumPadding }.max() ?? 0
    }

    /// A traceback key is too long for a row: the row names the allocation
    /// site and the frames follow on their own lines.
    private func label(_ key: GroupKey, site: Frame) -> String {
        guard keyType == .traceback, key != .noFrames else { return key.label(paths: paths) }
        return GroupKey.forFrame(site, by: .lineno).label(paths: paths)
    }

    private func average(size: Int64, count: Int64, estimated: Bool) -> String {
        guard count > 0 else { return "" }
        return ", average=" + SizeFormatting.approximately(SizeFormatting.size(Double(size) / Double(count)), if: estimated)
    }

    private func tracebackLines(_ frames: [Frame]) -> [String] {
        guard keyType == .traceback else { return [] }
        let formatter = FrameFormatter(paths: paths)
        return frames.map { style.secondary("    " + formatter.format($0)) }
    }
}
