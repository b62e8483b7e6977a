/// Renders statistics as CSV for spreadsheets and scripts: a header row,
/// then one row per statistic in the report's order.
///
///     size,size_diff,count,count_diff,file,line,function,module
///     12897485,10590617,1000,900,/src/server.c,42,handle,/srv/server
///
/// Fields are quoted as RFC 4180 says (only when they contain a comma, a
/// double quote, CR or LF; quotes doubled); rows end with LF, as Unix tools
/// expect. Unknown values are empty fields. Sizes are in bytes; paths are
/// full, as in the JSON report. `top` has no diff columns. The heap's total
/// and tracebacks are left out: one row is one statistic. Of sampled
/// snapshots (`sampled`), sizes and counts are estimates and the standard
/// errors of the sizes follow in the last columns (`sampledColumns`).
public enum CSVReport {
    public static let topHeader = ["size", "count", "file", "line", "function", "module"]
    public static let diffHeader = ["size", "size_diff", "count", "count_diff", "file", "line", "function", "module"]
    public static let sampledTopColumns = ["size_stderr"]
    public static let sampledDiffColumns = ["size_stderr", "size_diff_stderr"]

    public static func top(_ statistics: [Statistic], sampled: Bool = false) -> String {
        var csv = line(topHeader + (sampled ? sampledTopColumns : []))
        for statistic in statistics {
            csv += line(["\(statistic.size)", "\(statistic.count)"] + siteFields(statistic.site)
                + (sampled ? [bytes(statistic.sizeStandardError)] : []))
        }
        return csv
    }

    public static func diff(_ diffs: [StatisticDiff], sampled: Bool = false) -> String {
        var csv = line(diffHeader + (sampled ? sampledDiffColumns : []))
        for diff in diffs {
            csv += line(["\(diff.size)", "\(diff.sizeDiff)", "\(diff.count)", "\(diff.countDiff)"]
                + siteFields(diff.site)
                + (sampled ? [bytes(diff.sizeStandardError), bytes(diff.sizeDiffStandardError)] : []))
        }
        return csv
    }

    private static func bytes(_ standardError: Double) -> String {
        "\(Int64(exactly: standardError.rounded()) ?? .max)"
    }

    private static func siteFields(_ site: Frame) -> [String] {
        [site.file ?? "", site.line.map { "\($0)" } ?? "", site.function ?? "", site.module]
    }

    private static func line(_ fields: [String]) -> String {
        fields.map(quoted).joined(separator: ",") + "\n"
    }

    /// RFC 4180: a field with a comma, quote or line break is enclosed in
    /// quotes, and each quote inside it doubled.
    static func quoted(_ field: String) -> String {
        let special = field.utf8.contains { byte in
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
        }
        guard special else { return field }
        return "\"" + field.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}
