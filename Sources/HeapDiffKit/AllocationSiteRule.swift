/// Decides which frame of a stack is "the allocation site" that a trace is
/// attributed to when grouping by line, function, file or module.
///
/// Frame 0 is often allocator plumbing (libstdc++'s `operator new`, a
/// `std::vector` growth path inlined into the program, the Swift runtime,
/// libc's `strdup`), which would lump unrelated allocations together; the
/// interesting frame is the first one in the program's own code. A frame is
/// plumbing when its function, module or source file matches one of the
/// globs below (see `Glob` and `FunctionName` for how they match). The site
/// is the first frame, inlined ones included, that is not plumbing, or
/// frame 0 when every frame is.
public struct AllocationSiteRule: Equatable, Sendable {
    public var functions: [Glob]
    public var modules: [Glob]
    public var files: [Glob]
    /// Python code compiled from a string at run time (a dataclass's
    /// `__init__`, a namedtuple's `__new__`, `exec`): passed over like
    /// plumbing while a frame of the program's own code calls it, the site
    /// when none does (`python -c`).
    public var generatedFiles: [Glob]

    public init(functions: [Glob] = [], modules: [Glob] = [], files: [Glob] = [], generatedFiles: [Glob] = []) {
        self.functions = functions
        self.modules = modules
        self.files = files
        self.generatedFiles = generatedFiles
    }

    /// The built-in rules: allocator entry points and wrappers of the C, C++,
    /// Swift, GLib and CPython runtimes, system libraries, system headers.
    public static let standard = AllocationSiteRule(
        functions: BuiltInPlumbing.functions.map(Glob.init),
        modules: BuiltInPlumbing.modules.map(Glob.init),
        files: BuiltInPlumbing.files.map(Glob.init),
        generatedFiles: BuiltInPlumbing.generatedPythonFiles.map(Glob.init))

    /// Attributes nothing elsewhere: the site is always frame 0 (`--no-skip`).
    public static let innermostFrame = AllocationSiteRule()

    /// These rules plus more, as `--skip-function` and friends add them.
    public func adding(functions: [Glob] = [], modules: [Glob] = [], files: [Glob] = []) -> AllocationSiteRule {
        AllocationSiteRule(functions: self.functions + functions, modules: self.modules + modules,
                           files: self.files + files, generatedFiles: generatedFiles)
    }

    /// Whether every frame of a module is plumbing; decided without symbols.
    public func isPlumbing(modulePath: String) -> Bool {
        !modulePath.isEmpty && modules.matchAny(path: modulePath)
    }

    public func isPlumbing(_ frame: Frame) -> Bool {
        if isPlumbing(modulePath: frame.module) { return true }
        if let file = frame.file, files.matchAny(path: file) { return true }
        guard let function = frame.function, !functions.isEmpty else { return false }
        return functions.matchAny(function: FunctionName(function))
    }

    public func isGenerated(_ frame: Frame) -> Bool {
        guard frame.isPython, let file = frame.file else { return false }
        return generatedFiles.matchAny(path: file)
    }

    /// Index of the site among `frames` (innermost first), nil for none.
    public func siteIndex(of frames: [Frame]) -> Int? {
        guard !frames.isEmpty else { return nil }
        return frames.firstIndex { !isPlumbing($0) && !isGenerated($0) } ?? frames.firstIndex { !isPlumbing($0) } ?? 0
    }
}
