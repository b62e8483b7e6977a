import Foundation
import HeapDiffFormat

/// The environment of the program that `run` starts: heapdiff's own, plus
/// what loads and configures the recorder (names from heapdiff_control.h).
struct ChildEnvironment {
    var library: String
    var outputDirectory: String
    var interval: String?
    var signal: String?
    var depth: Int?
    /// Sampling rate in bytes (0 or nil: every allocation), and periodic snapshots kept (nil: all).
    var sample: UInt64?
    var keep: UInt32?
    /// heapdiff's own pid: the recorder in its direct child knows itself as
    /// the program, and its descendants as helpers or workers.
    var programParent: Int32
    /// Where the recorders send their notices (`RecorderNotices`).
    var reportName: String?
    /// This heapdiff, for a test harness in the program that needs the
    /// command (pytest-heapdiff): `heapdiff check -- python -m pytest` works
    /// without heapdiff on PATH. A HEAPDIFF_CLI already set is kept.
    var cli: String? = ChildEnvironment.ownExecutable()

    static func ownExecutable() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    /// `KEY=VALUE` entries, sorted by key so the result is reproducible.
    func entries(from base: [String: String]) -> [String] {
        var environment = base
        // Prepended so the recorder's malloc wins, keeping the user's preloads after it.
        if let existing = base["LD_PRELOAD"], !existing.isEmpty {
            environment["LD_PRELOAD"] = library + ":" + existing
        } else {
            environment["LD_PRELOAD"] = library
        }
        environment[HD_ENV_OUTPUT] = outputDirectory
        if let interval { environment[HD_ENV_INTERVAL] = interval }
        if let signal { environment[HD_ENV_SIGNAL] = signal }
        if let depth { environment[HD_ENV_DEPTH] = String(depth) }
        if let sample { environment[HD_ENV_SAMPLE] = String(sample) }
        if let keep { environment[HD_ENV_KEEP] = String(keep) }
        environment[HD_ENV_REPORT] = reportName
        environment[HD_ENV_PROGRAM_PARENT] = String(programParent)
        if environment[HD_ENV_CLI] == nil, let cli { environment[HD_ENV_CLI] = cli }
        return environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
