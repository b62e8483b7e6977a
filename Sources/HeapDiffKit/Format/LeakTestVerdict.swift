import HeapDiffFormat

/// What a test harness (pytest-heapdiff, HeapDiffTesting) decided about one
/// leak test it judged inside the traced process, as it records it for
/// `heapdiff check` and `heapdiff run`: one line of a verdicts file, whose
/// layout `heapdiff_control.h` defines (docs/PROTOCOL.md).
public struct LeakTestVerdict: Equatable, Sendable {
    public enum Status: Equatable, Sendable {
        case passed
        case leaked
        /// The harness could not judge the test (`summary` says why); also
        /// any status this version does not know.
        case error

        /// As written in the record: "passed", "leaked", "error".
        public var name: String {
            switch self {
            case .passed: HD_VERDICT_PASSED
            case .leaked: HD_VERDICT_LEAKED
            case .error: HD_VERDICT_ERROR
            }
        }

        init(field: Substring) {
            switch field {
            case HD_VERDICT_PASSED: self = .passed
            case HD_VERDICT_LEAKED: self = .leaked
            default: self = .error
            }
        }
    }

    public var status: Status
    /// Who judged: "pytest-heapdiff", "HeapDiffTesting".
    public var harness: String
    /// The test, as its framework names it.
    public var test: String
    /// The folder keeping the test's snapshots (a leaked test's), else empty.
    public var snapshots: String
    /// One line: the grown sites (leaked), the reason (error), or empty.
    public var summary: String
    /// The process that judged it, from its file's name (0 when not read from a file).
    public var pid: Int32

    public init(status: Status, harness: String, test: String, snapshots: String = "", summary: String = "",
                pid: Int32 = 0) {
        self.status = status
        self.harness = harness
        self.test = test
        self.snapshots = snapshots
        self.summary = summary
        self.pid = pid
    }

    /// The record's line, newline included, at most `HD_VERDICT_MAX_LINE`
    /// bytes: a summary too long for it is cut (at a character boundary).
    public var line: String {
        let fields = [status.name, harness, test, snapshots].map(Self.field)
        let head = fields.joined(separator: "\t") + "\t"
        let room = Int(HD_VERDICT_MAX_LINE) - head.utf8.count - 1
        var summary = Self.field(summary)
        if summary.utf8.count > room {
            var kept = String.UnicodeScalarView(), bytes = 0
            for scalar in summary.unicodeScalars {
                bytes += UTF8.width(scalar)
                guard bytes <= room - 3 else { break }   // "…" is 3 bytes
                kept.append(scalar)
            }
            summary = String(kept) + "…"
        }
        return head + summary + "\n"
    }

    /// A record's line (without its newline), written by process `pid`; nil
    /// when it has fewer than five fields.
    public init?(line: Substring, pid: Int32) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count >= 5, !fields[0].isEmpty else { return nil }
        self.init(status: Status(field: fields[0]), harness: String(fields[1]), test: String(fields[2]),
                  snapshots: String(fields[3]), summary: String(fields[4]), pid: pid)
    }

    /// A field as written: tabs and line breaks become spaces.
    private static func field(_ text: String) -> String {
        String(text.map { $0 == "\t" || $0.isNewline ? " " : $0 })
    }
}
