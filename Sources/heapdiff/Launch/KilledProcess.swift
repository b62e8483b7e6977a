import Foundation
import HeapDiffKit

/// `run`'s line about a program that a signal ended: which signal, and
/// whether its exit snapshot was written (a program killed from outside
/// never reaches exit; one that ends itself with a signal, as CPython does
/// after Ctrl-C, writes it first).
struct KilledProcess: CustomStringConvertible {
    var pid: Int32
    var signal: Int32
    var directory: String

    static func name(of signal: Int32) -> String {
        guard let name = strsignal(signal).map({ String(cString: $0) }), let abbreviation = abbreviations[signal] else {
            return "signal \(signal)"
        }
        return "SIG\(abbreviation) (\(name.lowercased()))"
    }

    private static let abbreviations: [Int32: String] = [
        SIGHUP: "HUP", SIGINT: "INT", SIGQUIT: "QUIT", SIGILL: "ILL", SIGTRAP: "TRAP", SIGABRT: "ABRT",
        SIGBUS: "BUS", SIGFPE: "FPE", SIGKILL: "KILL", SIGUSR1: "USR1", SIGSEGV: "SEGV", SIGUSR2: "USR2",
        SIGPIPE: "PIPE", SIGALRM: "ALRM", SIGTERM: "TERM", SIGXCPU: "XCPU", SIGXFSZ: "XFSZ", SIGSYS: "SYS",
    ]

    var description: String {
        let files = (try? SnapshotDirectory.snapshots(in: directory, pid: pid)) ?? []
        let written: String
        if let last = files.last {
            let atExit = (try? Snapshot.load(path: last.path))?.process.trigger == .exit
            written = "it wrote \(counted(files.count, "snapshot"))"
                + (atExit ? ", the last one on its way out" : "; no exit snapshot: what it held at the end is not recorded")
        } else {
            written = "it wrote no snapshot"
        }
        return "process \(pid) was killed by \(Self.name(of: signal)); \(written)"
    }
}
