import ArgumentParser
import HeapDiffKit

/// How statistics are grouped, filtered and attributed, and how many are
/// shown: shared by `run`, `top` and `diff`.
struct GroupingOptions: ParsableArguments {
    @Option(name: .customLong("group-by"),
            help: ArgumentHelp("Group by source line, function, source file, module or whole call stack.",
                               valueName: "key"))
    var keyType: KeyType = .lineno

    @Flag(help: "Count each block under every frame of its stack from the allocation site out, not only the site.")
    var cumulative = false

    @Option(name: .customLong("include"), parsing: .singleValue,
            help: ArgumentHelp("Only count blocks whose allocation site matches (file:, function: or module:GLOB).",
                               valueName: "kind:glob"))
    var includes: [String] = []

    @Option(name: .customLong("exclude"), parsing: .singleValue,
            help: ArgumentHelp("Do not count blocks whose allocation site matches.", valueName: "kind:glob"))
    var excludes: [String] = []

    @Flag(name: .customLong("filter-all-frames"), help: "Match --include and --exclude against every frame, not only the site.")
    var filterAllFrames = false

    @Option(name: .customLong("min-size"), help: ArgumentHelp("top: hide rows smaller than this.", valueName: "size"))
    var minimumSize: String?

    @Option(name: .customLong("min-size-diff"),
            help: ArgumentHelp("diff: hide rows that changed by less than this, either way.", valueName: "size"))
    var minimumSizeDiff: String?

    @Option(name: .customLong("skip-function"), parsing: .singleValue,
            help: ArgumentHelp("Treat matching functions as allocator plumbing, never the site.", valueName: "glob"))
    var skipFunctions: [String] = []

    @Option(name: .customLong("skip-module"), parsing: .singleValue,
            help: ArgumentHelp("Treat matching modules (path or file name) as plumbing.", valueName: "glob"))
    var skipModules: [String] = []

    @Option(name: .customLong("skip-file"), parsing: .singleValue,
            help: ArgumentHelp("Treat code from matching source files as plumbing.", valueName: "glob"))
    var skipFiles: [String] = []

    @Flag(name: .customLong("no-skip"), help: "Drop the built-in plumbing rules: the site is the first frame not skipped by --skip-*.")
    var noSkip = false

    @Flag(name: .customLong("raw-symbols"), help: "Show function names as mangled in the symbol table.")
    var rawSymbols = false

    @Option(help: "Show at most this many rows; 0 shows them all.")
    var limit: Int = 10

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more, not \(limit)") }
        if cumulative && keyType == .traceback {
            throw ValidationError("--cumulative cannot be used with --group-by traceback")
        }
        for (option, values) in [("--include", includes), ("--exclude", excludes)] {
            if let bad = values.first(where: { TraceFilter(argument: $0, inclusive: true) == nil }) {
                throw ValidationError("\(option) must be file:GLOB, function:GLOB or module:GLOB, not '\(bad)'")
            }
        }
        for (option, value) in [("--min-size", minimumSize), ("--min-size-diff", minimumSizeDiff)] {
            if let value, SizeParsing.bytes(value) == nil {
                throw ValidationError("\(option) must be a size such as 512, 10K or 1.5MiB, not '\(value)'")
            }
        }
        let globs = [("--skip-function", skipFunctions), ("--skip-module", skipModules), ("--skip-file", skipFiles)]
        if let (option, _) = globs.first(where: { $0.1.contains("") }) {
            throw ValidationError("\(option) needs a non-empty pattern")
        }
    }

    /// The rows to show out of `rows`.
    func limited<Row>(_ rows: [Row]) -> [Row] {
        limit == 0 ? rows : Array(rows.prefix(limit))
    }

    /// The library's view of these options (after `validate`).
    var statisticsOptions: StatisticsOptions {
        let filters = includes.compactMap { TraceFilter(argument: $0, inclusive: true, allFrames: filterAllFrames) }
            + excludes.compactMap { TraceFilter(argument: $0, inclusive: false, allFrames: filterAllFrames) }
        let base = noSkip ? AllocationSiteRule.innermostFrame : AllocationSiteRule.standard
        let rule = base.adding(functions: skipFunctions.map(Glob.init), modules: skipModules.map(Glob.init),
                               files: skipFiles.map(Glob.init))
        return StatisticsOptions(
            keyType: keyType, cumulative: cumulative, rule: rule, filters: filters,
            minimumSize: minimumSize.flatMap(SizeParsing.bytes) ?? 0,
            minimumSizeDiff: minimumSizeDiff.flatMap(SizeParsing.bytes) ?? 0)
    }

    /// One per report, shared by its snapshots.
    func makeSymbolizer() -> Symbolizer {
        Symbolizer(demangles: !rawSymbols)
    }

    /// What `heapdiff help top|diff|run` says about these options.
    static let discussion = """
        ALLOCATION SITES
        Rows are keyed by the allocation site: the first frame of the call stack, inlined calls included, \
        that is not allocator plumbing. Built-in rules skip the allocators and their wrappers (operator new, \
        strdup, xmalloc…), standard-library containers and smart pointers (std::vector, std::unordered_map, \
        std::make_shared…), the Swift runtime and the array, dictionary and string code Swift copies into \
        programs, Rust's standard library (Vec, String, Box, HashMap: its sources under /rustc/… and the \
        crates in ~/.cargo), GLib's g_malloc, CPython's PyMem_ family, PostgreSQL's palloc and memory \
        contexts, OpenSSL's CRYPTO_malloc, system libraries (/lib, /usr/lib, \
        /opt/swift) and code from system headers (/usr/include…). A wrapper of your own is your code: its line is the site. \
        If every frame is plumbing, the site is the first frame.

        --skip-function, --skip-module and --skip-file add rules (repeatable); --no-skip drops the built-in \
        ones. Patterns are shell globs (fnmatch: * also matches / and ::; write \\[ for a literal bracket). \
        A function pattern matches the demangled name, or the name without template arguments, parameters \
        and return type: 'std::vector*', 'MyCache::*', 'myapp.Store.*'. Module and file patterns match the \
        full path or the file name: 'libfoo*', '*/third_party/*'.

        A return address inside inlined code stands for a chain of calls: tracebacks show each inlined call \
        as its own frame, marked (inlined). C++, Rust and Swift names are demangled; --raw-symbols shows \
        them as the symbol table has them (patterns still match the demangled names).

        GROUPING AND FILTERS
        --group-by module groups by the allocation site's executable or library. --cumulative counts a block \
        under every distinct key of its stack from the site outward (each once, plumbing frames left \
        out), like tracemalloc's cumulative=True: a function's row then includes everything its callees \
        allocated. With --no-skip every frame counts, exactly as in tracemalloc.

        --include KIND:GLOB and --exclude KIND:GLOB keep or drop blocks by their allocation site, KIND \
        being file, function or module (repeatable), as tracemalloc.Filter: with any --include a block must \
        match one of them, and it must match no --exclude. --filter-all-frames matches them against every \
        frame of the stack instead. The total line then counts only the blocks kept.

        --min-size (top) and --min-size-diff (diff) hide rows whose size, or size change either way, is \
        smaller: 512, 10K, 1.5MiB (units are powers of 1024).
        """
}

extension KeyType: ExpressibleByArgument {}

/// How `top` and `diff` print their result.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
    case text
    case json
}
