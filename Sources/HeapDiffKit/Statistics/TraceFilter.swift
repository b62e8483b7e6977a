/// Keeps or drops traces by where they allocate, like `tracemalloc.Filter`.
///
/// A filter looks at the allocation site only, or with `allFrames` at every
/// frame of the stack (inlined ones included). As in tracemalloc, a trace is
/// kept when it matches at least one inclusive filter (if there are any) and
/// no exclusive one; see `[TraceFilter].admits`.
public struct TraceFilter: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, CaseIterable, Sendable {
        /// The frame's source file (full path or last component).
        case file
        /// The frame's function (demangled or qualified name, see `FunctionName`).
        case function
        /// The frame's module (full path or last component).
        case module
    }

    public var inclusive: Bool
    public var kind: Kind
    public var pattern: Glob
    public var allFrames: Bool

    public init(inclusive: Bool, kind: Kind, pattern: Glob, allFrames: Bool = false) {
        self.inclusive = inclusive
        self.kind = kind
        self.pattern = pattern
        self.allFrames = allFrames
    }

    /// Parses `KIND:GLOB` as given to `--include` and `--exclude`; nil for
    /// an unknown kind or an empty pattern.
    public init?(argument: String, inclusive: Bool, allFrames: Bool = false) {
        guard let colon = argument.firstIndex(of: ":"),
              let kind = Kind(rawValue: String(argument[..<colon])) else { return nil }
        let pattern = String(argument[argument.index(after: colon)...])
        guard !pattern.isEmpty else { return nil }
        self.init(inclusive: inclusive, kind: kind, pattern: Glob(pattern), allFrames: allFrames)
    }

    public var description: String { "\(kind.rawValue):\(pattern)" }

    /// Whether the frame matches the pattern; a frame without the field never does.
    public func matches(_ frame: Frame) -> Bool {
        switch kind {
        case .file:
            return frame.file.map { pattern.matches(path: $0) } ?? false
        case .function:
            return frame.function.map { pattern.matches(function: FunctionName($0)) } ?? false
        case .module:
            return !frame.module.isEmpty && pattern.matches(path: frame.module)
        }
    }

    /// Whether this filter alone keeps a trace, as tracemalloc's
    /// `_match_traceback`: an inclusive filter keeps what matches, an
    /// exclusive one what does not.
    func keeps(site: Frame, stack: () -> [Frame]) -> Bool {
        let matched = allFrames ? stack().contains(where: matches) : matches(site)
        return matched == inclusive
    }
}

extension Array where Element == TraceFilter {
    /// Whether a trace passes: some inclusive filter keeps it (when there
    /// are inclusive filters) and every exclusive filter keeps it. `stack`
    /// is only called for an `allFrames` filter.
    public func admits(site: Frame, stack: () -> [Frame]) -> Bool {
        let inclusive = filter(\.inclusive)
        if !inclusive.isEmpty && !inclusive.contains(where: { $0.keeps(site: site, stack: stack) }) {
            return false
        }
        return filter { !$0.inclusive }.allSatisfy { $0.keeps(site: site, stack: stack) }
    }
}
