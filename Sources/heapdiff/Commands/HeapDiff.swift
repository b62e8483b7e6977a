import ArgumentParser
import Foundation
import HeapDiffKit

/// The `heapdiff` command: a heap-growth profiler for native Linux programs.
@main
struct HeapDiff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heapdiff",
        abstract: "Find what makes a native program's heap grow.",
        discussion: """
            heapdiff records the live heap of a program, aggregated per call stack, into snapshot files \
            (PROGRAM.PID.SEQ.heapsnap), and shows where it grew between two snapshots, in the manner of \
            Python's tracemalloc.

            Typical use:
              heapdiff run -- ./server --port 8080   (report growth when it exits)
              heapdiff snapshot 4242 --label warm    (snapshot a running program now)
              heapdiff attach 4242 --duration 60     (record a process started without heapdiff)
              heapdiff diff server.4242.1.heapsnap server.4242.3.heapsnap
              heapdiff check -- ./leak_test              (fail CI when a call site keeps growing)

            Errors are printed as one line, `heapdiff: error: …`, with exit status 2 for bad usage or \
            unreadable snapshots.
            """,
        version: Version.current,
        subcommands: [RunCommand.self, AttachCommand.self, SnapshotCommand.self, TopCommand.self, DiffCommand.self,
                      CheckCommand.self, TrendCommand.self, ExportCommand.self, ReportCommand.self]
    )

    /// Parses and runs like ArgumentParser's own `main()`, but prints every
    /// failure as a single `heapdiff: error:` line instead of a usage dump.
    static func main() {
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitAfter(error, status: 2)
        }
        do {
            var running = command
            try running.run()
        } catch {
            exitAfter(error, status: 1)
        }
        Foundation.exit(0)
    }

    /// `heapdiff help diff` when the command line names a subcommand, else `heapdiff help`.
    private static var helpCommand: String {
        let names = configuration.subcommands.map { $0.configuration.commandName ?? "" }
        guard let word = CommandLine.arguments.dropFirst().first, names.contains(word) else { return "heapdiff help" }
        return "heapdiff help \(word)"
    }

    private static func exitAfter(_ error: Error, status: Int32) -> Never {
        switch error {
        case let failure as CommandError:
            Console.error(failure.message)
            Foundation.exit(failure.status)
        case let failure as SnapshotError:
            Console.error(failure.description)
            Foundation.exit(CommandError.badInput)
        case let failure as SeriesError:
            Console.error(failure.description)
            Foundation.exit(CommandError.badInput)
        case is ExitCode:
            exit(withError: error)  // already reported; exits with its status, silently
        default:
            if exitCode(for: error) == .success {
                exit(withError: error)  // --help, help SUBCOMMAND, --version
            }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            Console.error(message + " (see '\(helpCommand)')")
            Foundation.exit(status)
        }
    }
}
