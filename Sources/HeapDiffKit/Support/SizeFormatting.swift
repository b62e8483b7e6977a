import Foundation

/// Number formats of the reports, following tracemalloc's so that its users
/// read heapdiff's rows at a glance.
public enum SizeFormatting {
    private static let units = ["B", "KiB", "MiB", "GiB", "TiB"]

    /// `12.3 MiB`: three significant digits below 100 of a unit, whole
    /// numbers up to 10 KiB in bytes (and in TiB at any size); `signed`
    /// adds `+` to non-negative values, as for a diff.
    public static func size(_ bytes: Double, signed: Bool = false) -> String {
        var value = bytes
        for (index, unit) in units.enumerated() {
            let isLargest = index == units.count - 1
            if index > 0 && abs(value) < 100 {
                return String(format: signed ? "%+.1f" : "%.1f", value) + " " + unit
            }
            if abs(value) < 10 * 1024 || isLargest {
                return String(format: signed ? "%+.0f" : "%.0f", value) + " " + unit
            }
            value /= 1024
        }
        return String(format: "%.0f", bytes) + " B"  // not reached: the largest unit always returns
    }

    public static func size(_ bytes: Int64, signed: Bool = false) -> String {
        size(Double(bytes), signed: signed)
    }

    /// An estimate from sampled snapshots, `~12.3 MiB ±512 KiB`, or the
    /// plain size when `standardError` is 0 (an exact figure).
    public static func estimate(_ bytes: Int64, standardError: Double, signed: Bool = false) -> String {
        guard standardError > 0 else { return size(bytes, signed: signed) }
        return "~" + size(bytes, signed: signed) + " ±" + size(standardError)
    }

    /// `~` before an estimated figure, nothing before an exact one.
    public static func approximately(_ text: String, if isEstimate: Bool) -> String {
        isEstimate ? "~" + text : text
    }

    /// The line that explains `~` and `±` under a report of sampled
    /// snapshots: each rate named once.
    public static func samplingNote(rates: [UInt64]) -> String? {
        var seen: [UInt64] = []
        for rate in rates where !seen.contains(rate) { seen.append(rate) }
        guard seen.contains(where: { $0 > 0 }) else { return nil }
        let how = seen.map { $0 == 0 ? "every allocation" : "sampled every \(size(Int64($0)))" }
        return "(\(how.joined(separator: " vs ")): ~ marks an estimate, ± its standard error)"
    }

    /// `1,234,567`, with `+` for a non-negative diff when `signed`.
    public static func groupedCount(_ count: Int64, signed: Bool = false) -> String {
        let digits = String(count.magnitude)
        var grouped = ""
        for (position, digit) in digits.enumerated() {
            if position > 0 && (digits.count - position) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        if count < 0 { return "-" + grouped }
        return signed ? "+" + grouped : grouped
    }

    /// `900`, with `+` for a non-negative diff when `signed`, as tracemalloc's `%+i`.
    public static func count(_ count: Int64, signed: Bool = false) -> String {
        signed && count >= 0 ? "+\(count)" : "\(count)"
    }
}
