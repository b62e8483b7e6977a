/// Decides which frame of a stack is "the allocation site" that a trace is
/// attributed to when grouping by line, function or file.
///
/// Frame 0 is often a wrapper in a system library (libstdc++'s
/// `operator new`, the Swift runtime, libc's `strdup`), which would lump
/// unrelated allocations together; the interesting frame is the first one
/// in the program's own code. Kept as its own type so the rules can grow
/// (user patterns, per-function skips) without touching the grouping.
public struct AllocationSiteRule: Equatable, Sendable {
    /// Modules under these directories are system plumbing.
    public var plumbingDirectories: [String]
    /// Modules whose file name starts with one of these are plumbing too.
    public var plumbingNamePrefixes: [String]

    public init(plumbingDirectories: [String], plumbingNamePrefixes: [String]) {
        self.plumbingDirectories = plumbingDirectories
        self.plumbingNamePrefixes = plumbingNamePrefixes
    }

    /// System library directories, the Swift toolchain, and the recorder itself.
    public static let standard = AllocationSiteRule(
        plumbingDirectories: ["/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/local/lib/", "/opt/swift/"],
        plumbingNamePrefixes: ["libheapdiff"]
    )

    /// Attributes nothing elsewhere: the site is always frame 0.
    public static let innermostFrame = AllocationSiteRule(plumbingDirectories: [], plumbingNamePrefixes: [])

    public func isPlumbing(modulePath: String) -> Bool {
        plumbingDirectories.contains { modulePath.hasPrefix($0) }
            || plumbingNamePrefixes.contains { baseName(of: modulePath).hasPrefix($0) }
    }

    /// Index of the site among frames given by their module paths, innermost
    /// first: the first frame outside the plumbing, or frame 0 when every
    /// frame is plumbing; nil for an empty stack.
    public func siteIndex(modulePaths: [String]) -> Int? {
        guard !modulePaths.isEmpty else { return nil }
        return modulePaths.firstIndex { !isPlumbing(modulePath: $0) } ?? 0
    }
}
