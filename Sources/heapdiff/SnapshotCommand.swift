import ArgumentParser
import Foundation
import HeapDiffKit

/// `heapdiff snapshot PID`: makes a running, traced program take a snapshot now.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Make a program running under heapdiff take a snapshot now.",
        discussion: """
            Sends the snapshot signal to process PID, waits until the recorder has written the new snapshot, \
            and prints its path on standard output, ready for `heapdiff diff`:

              old=$(heapdiff snapshot 4242 --label before)
              … exercise the program …
              new=$(heapdiff snapshot 4242 --label after)
              heapdiff diff "$old" "$new"

            The process must have been started by `heapdiff run` (or with LD_PRELOAD=libheapdiff.so): \
            heapdiff checks /proc/PID/maps for the recorder and refuses otherwise, because the default \
            action of the snapshot signal is to kill the process. The signal (SIGUSR2 unless \
            HEAPDIFF_SIGNAL says otherwise) and the output directory (HEAPDIFF_OUTPUT, else the process's \
            working directory) are read from the process's environment.

            A process that `heapdiff attach` is recording gets no signal: the request goes through the \
            attach session's pipe, and the snapshot lands in that session's directory.
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
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() throws {
        let process = TracedProcess(pid: pid)
        if let session = AttachChannel.commandsPath(of: process) {
            return try snapshotAttached(session: session)
        }
        guard try process.loadsRecorder() else {
            throw CommandError(message: "process \(pid) is not running under heapdiff (no libheapdiff.so in /proc/\(pid)/maps)")
        }
        let environment = try process.environment()
        let signalNumber = try snapshotSignal(environment)
        let directory = try outputDirectory(environment, process: process)

        let before = try snapshots(in: directory).last?.seq ?? 0
        let request = SnapshotRequest(directory: directory, pid: pid)
        if let label { try request.write(label: label) }

        guard kill(pid, signalNumber) == 0 else {
            let reason = String(cString: strerror(errno))
            if label != nil { request.withdraw() }
            throw CommandError(message: "cannot signal process \(pid): \(reason)", status: 1)
        }

        guard try waitForSnapshot(in: directory, after: before) else {
            if label != nil { request.withdraw() }
            throw CommandError(message: "process \(pid) wrote no snapshot in \(directory) within \(String(format: "%g", timeout)) s", status: 1)
        }
    }

    /// Through the pipe of the `heapdiff attach` session recording the process.
    private func snapshotAttached(session: String) throws {
        let directory = URL(fileURLWithPath: session).deletingLastPathComponent().path
        let before = try snapshots(in: directory).last?.seq ?? 0
        var text = String((label ?? "").map { $0.isNewline ? " " : $0 })   // one command a line
        while text.utf8.count > 255 { text.removeLast() }                   // the recorder keeps 255 bytes
        guard AttachChannel.send("snapshot " + text, toSessionAt: session) else {
            throw CommandError(message: "the heapdiff attach session of process \(pid) is not reading \(session)", status: 1)
        }
        guard try waitForSnapshot(in: directory, after: before) else {
            throw CommandError(message: "process \(pid) wrote no snapshot in \(directory) within \(String(format: "%g", timeout)) s", status: 1)
        }
    }

    /// Prints the path of the first snapshot after SEQ `before`; false after --timeout.
    private func waitForSnapshot(in directory: String, after before: UInt32) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let new = try snapshots(in: directory).last, new.seq > before {
                print(new.path)
                return true
            }
            usleep(20_000)
        }
        return false
    }

    private func snapshotSignal(_ environment: [String: String]) throws -> Int32 {
        let text = environment["HEAPDIFF_SIGNAL"] ?? ""
        switch text.isEmpty ? SnapshotSignal.standard : SnapshotSignal(text) {
        case .signal(let number):
            return number
        case .off:
            throw CommandError(message: "process \(pid) has the snapshot signal turned off (HEAPDIFF_SIGNAL=\(text))")
        case nil:
            throw CommandError(message: "process \(pid) has HEAPDIFF_SIGNAL=\(text), which is not a snapshot signal")
        }
    }

    /// As the recorder resolves it: HEAPDIFF_OUTPUT, relative to the
    /// process's working directory, which is also the default.
    private func outputDirectory(_ environment: [String: String], process: TracedProcess) throws -> String {
        let configured = environment["HEAPDIFF_OUTPUT"] ?? ""
        if configured.hasPrefix("/") { return configured }
        let workingDirectory = try process.workingDirectory()
        return configured.isEmpty || configured == "." ? workingDirectory : workingDirectory + "/" + configured
    }

    private func snapshots(in directory: String) throws -> [(path: String, seq: UInt32)] {
        do {
            return try SnapshotDirectory.snapshots(in: directory, pid: pid)
        } catch {
            throw CommandError(message: "cannot list \(directory): \(error.localizedDescription)")
        }
    }
}
