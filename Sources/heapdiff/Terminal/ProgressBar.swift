import Glibc

/// A one-line progress bar on standard error, for work over many snapshots.
/// Drawn only on a terminal, and only for long series, so that logs and
/// pipes never see it; redrawn only when the shown fraction changes.
final class ProgressBar {
    private let total: Int
    private let label: String
    private let enabled: Bool
    private var shown = ""

    init(total: Int, label: String, minimumTotal: Int = 20) {
        self.total = total
        self.label = label
        enabled = total >= minimumTotal && isatty(STDERR_FILENO) == 1
    }

    func update(done: Int) {
        guard enabled else { return }
        let line = Self.render(label: label, done: done, total: total)
        guard line != shown else { return }
        shown = line
        write("\r" + line)
    }

    /// Erases the bar so that what follows starts on a clean line.
    func finish() {
        guard enabled, !shown.isEmpty else { return }
        write("\r\u{1B}[K")
    }

    /// `heapdiff: reading snapshots [########            ] 200/500`.
    static func render(label: String, done: Int, total: Int, width: Int = 20) -> String {
        let clamped = min(max(done, 0), total)
        let filled = total > 0 ? clamped * width / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        return "heapdiff: \(label) [\(bar)] \(clamped)/\(total)"
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(STDERR_FILENO, &bytes, bytes.count)
    }
}
