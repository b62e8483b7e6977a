/// Whether text output is coloured, as chosen by `--color`.
public enum ColorMode: String, CaseIterable, Sendable {
    /// Colour when the output is a terminal, unless `NO_COLOR` is set
    /// (https://no-color.org) or `TERM` is `dumb`.
    case auto
    case always
    case never

    /// Decides for one output stream. An explicit `always` wins over
    /// `NO_COLOR`, as no-color.org asks of command-line flags.
    public func isEnabled(isTerminal: Bool, environment: [String: String]) -> Bool {
        switch self {
        case .always:
            return true
        case .never:
            return false
        case .auto:
            if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
            if environment["TERM"] == "dumb" { return false }
            return isTerminal
        }
    }
}

/// ANSI styling of the text report. `plain` returns its input unchanged, so
/// a report renders the same characters with or without colour.
public struct TextStyle: Equatable, Sendable {
    public var isColored: Bool

    public init(isColored: Bool) {
        self.isColored = isColored
    }

    public static let plain = TextStyle(isColored: false)
    public static let colored = TextStyle(isColored: true)

    /// The row's location: what the reader scans for.
    func location(_ text: String) -> String { sgr("1", text) }

    /// A change: red when the heap grew, green when it shrank.
    func change(_ text: String, sign value: Int64) -> String {
        value > 0 ? sgr("31", text) : value < 0 ? sgr("32", text) : text
    }

    /// Traceback frames, which support the row above them.
    func secondary(_ text: String) -> String { sgr("2", text) }

    private func sgr(_ code: String, _ text: String) -> String {
        isColored && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
