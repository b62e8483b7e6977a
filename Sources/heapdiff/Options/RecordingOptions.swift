import ArgumentParser
import Foundation

/// How the recorder is set up for a program heapdiff starts: shared by
/// `run` and `check`.
struct RecordingOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Directory for the snapshots.", valueName: "dir"))
    var output: String?

    @Option(help: ArgumentHelp("Also take a snapshot every this many seconds (at least 0.01).", valueName: "seconds"))
    var interval: String?

    @Option(help: ArgumentHelp("Also take a snapshot on this signal, for `kill`: \(SnapshotSignal.accepted) "
                               + "(default off; `heapdiff snapshot PID` needs no signal).", valueName: "signal"))
    var signal: String?

    @Option(help: ArgumentHelp("Record at most this many frames per call stack, 1 to 256 (default 64).", valueName: "n"))
    var depth: Int?

    @Option(help: SampleRate.help, transform: SampleRate.parse)
    var sample: SampleRate?

    @Option(help: ArgumentHelp("Keep only the latest n snapshots taken every --interval, deleting older ones "
                               + "(default: all; snapshots the program takes and the exit snapshot are kept).",
                               valueName: "n"))
    var keep: KeptSnapshots?

    func validate() throws {
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

    /// The traced program's environment: heapdiff's own plus the recorder's.
    func childEnvironment(library: String, outputDirectory: String, reportName: String?) -> ChildEnvironment {
        ChildEnvironment(library: library, outputDirectory: outputDirectory, interval: interval, signal: signal,
                         depth: depth, sample: sample?.bytes, keep: keep?.count, programParent: getpid(),
                         reportName: reportName)
    }
}

/// The program's argv: what follows heapdiff's own options and the `--`.
func programArguments(from captured: [String]) -> [String] {
    captured.first == "--" ? Array(captured.dropFirst()) : captured
}

/// `heapdiff run --help` asks for run's help, not to run a program named `--help`
/// (which `heapdiff run -- --help` still does).
func asksForHelp(_ captured: [String]) -> Bool {
    captured.first == "--help" || captured.first == "-h"
}
