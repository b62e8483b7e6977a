import ArgumentParser
import CHeapDiffFormat
import Foundation
import HeapDiffKit

/// `heapdiff snapshot PID`: makes a running, traced program take a snapshot now.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Make a program running under heapdiff take a snapshot now.",
        discussion: """
            Asks process PID for a snapshot, waits until the recorder has written it, and prints its path \
            on standard output, ready for `heapdiff diff`:

              old=$(heapdiff snapshot 4242 --label before)
              … exercise the program …
              new=$(heapdiff snapshot 4242 --label after)
              heapdiff diff "$old" "$new"

            The request goes to the recorder's own control socket (the abstract UNIX socket \
            heapdiff.PID, see docs/PROTOCOL.md), never as a signal: a server that gives SIGUSR2 a meaning \
            of its own (a JVM, nginx, gunicorn) is not disturbed, and a program that rewrites its \
            environment or process title is reached all the same. Any process of the run can be asked, \
            forked workers included; only the process's own user or root may ask.

            The process must have been started by `heapdiff run` (or with LD_PRELOAD=libheapdiff.so).
            """
    )

    @Argument(help: "The process to snapshot.")
    var pid: Int32

    @Option(help: "A label stored in the snapshot, e.g. the phase of a test.")
    var label: String?

    @Option(help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
    var timeout: Double = 10

    func validate() throws {
        guard pid > 0 else { throw ValidationError("PID must be a positive process id, not \(pid)") }
        guard timeout.isFinite, timeout > 0, timeout <= 86_400 else {
            throw ValidationError("--timeout must be a positive number of seconds")
        }
        if let label, label.utf8.count > Int(HD_CONTROL_MAX_LABEL) || label.utf8.contains(0) {
            throw ValidationError("--label must be at most \(HD_CONTROL_MAX_LABEL) bytes, without NUL")
        }
    }

    func run() throws {
        let process = TracedProcess(pid: pid)
        guard process.exists else { throw CommandError(message: "no process \(pid)") }
        let deadline = Date().addingTimeInterval(timeout)
        var text = [CChar](repeating: 0, count: 4608)
        while true {
            let left = max(1, Int32(deadline.timeIntervalSinceNow * 1000))
            let result = hd_control_request(pid, label ?? "", left, &text, text.count)
            let message = String(cString: text)
            switch result {
            case HD_CONTROL_WRITTEN:
                print(message)
                return
            case HD_CONTROL_REFUSED:
                throw CommandError(message: "process \(pid) wrote no snapshot: \(message)")
            case HD_CONTROL_IMPOSTOR:
                throw CommandError(message: "the control socket heapdiff.\(pid) belongs to process \(message), "
                    + "not to process \(pid); not asking it")
            case HD_CONTROL_TIMED_OUT:
                throw CommandError(message: "process \(pid) wrote no snapshot within \(String(format: "%g", timeout)) s")
            case HD_CONTROL_NO_LISTENER:
                // A process that has just started (or forked) opens its socket
                // within a moment; one without the recorder never does.
                if process.loadsRecorder() == false {
                    throw CommandError(message: "process \(pid) is not running under heapdiff "
                        + "(no libheapdiff.so in /proc/\(pid)/maps)")
                }
                guard process.exists else { throw CommandError(message: "process \(pid) has ended") }
                guard Date() < deadline else {
                    throw CommandError(message: "process \(pid) does not answer on its control socket heapdiff.\(pid) "
                        + "(is it traced by this version of heapdiff?)")
                }
                usleep(50_000)
            default:
                throw CommandError(message: "cannot ask process \(pid) for a snapshot: \(message)")
            }
        }
    }
}
