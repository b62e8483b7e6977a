extension StringProtocol {
    /// Without leading and trailing spaces (Foundation-free, for the library).
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
