/// Decides which frame of a stack is "the allocation site" that a trace is
/// attributed to when grouping by line, function, file or module.
///
/// Frame 0 is often allocator plumbing (libstdc++'s `operator new`, a
/// `std::vector` growth path inlined into the program, the Swift runtime,
/// libc's `strdup`), which would lump unrelated allocations together; the
/// interesting frame is the first one in the program's own code. Each frame
/// has a `Role`:
/// - a *wrapper* matches a function rule (allocator entry points and
///   wrappers: `malloc`, `xmalloc`, `operator new`, `os::malloc`…) or one of
///   the user's `--skip-module`/`--skip-file` globs: never the site while
///   another frame can be;
/// - *library* code matches a built-in module or file rule (system
///   libraries, system headers, the CPython interpreter), or is a nameless
///   frame of a system program (`/usr/bin/ruby`'s stripped `main`): skipped
///   only while a frame of the program's own code exists, so that a program
///   that itself lives under /usr/lib (gcc's cc1, libruby, libjvm) is charged
///   to its own functions rather than to its allocator wrapper; so is code
///   outside every module (JIT-compiled Java or JavaScript), which has no
///   name to show;
/// - *generated* Python code (`<string>`: a dataclass's `__init__`) is
///   passed over while own code calls it;
/// - everything else is *own* code.
///
/// The site is the first own frame (inlined ones included); without one, the
/// first generated frame, then the first library frame that has a name, is no wrapper, is inside the
/// first nameless frame of a system program and is not the C or C++ runtime's (libc's `tzset` works for
/// whoever called `localtime`: dovecot's `imap`, under /usr/lib, is charged to libdovecot's
/// `time_to_local_day_start`), then that nameless frame, then a runtime's named frame, then any frame that
/// is no wrapper, then frame 0.
public struct AllocationSiteRule: Equatable, Sendable {
    public enum Role: Equatable, Sendable {
        case own, generated, library, wrapper
    }

    /// Wrapper rules: built-in allocator wrappers, plus the user's.
    public var functions: [Glob]
    public var modules: [Glob]
    public var files: [Glob]
    /// Library rules (built-in).
    public var libraryModules: [Glob]
    public var libraryFiles: [Glob]
    /// Modules whose frames are library code when they have no name.
    public var namelessLibraryModules: [Glob]
    /// The C and C++ runtimes: library code that allocates for whoever
    /// called it, the site only when nothing else can be.
    public var runtimeModules: [Glob]
    /// Python code compiled from a string at run time (a dataclass's
    /// `__init__`, a namedtuple's `__new__`, `exec`): passed over like
    /// library code while a frame of the program's own code calls it, the
    /// site when none does (`python -c`).
    public var generatedFiles: [Glob]

    public init(functions: [Glob] = [], modules: [Glob] = [], files: [Glob] = [], libraryModules: [Glob] = [],
                libraryFiles: [Glob] = [], namelessLibraryModules: [Glob] = [], runtimeModules: [Glob] = [],
                generatedFiles: [Glob] = []) {
        self.functions = functions
        self.modules = modules
        self.files = files
        self.libraryModules = libraryModules
        self.libraryFiles = libraryFiles
        self.namelessLibraryModules = namelessLibraryModules
        self.runtimeModules = runtimeModules
        self.generatedFiles = generatedFiles
    }

    /// The built-in rules: allocator entry points and wrappers of the C, C++,
    /// Swift, GLib, CPython, GCC, Ruby, HotSpot and Perl runtimes; system
    /// libraries, system headers and stripped system programs as library code.
    public static let standard = AllocationSiteRule(
        functions: BuiltInPlumbing.functions.map(Glob.init),
        libraryModules: BuiltInPlumbing.modules.map(Glob.init),
        libraryFiles: BuiltInPlumbing.files.map(Glob.init),
        namelessLibraryModules: BuiltInPlumbing.systemPrograms.map(Glob.init),
        runtimeModules: BuiltInPlumbing.runtimeModules.map(Glob.init),
        generatedFiles: BuiltInPlumbing.generatedPythonFiles.map(Glob.init))

    /// Attributes nothing elsewhere: the site is always frame 0 (`--no-skip`).
    public static let innermostFrame = AllocationSiteRule()

    /// These rules plus more wrappers, as `--skip-function` and friends add them.
    public func adding(functions: [Glob] = [], modules: [Glob] = [], files: [Glob] = []) -> AllocationSiteRule {
        var rule = self
        rule.functions += functions
        rule.modules += modules
        rule.files += files
        return rule
    }

