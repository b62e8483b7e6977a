import ArgumentParser
import Foundation
import HeapDiffKit

/// `heapdiff check -- PROGRAM ARGS…`: a leak test for CI.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run a program as a leak test: fail when some call site keeps growing.",
        discussion: """
            Runs PROGRAM under the recorder. Its phases are the snapshots it takes itself, by calling \
            heapdiff_snapshot(label) between iterations of its workload (or every --interval seconds); \
            its exit snapshot is a phase only when it takes none of its own, and a snapshot taken while a \
            Python interpreter shuts down never is. With two phases, the usual pattern (one snapshot after \
            warm-up, one after the load), the two are compared. With more, the first --warmup-snapshots are \
            discarded (caches fill, pools grow), but never so many that fewer than two remain, and the first \
            remaining phase is compared with the last. Fewer than two phases: nothing spans the workload, \
            and the check fails with status 2, never passes.

            A call site leaks when its live bytes grew by more than --max-growth-per-site between them and, \
            with three or more snapshots, the growth persisted: it never fell back by more than a tenth of \
            its growth, and at least half of the phases grew by more than half the average growth a phase. \
            A site that grows and falls back again is not a leak, nor one that grew once and then stayed, \
            give or take a few bytes. Unlike LeakSanitizer, this catches memory that is still reachable, such as an unbounded \
            cache. --max-growth limits the growth of the whole traced heap as well. Blocks a runtime keeps \
            in its own cache of freed objects are left out: libdispatch's continuations (under Swift's async \
            tasks), whose per-thread caches fill up as more threads run, would otherwise look like growth.

            Leak tests written for a test harness, tests marked @pytest.mark.heapdiff (pytest-heapdiff) or \
            calling expectNoHeapGrowth (the Swift library HeapDiffTesting), are judged inside the test \
            process: each takes its rounds' snapshots, keeps them apart from the process's own series and \
            records its verdict in the output directory (leak-tests.PID.verdicts; docs/PROTOCOL.md). check \
            counts those verdicts too, so `heapdiff check -- python -m pytest` and `heapdiff check -- swift \
            test` judge the marked tests: the report says how many leak tests the harness judged and names \
            each one that kept growing, with its sites and the folder keeping its snapshots. A program with \
            such verdicts needs no comparison of its own; one that has both is judged on both.

            With --sample BYTES (or snapshots recorded so), the recorder samples allocations, about one \
            per BYTES allocated, and sizes are estimates: a site then also fails only when its growth \
            exceeds 3 standard errors of that growth, so that sampling noise is never called a leak (a site \
            that did not grow passes that by chance but rarely: about once in 700 sites, fewer in fact, \
            as the error is never understated); and a step back within 3 standard errors does not count as \
            falling back. The error counts only the blocks allocated or freed between the first and the \
            last phase, since blocks live in both are the same samples and cancel out: a site that only \
            grows must have grown by about 9 x BYTES to fail. Pick BYTES so that a leak worth failing for \
            spans many of them. The report marks estimates with ~ and gives their error after ±.

            Exit status: 0 nothing exceeded the limits (and every leak test passed); 1 something did, in the \
            program's own snapshots or in a leak test, even when the program exited non-zero because that \
            test failed (each offending line is printed with its growth, its block-count growth and its \
            stack); 2 heapdiff could not run the check (bad options, no recorder library, fewer than two \
            phases and no leak-test verdict, a leak test that could not be judged); 3 the program itself \
            failed (non-zero exit or killed by a signal) and no leak was found, whatever its heap did: the \
            own snapshots of a program that failed are not judged.

            When the program itself takes no phase snapshots but a process it starts does (a test runner \
            such as `swift test`, a wrapper script), that process is checked. \
            `trend`, `report` and `run`'s summary choose their snapshots by the same rules.

            The report goes to standard error as text, or to standard output with --format json \
            (docs/JSON.md; the \
            program's standard output is then sent to standard error); with leak-test verdicts the JSON \
            document adds `leak_tests` (status, harness, test, pid, snapshots, summary of each) and its \
            `passed` is the whole check's. Snapshots are kept in --output when \
            given, else in a temporary directory that is removed when the check passes.

            With --snapshots FILE…, no program is run: the given snapshot files of one process, taken \
            after each round of a workload, are judged by the same rule, with the same report and exit \
            status (this is how the pytest plugin pytest-heapdiff judges a marked test).

            Example, as one CI step:
              heapdiff check --max-growth-per-site 64KiB -- ./build/tests/cache_leak_test
            """
    )

    @Option(help: ArgumentHelp("Fail when a call site grows by more than this (e.g. 4096, 64KiB, 1MiB).",
                               valueName: "size"))
    var maxGrowthPerSite = ByteSize(bytes: 4096)

    @Option(help: ArgumentHelp("Fail when the whole traced heap grows by more than this.", valueName: "size"))
    var maxGrowth: ByteSize?

    @Option(help: ArgumentHelp("Phases at the start that are not compared (at least two are kept).", valueName: "n"))
    var warmupSnapshots = 1

    @Option(help: "Report as text (on standard error) or json (on standard output).")
    var format: OutputFormat = .text

    @Option(help: ArgumentHelp("Show each growing site's stack as at most n frames: the site and its callers "
                               + "up to the first one in plumbing, such as a library (default: every frame).",
                               valueName: "n"))
    var stackFrames: Int?

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("Judge these snapshot files of one process instead of running a program.",
                               valueName: "file"))
    var snapshots: [String] = []

    @OptionGroup var recording: RecordingOptions

    @OptionGroup var grouping: GroupingOptions

    @Argument(parsing: .captureForPassthrough,
              help: ArgumentHelp("The program to run and its arguments, after --.", valueName: "program"))
    var programAndArguments: [String] = []

    static let leaksFound: Int32 = 1
    static let programFailed: Int32 = 3

    func validate() throws {
        if asksForHelp(programAndArguments) { throw CleanExit.helpRequest(self) }
        try validateSnapshotFiles()
        guard !snapshots.isEmpty || programArguments(from: programAndArguments).first?.isEmpty == false else {
            throw ValidationError("missing the program to run, as in `heapdiff check -- PROGRAM [ARGS…]`")
        }
        if let stackFrames, stackFrames < 1 {
            throw ValidationError("--stack-frames must be 1 or more, not \(stackFrames)")
        }
        guard warmupSnapshots >= 0 else {
            throw ValidationError("--warmup-snapshots must be 0 or more, not \(warmupSnapshots)")
        }
        guard grouping.keyType != .traceback else {
            throw ValidationError("--group-by traceback is not supported by check; use lineno, function or file")
        }
    }

    func run() throws {
        if !snapshots.isEmpty { return try checkSnapshotFiles() }
        let arguments = programArguments(from: programAndArguments)
        let library = try RecorderLibrary.locate(environment: ProcessInfo.processInfo.environment)
        let directory = try outputDirectory()
        let notices = RecorderNotices()
        let environment = recording.childEnvironment(library: library, outputDirectory: directory,
                                                     reportName: notices.name)
        let verdictsBefore = LeakTestVerdictFiles.mark(directory: directory)
        let finished: ChildProcess.Finished
        do {
            finished = try ChildProcess.run(arguments: arguments,
                                            environment: environment.entries(from: ProcessInfo.processInfo.environment),
                                            stdoutToStderr: format == .json)
        } catch {
            throw CommandError(message: "cannot run \(arguments[0]): \(String(cString: strerror(error.code)))")
        }
        notices.printAll()
        SnapshotSeries.returnForkedWorkers(in: directory, program: finished.pid,
                                           executable: ExecutableLinking.executableFile(
                                               arguments[0], path: ProcessInfo.processInfo.environment["PATH"]))
        let leakTests = leakTestVerdicts(in: directory, since: verdictsBefore)

        guard finished.termination == .exited(0) else {
            let how = switch finished.termination {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "was killed by \(KilledProcess.name(of: signal))"
            }
            // A leak test that failed fails the test runner: the leak is the verdict.
            guard let leakTests, !leakTests.leaked.isEmpty else {
                if let leakTests, format == .text {
                    leakTests.text().dropLast().forEach(Console.printToStandardError)
                    Console.note(leakTests.summaryLine())
                }
                throw CommandError(message: "\(arguments[0]) \(how); snapshots are in \(directory)",
                                   status: Self.programFailed)
            }
            Console.note("\(arguments[0]) \(how)")
            try show(own: nil, leakTests: leakTests)
            throw ExitCode(Self.leaksFound)
        }

        let (own, symbolizer) = try judgeOwnSeries(in: directory, started: finished.pid, program: arguments[0],
                                                           leakTestsJudged: leakTests != nil)
        try show(own: own, leakTests: leakTests)
        symbolizer?.warnings.forEach { Console.warning($0) }
        if own?.result.passed == false || leakTests?.leaked.isEmpty == false {
            throw ExitCode(Self.leaksFound)
        }
        if let leakTests, !leakTests.unjudged.isEmpty {
            throw CommandError(message: "\(counted(leakTests.unjudged.count, "leak test")) could not be judged; "
                + "snapshots are in \(directory)")
        }
        if recording.output == nil { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The series of the process's own snapshots judged by the rule, and the
    /// symbolizer whose warnings follow the report; no report when it has no comparison spanning
    /// the workload and test harnesses judged leak tests instead (otherwise
    /// that is an error, status 2).
    private func judgeOwnSeries(in directory: String, started: Int32, program: String,
                                leakTestsJudged: Bool) throws -> (CheckReport?, Symbolizer?) {
        // (A program never recorded may not have made the directory.)
        let all = FileManager.default.fileExists(atPath: directory) ? try SnapshotSeries.loadAll(directory: directory) : []
        let series = SnapshotSeries.checked(started: started, among: all)
        let phases: [SnapshotFile]
        do {
            guard let series else {
                // Not recorded at all: say why, when the program's file tells.
                if !leakTestsJudged, !all.contains(where: { $0.pid == started }),
                   let refusal = PreloadRefusal.reason(program: program, environment: ProcessInfo.processInfo.environment) {
                    throw CommandError(message: "\(program) (pid \(started)) left no snapshot: \(refusal)")
                }
                throw SeriesError.tooFewPhases(program: URL(fileURLWithPath: program).lastPathComponent,
                                               pid: started, own: 0)
            }
            phases = try series.compared(warmup: warmupSnapshots)
        } catch let failure as SeriesError {
            guard leakTestsJudged else { throw CommandError(message: "\(failure); snapshots are in \(directory)") }
            if case .tooFewPhases(_, _, let own) = failure, own > 0 {
                Console.note("not compared, the leak tests' verdicts stand alone: \(failure)")
            }
            return (nil, nil)
        }
        let policy = LeakCheck.Policy(maxGrowthPerSite: maxGrowthPerSite.bytes, maxTotalGrowth: maxGrowth?.bytes,
                                      warmupSnapshots: warmupSnapshots)
        let symbolizer = grouping.makeSymbolizer()
        let result = LeakCheck.judge(try phases.map { try Snapshot.load(path: $0.path) }, policy: policy,
                                     options: grouping.statisticsOptions, symbolizer: symbolizer)
        let report = CheckReport(result: result, policy: policy, keyType: grouping.keyType,
                                 limit: grouping.limit, directory: directory,
                                 paths: PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath),
                                 stackFrames: stackFrames, rule: grouping.statisticsOptions.rule)
        return (report, symbolizer)
    }

    /// The verdicts test harnesses recorded during the run, or nil for none;
    /// records that cannot be believed are named in warnings.
    private func leakTestVerdicts(in directory: String, since mark: LeakTestVerdictFiles.Mark) -> LeakTestsReport? {
        let (verdicts, problems) = LeakTestVerdictFiles.load(directory: directory, since: mark)
        problems.forEach { Console.warning($0) }
        return verdicts.isEmpty ? nil
            : LeakTestsReport(verdicts: verdicts, paths: PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath))
    }

    /// Prints the own series' report and the leak tests', as text on
    /// standard error or as one JSON document on standard output (the own
    /// report's, with `leak_tests` added and `passed` the whole check's).
    private func show(own: CheckReport?, leakTests: LeakTestsReport?) throws {
        switch format {
        case .text:
            own?.text().forEach(Console.printToStandardError)
            leakTests?.text().forEach(Console.printToStandardError)
        case .json:
            if own != nil || leakTests != nil { print(try CheckReport.json(own: own, leakTests: leakTests)) }
        }
    }

    /// --output, or a fresh private temporary directory.
    private func outputDirectory() throws -> String {
        if let output = recording.output {
            return URL(fileURLWithPath: output).standardizedFileURL.path
        }
        var template = Array((FileManager.default.temporaryDirectory.path + "/heapdiff-check.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CommandError(message: "cannot create a temporary directory: \(String(cString: strerror(errno)))")
        }
        // As the recorder makes its directories for root: workers that switch user can add files.
        if geteuid() == 0 { chmod(made, 0o1733) }
        return String(cString: made)
    }
}
