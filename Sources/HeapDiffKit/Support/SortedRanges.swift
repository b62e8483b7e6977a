/// Lookup of an address among ranges sorted by their start: shared by the
/// module map (address -> module) and the compile-unit index (address -> unit).
extension Array {
    /// The element whose range contains `address`, in an array sorted by
    /// range start; a binary search for the last range starting at or before
    /// the address, then a check that it reaches that far.
    func element(containing address: UInt64, range: (Element) -> Range<UInt64>) -> Element? {
        var low = 0
        var high = count
        while low < high {
            let middle = low + (high - low) / 2
            if range(self[middle]).lowerBound <= address {
                low = middle + 1
            } else {
                high = middle
            }
        }
        guard low > 0, range(self[low - 1]).contains(address) else { return nil }
        return self[low - 1]
    }
}