    /// The role every frame of a module has, when the path alone decides it
    /// (no symbols needed); nil when it depends on the frame.
    public func role(modulePath: String) -> Role? {
        guard !modulePath.isEmpty else { return nil }
        if modules.matchAny(path: modulePath) { return .wrapper }
        if libraryModules.matchAny(path: modulePath) { return .library }
        return nil
    }

    public func role(of frame: Frame) -> Role {
        if !frame.module.isEmpty, modules.matchAny(path: frame.module) { return .wrapper }
        if let file = frame.file, files.matchAny(path: file) { return .wrapper }
        if let function = frame.function, !functions.isEmpty, functions.matchAny(function: FunctionName(function)) {
            return .wrapper
        }
        if !frame.module.isEmpty, libraryModules.matchAny(path: frame.module) { return .library }
        if let file = frame.file, libraryFiles.matchAny(path: file) { return .library }
        if frame.function == nil, !frame.module.isEmpty, namelessLibraryModules.matchAny(path: frame.module) {
            return .library
        }
        // Code outside every module (a JVM's or V8's JIT-compiled code) has no name or line to show:
        // charged to the named native frames around it, like a nameless frame of a system library.
        if frame.module.isEmpty, frame.function == nil, frame.file == nil { return .library }
        if isGenerated(frame) { return .generated }
        return .own
    }

    /// Whether every frame of a module is skipped while own code exists.
    public func isPlumbing(modulePath: String) -> Bool {
        role(modulePath: modulePath) != nil
    }

    public func isPlumbing(_ frame: Frame) -> Bool {
        let role = role(of: frame)
        return role == .wrapper || role == .library
    }

    public func isGenerated(_ frame: Frame) -> Bool {
        guard frame.isPython, let file = frame.file else { return false }
        return generatedFiles.matchAny(path: file)
    }

    /// Whether the frame is nameless code of a stripped system program (library code by `role(of:)`).
    func isNamelessSystemProgram(_ frame: Frame) -> Bool {
        frame.function == nil && !frame.module.isEmpty && namelessLibraryModules.matchAny(path: frame.module)
            && !libraryModules.matchAny(path: frame.module)
    }

    /// Whether the frame is the C or C++ runtime's (see `runtimeModules`).
    func isRuntime(_ frame: Frame) -> Bool {
        !frame.module.isEmpty && runtimeModules.matchAny(path: frame.module)
    }

    /// Index of the site among `frames` (innermost first), nil for none.
    ///
    /// Without own code, a named library frame is the site only if it is called by the stripped system
    /// program's nameless code (ruby's `main` calling libruby), not if it calls that code: memcached's
    /// slab allocator, run from libevent's `event_base_loop`, is charged to memcached's innermost frame.
    public func siteIndex(of frames: [Frame]) -> Int? {
        guard !frames.isEmpty else { return nil }
        let roles = frames.map(role(of:))
        if let own = roles.firstIndex(of: .own) ?? roles.firstIndex(of: .generated) { return own }
        var choice = LibrarySiteChoice<Int>(rule: self)
        for index in frames.indices {
            if let site = choice.offer(frames[index], role: roles[index], at: index) { return site }
        }
        return choice.fallback ?? 0
    }
}

/// The site of a stack without own code, offered its frames innermost first
/// (`AllocationSiteRule.siteIndex` and `StackResolver.site`, which symbolizes
/// lazily, share it): the first frame that is no wrapper and either named and
/// not the C or C++ runtime's, or a stripped system program's nameless code
/// (memcached's, called from libevent's loop: a named library frame outward
/// of it is its caller, not its callee); failing that, the runtime's first
/// named frame, then the first nameless frame that is no wrapper.
struct LibrarySiteChoice<Position> {
    let rule: AllocationSiteRule
    private var runtime: Position?
    private var nameless: Position?

    init(rule: AllocationSiteRule) {
        self.rule = rule
    }

    /// The site, when this frame is it whatever comes further out.
    mutating func offer(_ frame: Frame, role: AllocationSiteRule.Role, at position: Position) -> Position? {
        guard role != .wrapper else { return nil }
        if rule.isNamelessSystemProgram(frame) || (frame.function != nil && !rule.isRuntime(frame)) {
            return position
        }
        if frame.function != nil {
            if runtime == nil { runtime = position }
        } else if nameless == nil {
            nameless = position
        }
        return nil
    }

    /// The site once every frame was offered and none was sure.
    var fallback: Position? { runtime ?? nameless }
}
