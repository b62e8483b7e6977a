/// "1 snapshot", "3 snapshots": a count and its noun, for every report.
public func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
