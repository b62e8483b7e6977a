import ArgumentParser
import HeapDiffFormat
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

            The process must have been started by `heapdiff run` (or with LD_PRELOAD=libheapdiff.so), or be \
            recorded by `heapdiff attach`: then the request goes through the attach session's pipe, the \
            snapshot lands in that session's directory, and a label is cut to 255 bytes. The pid of \
            `heapdiff run` itself (what `$!` gives after `heapdiff run … &`) stands for the program it runs; \
            a note on standard error says so.
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
        let asked = TracedProcess(pid: pid)
        guard asked.exists else { throw CommandError(message: "no process \(pid)") }
        let process = try Self.recordedProcess(standingFor: asked)
        let pid = process.pid
        // Attached by `heapdiff attach`: its session reads commands from a
        // FIFO it holds open (AttachChannel); it has no control socket.
        if let session = AttachChannel.commandsPath(of: process) {
            return try snapshotAttached(session: session, pid: pid)
        }
        let started = Date()
        let deadline = started.addingTimeInterval(timeout)
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
                // Maps that cannot be read: another user's (or a protected)
                // process, which would refuse this user anyway; a second is
                // enough for one of ours that is just starting.
                if let unreadable = process.mapsUnreadable(), Date() >= started.addingTimeInterval(1) {
                    throw CommandError(message: "process \(pid) does not answer on its control socket heapdiff.\(pid), "
                        + "and \(unreadable), so whether it runs the recorder is unknown; only its own user or root "
                        + "may ask it")
                }
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

    /// The process to ask: PID itself, or, when PID is `heapdiff run` (which
    /// is not traced: it launches the program with the recorder preloaded),
    /// the one traced program it runs. Any other untraced process with
    /// traced children is refused with their pids, so that the user picks.
    static func recordedProcess(standingFor process: TracedProcess) throws -> TracedProcess {
        guard process.loadsRecorder() == false, AttachChannel.commandsPath(of: process) == nil else { return process }
        let traced = process.recordingChildren()
        let named = traced.map { "\($0.pid) (\($0.commandName() ?? "?"))" }.joined(separator: ", ")
        if process.isHeapdiff, traced.count == 1 {
            Console.note("process \(process.pid) is heapdiff itself; asking the program it runs, process \(named)")
            return traced[0]
        }
        guard !traced.isEmpty else { return process }
        throw CommandError(message: "process \(process.pid) is not running under heapdiff (no libheapdiff.so in "
            + "/proc/\(process.pid)/maps); its \(traced.count == 1 ? "child" : "children") \(named) "
            + "\(traced.count == 1 ? "is" : "are"): heapdiff snapshot \(traced[0].pid)")
    }

    /// Through the pipe of the `heapdiff attach` session recording the process.
    private func snapshotAttached(session: String, pid: Int32) throws {
        let directory = URL(fileURLWithPath: session).deletingLastPathComponent().path
        let before = try snapshots(in: directory, pid: pid).last?.seq ?? 0
        var text = String((label ?? "").map { $0.isNewline ? " " : $0 })   // one command a line
        while text.utf8.count > 255 { text.removeLast() }                   // the recorder keeps 255 bytes
        guard AttachChannel.send("snapshot " + text, toSessionAt: session) else {
            throw CommandError(message: "the heapdiff attach session of process \(pid) is not reading \(session)", status: 1)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let new = try snapshots(in: directory, pid: pid).last, new.seq > before {
                print(new.path)
                return
            }
            usleep(20_000)
        }
        throw CommandError(message: "process \(pid) wrote no snapshot in \(directory) within \(String(format: "%g", timeout)) s",
                           status: 1)
    }

    private func snapshots(in directory: String, pid: Int32) throws -> [(path: String, seq: UInt32)] {
        do {
            return try SnapshotDirectory.snapshots(in: directory, pid: pid)
        } catch {
            throw CommandError(message: "cannot list \(directory): \(error.localizedDescription)")
        }
    }
}
