/// Sums and differences of byte counts that clamp instead of trapping.
///
/// Counts come from untrusted files as UInt64; a hostile or garbled file
/// must yield a wrong number, never a crash.
extension Int64 {
    init(saturating value: UInt64) {
        self.init(clamping: value)
    }

    func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }
}
