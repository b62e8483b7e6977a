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
            realloc, free (and friends) and writes a snapshot of the live heap at exit, every --interval \
            seconds, whenever the program calls heapdiff_snapshot(), and when it receives the snapshot \
            signal (see `heapdiff help snapshot`).

            Snapshots go to --output, by default ./heapdiff.PROGRAM.PID (created with mode 0700, as \
            snapshots contain command lines), named PROGRAM.PID.SEQ.heapsnap. Child processes write their \
            own files under their own PID.

            When the program ends, heapdiff lists its snapshots and shows the growth between the first and \
            the last one (or, with a single snapshot, the largest live allocation sites). Everything heapdiff \
            prints goes to standard error: the program's standard output is left exactly as it was. \
            heapdiff exits with the program's status, or 128+N if it was killed by signal N; 127 if it \
            could not be started.

            Example:
              heapdiff run --interval 5 -- ./server --port 8080
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Directory for the snapshots.", valueName: "dir"))
    var output: String?

    @Option(help: ArgumentHelp("Also take a snapshot every this many seconds (at least 0.01).", valueName: "seconds"))
    var interval: String?

    @Option(help: ArgumentHelp("Snapshot signal: \(SnapshotSignal.accepted) (default USR2).", valueName: "signal"))
    var signal: String?

    @Option(help: ArgumentHelp("Record at most this many frames per call stack, 1 to 256 (default 64).", valueName: "n"))
    var depth: Int?

    @OptionGroup var grouping: GroupingOptions

    @Argument(parsing: .captureForPassthrough,
              help: ArgumentHelp("The program to run and its arguments, after --.", valueName: "program"))
    var programAndArguments: [String] = []

    /// The program's argv: what follows heapdiff's own options and the `--`.
    private var programArguments: [String] {
        programAndArguments.first == "--" ? Array(programAndArguments.dropFirst()) : programAndArguments
    }

    func validate() throws {
        guard let program = programArguments.first, !program.isEmpty else {
            throw ValidationError("missing the program to run, as in `heapdiff run -- PROGRAM [ARGS…]`")
        }
        if let interval {
            guard let seconds = Double(interval), seconds.isFinite, seconds >= 0.01, seconds <= 86_400 * 365 else {
                throw ValidationError("--interval must be a number of seconds from 0.01 to 31536000, not '\(interval)'")
            }
        }
        if let signal, SnapshotSignal(signal) == nil {
            throw ValidationError("--signal must be \(SnapshotSignal.accepted), not '\(signal)'")
        }
        if let depth, !(1...256).contains(depth) {
            throw ValidationError("--depth must be from 1 to 256, not \(depth)")
        }
    }

    func run() throws {
        let arguments = programArguments
        let environment = ProcessInfo.processInfo.environment
        let library = try RecorderLibrary.locate(environment: environment)
        // Absolute, as the program may change directory; the recorder creates it (mode 0700)
        // only once the program runs, so a program that cannot start leaves nothing behind.
        let directory = URL(fileURLWithPath: output ?? defaultOutput(program: arguments[0])).standardizedFileURL.path

        let childEnvironment = ChildEnvironment(
            library: library, outputDirectory: directory, interval: interval, signal: signal, depth: depth)
        let finished: ChildProcess.Finished
        do {
            finished = try ChildProcess.run(arguments: arguments, environment: childEnvironment.entries(from: environment))
        } catch {
            throw CommandError(message: "cannot run \(arguments[0]): \(String(cString: strerror(error.code)))",
                               status: error.code == EACCES || error.code == ENOEXEC ? 126 : 127)
        }

        let summary = RunSummary(directory: directory, pid: finished.pid, grouping: grouping)
        if case .signaled = finished.termination {
            summary.printIfAny()  // the program was killed: say nothing more unless there is something to show
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
