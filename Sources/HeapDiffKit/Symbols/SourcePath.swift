/// A source file's path as DWARF means it: a relative name is relative to
/// its unit's compilation directory (`DW_AT_comp_dir`).
///
/// libdw joins a file with its include directory, but not a relative include
/// directory with the compilation directory. Rust's standard library has
/// exactly those (`library/std/src/...` in units compiled in `/rustc/<commit>`),
/// so one of its files came out under two names, absolute where it was
/// inlined into the program and relative in std's own code, and its line's
/// row was split in two.
enum SourcePath {
    /// `name` made absolute against `compilationDirectory` when it is
    /// relative and the directory is absolute, with `.` and `..` segments
    /// folded; names the compiler made up (`<compiler-generated>`) are
    /// shown bare, even where a unit lists them under a directory (Swift's
    /// under `/`, which libdw joins as `//<compiler-generated>`), and
    /// anything under a relative directory is left alone.
    static func resolve(_ name: String, compilationDirectory: String?) -> String {
        if let last = name.split(separator: "/").last, last.hasPrefix("<"), last.hasSuffix(">") {
            return String(last)
        }
        if name.hasPrefix("/") {
            return name.contains("/.") ? folded(name) : name
        }
        guard !name.isEmpty, !name.hasPrefix("<"), let directory = compilationDirectory,
              directory.hasPrefix("/") else { return name }
        return folded(directory + "/" + name)
    }

    /// An absolute path with empty, `.` and `..` segments folded, as
    /// written (symbolic links are not followed: the file need not exist here).
    static func folded(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        return "/" + segments.joined(separator: "/")
    }
}
