/// Shortens source and module paths for people: a path under the current
/// directory is shown relative to it, any other path in full.
public struct PathDisplay: Sendable {
    /// Absolute directory without a trailing slash, or nil to show paths unchanged.
    public var baseDirectory: String?

    public init(baseDirectory: String?) {
        var base = baseDirectory
        while let directory = base, directory.count > 1, directory.hasSuffix("/") {
            base = String(directory.dropLast())
        }
        self.baseDirectory = base
    }

    public static let unchanged = PathDisplay(baseDirectory: nil)

    public func show(_ path: String) -> String {
        guard let base = baseDirectory else { return path }
        let prefix = base == "/" ? "/" : base + "/"
        guard path.hasPrefix(prefix), path.count > prefix.count else { return path }
        return String(path.dropFirst(prefix.count))
    }
}
