import Foundation

/// How `trend` shows its analysis: an aligned table for people, JSON for tools.
public struct TrendReport {
    public var analysis: TrendAnalysis
    public var keyType: KeyType
    /// Sites shown at most (0: all).
    public var limit: Int
    /// The heap size to extrapolate to, and how to name it.
    public var target: (bytes: Int64, name: String)?
    public var paths: PathDisplay

    public init(analysis: TrendAnalysis, keyType: KeyType, limit: Int, target: (bytes: Int64, name: String)?,
                paths: PathDisplay) {
        self.analysis = analysis
        self.keyType = keyType
        self.limit = limit
        self.target = target
        self.paths = paths
    }

    private var shown: [TrendAnalysis.Site] {
        limit == 0 ? analysis.sites : Array(analysis.sites.prefix(limit))
    }

    /// `+113 KiB/s`, or of sampled snapshots `~+113 KiB/s ±12 KiB/s`.
    private func rate(_ series: TrendAnalysis.Series) -> String {
        let (value, error, unit) = series.bytesPerSecond.map { ($0, series.bytesPerSecondStandardError ?? 0, "/s") }
            ?? (series.bytesPerSnapshot, series.bytesPerSnapshotStandardError, "/snapshot")
        let text = SizeFormatting.size(Int64(value.rounded()), signed: true) + unit
        guard error > 0 else { return text }
        return "~" + text + " ±" + SizeFormatting.size(error) + unit
    }

    /// The latest size, with its standard error when sampled.
    private func live(_ series: TrendAnalysis.Series) -> String {
        SizeFormatting.estimate(series.sizes.last ?? 0, standardError: series.sizeStandardErrors.last ?? 0)
    }

    private var sampleRates: [UInt64] { analysis.snapshots.map(\.process.sampleRate) }

    public static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<1: return String(format: "%.0f ms", seconds * 1_000)
        case ..<10: return String(format: "%.1f s", seconds)
        case ..<120: return String(format: "%.0f s", seconds)
        case ..<7_200: return String(format: "%.0f min", seconds / 60)
        case ..<172_800: return String(format: "%.1f h", seconds / 3_600)
        default: return String(format: "%.1f days", seconds / 86_400)
        }
    }

    public func text() -> [String] {
        let first = analysis.snapshots[0].process
        // The name it was started as, the files' (redis-server, not the redis-check-rdb it links to).
        let program = SnapshotFileName.programName(path: analysis.snapshots[0].path, process: first) ?? "the program"
        var lines = ["\(counted(analysis.snapshots.count, "snapshot")) of \(program) (pid \(first.pid)) over "
            + Self.duration(analysis.seconds.last ?? 0)]
        let heap = analysis.heap
        let heapFirst = SizeFormatting.estimate(heap.sizes.first ?? 0, standardError: heap.sizeStandardErrors.first ?? 0)
        var heapLine = "traced heap: \(heapFirst) → \(live(heap)), "
            + "now \(rate(heap)) (r² \(String(format: "%.2f", heap.r2))): \(heap.verdict.rawValue)"
        // Only a steadily growing heap has a rate worth extrapolating.
        if heap.verdict == .steadyGrowth, let target, let seconds = analysis.secondsUntilHeap(reaches: target.bytes) {
            heapLine += "; at this rate it reaches \(target.name) in \(Self.duration(seconds))"
        }
        lines.append(heapLine)
        // A process that could not read its /proc/self/status recorded 0: no RSS, not an empty one.
        if analysis.rss.sizes.allSatisfy({ $0 == 0 }) {
            lines.append("RSS: not recorded (the process could not read /proc/self/status)")
        } else {
            lines.append("RSS: \(SizeFormatting.size(analysis.rss.sizes.first ?? 0)) → \(SizeFormatting.size(analysis.rss.sizes.last ?? 0)), "
                + "now \(rate(analysis.rss))")
        }
        let note = SizeFormatting.samplingNote(rates: sampleRates)
        guard !shown.isEmpty else {
            lines.append("no call site's live memory changed")
            if let note { lines.append(note) }
            return lines
        }
        let rows = shown.enumerated().map { index, site in
            [String(index + 1), site.series.verdict.rawValue, rate(site.series), String(format: "%.2f", site.series.r2),
             live(site.series), site.key.label(paths: paths)]
        }
        let header = ["#", "verdict", "rate now", "r²", "live now", keyType.rawValue]
        let widths = (0..<header.count).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            lines.append(zip(row, widths).enumerated().map { column, cell in
                let (text, width) = cell
                let pad = String(repeating: " ", count: width - text.count)
                return column == row.count - 1 ? text : (column == 0 || column >= 2 && column <= 4 ? pad + text : text + pad)
            }.joined(separator: "  "))
        }
        if shown.count < analysis.sites.count {
            lines.append("… and \(analysis.sites.count - shown.count) more (--limit 0 shows all)")
        }
        if let note { lines.append(note) }
        return lines
    }

    /// `trend --format json` (docs/JSON.md).
    public func json() throws -> String {
        struct Series: Encodable {
            var sizes: [Int64]; var counts: [Int64]; var bytes_per_second: JSONNullable<Double>
            var bytes_per_snapshot: Double; var r2: Double; var verdict: String
            var size_stderrs: [Double]; var bytes_per_second_stderr: JSONNullable<Double>
            var bytes_per_snapshot_stderr: Double; var recent_growth_stderr: Double
        }
        struct Site: Encodable { var series: Series }
        struct Snapshot: Encodable { var path: String; var seq: UInt32; var label: String; var seconds: Double }
        struct Extrapolation: Encodable { var target_bytes: Int64; var seconds: JSONNullable<Double> }
        struct Report: Encodable {
            var axis: String; var key_type: String; var snapshots: [Snapshot]; var heap: Series; var rss: Series
            var extrapolation: JSONNullable<Extrapolation>; var sites: [JSONSited<Site>]
            var sampled: Bool; var sample_rate: UInt64
        }
        func series(_ s: TrendAnalysis.Series) -> Series {
            Series(sizes: s.sizes, counts: s.counts, bytes_per_second: JSONNullable(s.bytesPerSecond),
                   bytes_per_snapshot: s.bytesPerSnapshot, r2: s.r2, verdict: s.verdict.rawValue,
                   size_stderrs: s.sizeStandardErrors.isEmpty ? s.sizes.map { _ in 0 } : s.sizeStandardErrors,
                   bytes_per_second_stderr: JSONNullable(s.bytesPerSecond == nil ? nil : (s.bytesPerSecondStandardError ?? 0)),
                   bytes_per_snapshot_stderr: s.bytesPerSnapshotStandardError,
                   recent_growth_stderr: s.recentGrowthStandardError)
        }
        let rate = sampleRates.max() ?? 0
        let report = Report(
            axis: analysis.axis.rawValue, key_type: keyType.rawValue,
            snapshots: zip(analysis.snapshots, analysis.seconds).map {
                Snapshot(path: $0.path, seq: $0.process.seq, label: $0.process.label, seconds: $1)
            },
            heap: series(analysis.heap), rss: series(analysis.rss),
            extrapolation: JSONNullable(target.map {
                Extrapolation(target_bytes: $0.bytes, seconds: JSONNullable(analysis.secondsUntilHeap(reaches: $0.bytes)))
            }),
            sites: shown.map { JSONSited(site: $0.site, fields: Site(series: series($0.series))) },
            sampled: rate > 0, sample_rate: rate)
        return try JSONDocument(command: "trend", fields: report).encoded()
    }
}
