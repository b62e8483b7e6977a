
/// The verdicts that test harnesses (pytest-heapdiff, HeapDiffTesting)
/// recorded during a run of `check` or `run`, worded for both: how many leak
/// tests were judged and by whom, and each one that leaked (its sites, the
/// harness's own summary, and where its snapshots are) or could not be judged.
public struct LeakTestsReport {
    public var verdicts: [LeakTestVerdict]
    public var paths: PathDisplay

    public init(verdicts: [LeakTestVerdict], paths: PathDisplay) {
        self.verdicts = verdicts
        self.paths = paths
    }

    public var leaked: [LeakTestVerdict] { verdicts.filter { $0.status == .leaked } }
    public var unjudged: [LeakTestVerdict] { verdicts.filter { $0.status == .error } }
    public var passed: Int { verdicts.filter { $0.status == .passed }.count }

    /// "pytest-heapdiff", "pytest-heapdiff and HeapDiffTesting".
    public var harnesses: String {
        var names: [String] = []
        for verdict in verdicts where !names.contains(verdict.harness) { names.append(verdict.harness) }
        return names.count <= 2 ? names.joined(separator: " and ")
            : names.dropLast().joined(separator: ", ") + " and " + (names.last ?? "")
    }

    private var processes: String {
        let count = Set(verdicts.map(\.pid)).count
        return count == 1 ? "1 process" : "\(count) processes"
    }

    /// "test_x (pytest-heapdiff, pid 42)"
    private func name(_ verdict: LeakTestVerdict) -> String {
        "\(verdict.test) (\(verdict.harness), pid \(verdict.pid))"
    }

    /// `check`'s text: a line per leaked test and per test that could not be
    /// judged, then the count.
    public func text() -> [String] {
        var lines = leaked.map { verdict in
            "leak test \(name(verdict)) kept growing: \(verdict.summary.isEmpty ? "(no summary)" : verdict.summary); "
                + "snapshots in \(verdict.snapshots.isEmpty ? "(not kept)" : paths.show(verdict.snapshots))"
        }
        lines += unjudged.map { "leak test \(name($0)) could not be judged: \($0.summary)" }
        let judged = "\(counted(verdicts.count, "leak test")) judged by \(harnesses) in \(processes)"
        if !leaked.isEmpty {
            lines.append("heapdiff check: FAILED: \(leaked.count) of \(judged) kept growing")
        } else if !unjudged.isEmpty {
            lines.append("heapdiff check: \(unjudged.count) of \(judged) could not be judged")
        } else {
            lines.append("heapdiff check: passed: \(judged); none kept growing")
        }
        return lines
    }

    /// `run`'s one line.
    public func summaryLine() -> String {
        var parts: [String] = []
        if let first = leaked.first {
            let folder = first.snapshots.isEmpty ? "" : ", snapshots in \(paths.show(first.snapshots))"
            parts.append("\(leaked.count) kept growing (\(first.test): \(first.summary)\(folder)"
                + (leaked.count > 1 ? "; and \(leaked.count - 1) more)" : ")"))
        }
        if !unjudged.isEmpty { parts.append("\(unjudged.count) could not be judged") }
        parts.append("\(passed) passed")
        return "\(counted(verdicts.count, "leak test")) judged by \(harnesses): " + parts.joined(separator: ", ")
    }
}
