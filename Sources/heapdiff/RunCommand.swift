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
            (nginx, postgres) can still add their own files (0600) without reading anyone else's. Child \
            processes write their own files under their own PID. A process that cannot write is named, \
            with the reason, once the program has ended.

            When the program ends, heapdiff lists its snapshots and shows the growth between the first and \
            the last one (or, with a single snapshot, the largest live allocation sites); with three or more \
            snapshots it adds the trend: which sites grow steadily and which only warmed up (see \
            `heapdiff help trend`). Everything heapdiff \
            prints goes to standard error: the program's standard output is left exactly as it was. \
            When a signal kills the program, heapdiff says which and whether its exit snapshot was written. \
            heapdiff exits with the program's status, or 128+N if it was killed by signal N; 127 if it \
            could not be started.

            Example:
              heapdiff run --interval 5 -- ./server --port 8080

            The report takes the options of `heapdiff diff`, explained below.

            """ + GroupingOptions.discussion
    )

    @OptionGroup var recording: RecordingOptions

    @OptionGroup var grouping: GroupingOptions

    @Argument(parsing: .captureForPassthrough,
              help: ArgumentHelp("The program to run and its arguments, after --.", valueName: "program"))
    var programAndArguments: [String] = []

    func validate() throws {
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
                                 periodic: recording.interval != nil)
        if case .signaled(let signal) = finished.termination {
            Console.note(KilledProcess(pid: finished.pid, signal: signal, directory: directory).description)
            summary.printIfAny()
        } else {
            summary.print()
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
