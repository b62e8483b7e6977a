import ArgumentParser
import Foundation
import HeapDiffKit

/// `heapdiff run -- PROGRAM ARGS…`: runs a program under the recorder.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a program with the heap recorder and report what grew.",
        discussion: """
            Starts PROGRAM with libheapdiff.so preloaded. The recorder traces every malloc, calloc, \
            realloc, free (and friends) and writes a snapshot of the live heap at exit (also when the \
            program ends itself with a signal, as Python does after Ctrl-C), every --interval seconds, \
            whenever the program calls heapdiff_snapshot(), when `heapdiff snapshot PID` asks (see \
            `heapdiff help snapshot`), and, only with --signal, when it receives that signal. A program \
            that installs its own handler for that signal keeps it; heapdiff says so.

            Snapshots go to --output, by default ./heapdiff.PROGRAM.PID, named PROGRAM.PID.SEQ.heapsnap; \
            the directory and its missing parents are created, the directory with mode 0700 as snapshots \
            contain command lines, or 1733 when run as root, so that workers that switch to another user \
            (nginx, postgres) can still add their own files (0600) without reading anyone else's. A process \
            that cannot write is named, with the reason, once the program has ended. Child processes write \
            their own files under their own PID. A program that executes another in its own pid (pyenv's python3 \
            shim, a launcher script) starts a new series there under the new program's name, and that last \
            series is the program's; one that executes itself again (haproxy's reload) goes on past its \
            earlier files, which are left out, never replaced. Helpers, the processes the program starts that take no snapshot of their \
            own (the shim's bash, readlink and basename, a compiler under make), leave their exit snapshot in \
            the subfolder helpers/, out of the way. Workers keep their files beside the program's: processes \
            that take snapshots of their own (gunicorn or nginx workers under --interval or `heapdiff \
            snapshot`, a test runner's child), and workers the program forked that executed nothing else, \
            whose exit snapshots heapdiff moves back from helpers/ once the program has ended. \
            HEAPDIFF_FOLLOW_CHILDREN=all keeps every file beside the program's, and \
            HEAPDIFF_FOLLOW_CHILDREN=0 traces the program alone. Programs started with an environment that \
            leaves out LD_PRELOAD (postfix's import_environment, Apache's CGI) run unrecorded and are named; \
            ones that keep it but not the HEAPDIFF_* settings get the settings passed on (a shell started \
            by system() or popen(), which gets the process's own environment, is named instead). So are \
            programs started in the loader's secure-execution mode, which ignores LD_PRELOAD (real and \
            effective user differ, as in squid's kids, or a set-user-ID file): `heapdiff attach` records them.

            When the program ends, heapdiff lists its snapshots and shows the growth between the first and \
            the last one (or, with a single snapshot, the largest live allocation sites); with three or more \
            snapshots it adds the trend: which sites grow steadily and which only warmed up (see \
            `heapdiff help trend`). The exit snapshot, taken after destructors ran, ends the diff only when \
            the program took a single snapshot of its own, and is never a point of the trend; a snapshot \
            taken while a Python interpreter shuts down (every exit snapshot of a python run) shows its \
            teardown, not the program, and is left out likewise: the rules `check`, `trend` and `report` \
            follow too. Processes that took snapshots of their own besides the program are \
            listed with their traced heap's growth, the one that grew most first, followed by its diff; those \
            that left only an exit snapshot are counted, and the number of helpers' snapshots and where they \
            are comes last. When a test harness judged leak tests in the program (tests marked for \
            pytest-heapdiff, HeapDiffTesting's expectNoHeapGrowth), one line says how many, and names the \
            first that kept growing and where its snapshots are. When the program has exited but processes \
            still run with the recorder and write into the output directory (a server that daemonized), a \
            last line names them with their pids. Everything heapdiff \
            prints goes to standard error: the program's standard output is left exactly as it was. \
            When a signal kills the program, heapdiff says which and whether its exit snapshot was written; \
            when the program could not be traced at all (statically linked, set-ID, a Go program), why. \
            heapdiff exits with the program's status, or 128+N if it was killed by signal N; 127 if it \
            could not be started.

            Example:
              heapdiff run --interval 5 -- ./server --port 8080

            The report takes the options of `heapdiff diff`, explained below.

            """ + GroupingOptions.discussion
    )

    @Flag(name: .shortAndLong, help: "Print no report when the program ends (its snapshots are still written).")
    var quiet = false

    @OptionGroup var recording: RecordingOptions

    @OptionGroup var grouping: GroupingOptions

    @Argument(parsing: .captureForPassthrough,
              help: ArgumentHelp("The program to run and its arguments, after --.", valueName: "program"))
    var programAndArguments: [String] = []

    func validate() throws {
        if asksForHelp(programAndArguments) { throw CleanExit.helpRequest(self) }
        guard let program = programArguments(from: programAndArguments).first, !program.isEmpty else {
            throw ValidationError("missing the program to run, as in `heapdiff run -- PROGRAM [ARGS…]`")
        }
    }

    func run() throws {
        let arguments = programArguments(from: programAndArguments)
        let environment = ProcessInfo.processInfo.environment
        let library = try RecorderLibrary.locate(environment: environment)
        // Absolute, as the program may change directory; the recorder creates it (mode 0700)
        // only once the program runs, so a program that cannot start leaves nothing behind.
        let directory = URL(fileURLWithPath: recording.output ?? defaultOutput(program: arguments[0]))
            .standardizedFileURL.path
        let notices = RecorderNotices()
        let verdictsBefore = LeakTestVerdictFiles.mark(directory: directory)
        let childEnvironment = recording.childEnvironment(library: library, outputDirectory: directory,
                                                          reportName: notices.name)
        let finished: ChildProcess.Finished
        do {
            finished = try ChildProcess.run(arguments: arguments, environment: childEnvironment.entries(from: environment))
        } catch {
            throw CommandError(message: "cannot run \(arguments[0]): \(String(cString: strerror(error.code)))",
                               status: error.code == EACCES || error.code == ENOEXEC ? 126 : 127)
        }

        notices.printAll()
        let summary = RunSummary(directory: directory, pid: finished.pid, grouping: grouping,
                                 periodic: recording.interval != nil, verdictsBefore: verdictsBefore,
                                 program: (arguments[0], environment))
        SnapshotSeries.returnForkedWorkers(in: directory, program: finished.pid,
                                           executable: ExecutableLinking.executableFile(arguments[0],
                                                                                        path: environment["PATH"]))
        if quiet {
            // Nothing of heapdiff's own: a test runner that re-runs itself under heapdiff reports.
        } else if case .signaled(let signal) = finished.termination {
            Console.note(KilledProcess(pid: finished.pid, signal: signal, directory: directory).description)
            summary.printIfAny()
        } else {
            summary.print()
        }
        if !quiet {
            let shown = PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath).show(directory)
            if let note = StillRecording.note(StillRecording.processes(writingInto: directory), shownDirectory: shown) {
                Console.note(note)
            }
        }
        if finished.termination.exitStatus != 0 {
            throw ExitCode(finished.termination.exitStatus)
        }
    }

    /// `heapdiff.PROGRAM.PID` in the current directory, PID being heapdiff's
    /// own, so that runs never mix their files.
    private func defaultOutput(program: String) -> String {
        "heapdiff.\(URL(fileURLWithPath: program).lastPathComponent).\(getpid())"
    }
}
