/// Reads sizes as people write them on a command line: `512`, `10K`,
/// `1.5MiB`, `2 GB`. Units are powers of 1024 whichever way they are
/// spelled, as in the reports (which follow tracemalloc's KiB and MiB), and
/// case does not matter.
public enum SizeParsing {
    private static let units: [(suffixes: [String], multiplier: Double)] = [
        (["b", ""], 1),
        (["k", "kb", "kib"], 1024),
        (["m", "mb", "mib"], 1024 * 1024),
        (["g", "gb", "gib"], 1024 * 1024 * 1024),
        (["t", "tb", "tib"], 1024 * 1024 * 1024 * 1024),
    ]

    /// The number of bytes, or nil for anything else (negative numbers too).
    public static func bytes(_ text: String) -> Int64? {
        let trimmed = text.trimmingSpaces
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = trimmed.dropFirst(number.count).trimmingSpaces.lowercased()
        guard !number.isEmpty, let value = Double(number), value.isFinite,
              let multiplier = units.first(where: { $0.suffixes.contains(unit) })?.multiplier else { return nil }
        let bytes = (value * multiplier).rounded(.down)
        guard bytes < Double(Int64.max) else { return nil }
        return Int64(bytes)
    }
}
