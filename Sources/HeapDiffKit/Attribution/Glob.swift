import Glibc

/// A shell wildcard pattern, matched with fnmatch(3) without flags: `*` and
/// `?` also match `/` and `:`, `[…]` is a character class (write `\[` for a
/// literal bracket, as in `operator new\[\]*`), and a leading `.` is not special.
public struct Glob: Hashable, Sendable, CustomStringConvertible {
    public let pattern: String
    /// Kept as a C string: rules test every frame against a hundred patterns.
    private let cPattern: [CChar]

    public init(_ pattern: String) {
        self.pattern = pattern
        cPattern = Array(pattern.utf8CString)
    }

    public var description: String { pattern }

    public func matches(_ text: String) -> Bool {
        text.withCString(matches(cString:))
    }

    func matches(cString text: UnsafePointer<CChar>) -> Bool {
        fnmatch(cPattern, text, 0) == 0
    }

    /// A source or module path matches by its full text or its last
    /// component, so `libstdc++*` and `/usr/lib/*` both work.
    public func matches(path: String) -> Bool {
        [self].matchAny(path: path)
    }

    /// A function matches by its full demangled name or its qualified name.
    public func matches(function: FunctionName) -> Bool {
        [self].matchAny(function: function)
    }
}

extension Array where Element == Glob {
    /// Whether any pattern matches; `text` is converted to a C string once.
    func matchAny(_ text: String) -> Bool {
        !isEmpty && text.withCString { text in contains { $0.matches(cString: text) } }
    }

    func matchAny(path: String) -> Bool {
        matchAny(path) || matchAny(baseName(of: path))
    }

    func matchAny(function: FunctionName) -> Bool {
        matchAny(function.demangled) || (function.qualified != function.demangled && matchAny(function.qualified))
    }
}
