import Foundation
import Glibc
import HeapDiffKit

/// The two FIFOs between `heapdiff attach` and the recorder it loaded
/// (Sources/HeapDiffRecorder/attach.c): commands go in (`detach`,
/// `snapshot LABEL`), status lines come out (`attached SEQ SLOTS MODULES`,
/// `snapshot SEQ`, `detached SEQ`, `error TEXT`, and the recorder's warnings).
///
/// They sit beside the snapshots as `.heapdiff-attach.PID.in` and `.out`,
/// where the process already has to be able to write. heapdiff holds both
/// open read-write, so the recorder's opens never block and its writes never
/// raise SIGPIPE; when heapdiff ends, however it ends, the last writer of
/// `.in` is gone and the recorder detaches by itself.
final class AttachChannel {
    let directory: String
    let pid: Int32
    private var commands: Int32 = -1
    private var status: Int32 = -1
    private var partial: [UInt8] = []

    static let prefix = ".heapdiff-attach."

    static func commandsPath(directory: String, pid: Int32) -> String { "\(directory)/\(prefix)\(pid).in" }
    static func statusPath(directory: String, pid: Int32) -> String { "\(directory)/\(prefix)\(pid).out" }
    var commandsPath: String { Self.commandsPath(directory: directory, pid: pid) }
    var statusPath: String { Self.statusPath(directory: directory, pid: pid) }

    /// Creates both FIFOs (mode 0600, owned by `owner` when heapdiff runs as
    /// root for another user's process) and opens them.
    init(directory: String, pid: Int32, owner: (uid: uid_t, gid: gid_t)?) throws {
        self.directory = directory
        self.pid = pid
        for path in [commandsPath, statusPath] {
            unlink(path)   // a stale pair from a session that was killed
            guard mkfifo(path, 0o600) == 0 else {
                throw CommandError(message: "cannot create \(path): \(String(cString: strerror(errno)))", status: 1)
            }
            if let owner, chown(path, owner.uid, owner.gid) != 0 {
                throw CommandError(message: "cannot give \(path) to user \(owner.uid): \(String(cString: strerror(errno)))",
                                   status: 1)
            }
        }
        commands = open(commandsPath, O_RDWR | O_CLOEXEC)
        status = open(statusPath, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard commands >= 0, status >= 0 else {
            let reason = String(cString: strerror(errno))
            close()
            throw CommandError(message: "cannot open \(commandsPath): \(reason)", status: 1)
        }
    }

    deinit { close() }

    /// The request heapdiff_attach() is given: where the FIFOs and snapshots are.
    func request(interval: Double?, depth: Int?, sample: UInt64? = nil) -> String {
        // SEQ must go on after the process's files already in the directory, whichever recorder wrote them.
        let after = (try? SnapshotDirectory.snapshots(in: directory, pid: pid).last?.seq) ?? nil
        var lines = ["in=\(commandsPath)", "out=\(statusPath)", "output=\(directory)", "after=\(after ?? 0)"]
        if let interval { lines.append("interval=\(interval)") }
        if let depth { lines.append("depth=\(depth)") }
        if let sample, sample > 0 { lines.append("sample=\(sample)") }
        return lines.joined(separator: "\n")
    }

    @discardableResult
    func send(_ command: String) -> Bool {
        let bytes = Array((command + "\n").utf8)
        return bytes.withUnsafeBytes { Glibc.write(commands, $0.baseAddress, $0.count) } == bytes.count
    }

    /// The complete status lines that arrive within `timeout` seconds
    /// (returns as soon as there is at least one).
    func receive(timeout: Double) -> [String] {
        var poller = pollfd(fd: status, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(max(0, timeout * 1000))) > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(status, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            partial += buffer[0..<n]
        }
        var lines: [String] = []
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: partial[..<newline], as: UTF8.self))
            partial.removeSubrange(...newline)
        }
        return lines
    }

    /// Closes heapdiff's ends and removes the FIFOs.
    func close() {
        if commands >= 0 { Glibc.close(commands); commands = -1 }
        if status >= 0 { Glibc.close(status); status = -1 }
        unlink(commandsPath)
        unlink(statusPath)
    }

    /// The commands FIFO of the session attached to `process`, found among
    /// the files the process holds open (the recorder keeps it open for as
    /// long as it is attached).
    static func commandsPath(of process: TracedProcess) -> String? {
        let suffix = "/\(prefix)\(process.pid).in"
        return process.openFiles().first { $0.hasSuffix(suffix) }
    }

    /// Sends one command to the session attached to a process, as
    /// `heapdiff snapshot PID` does; false when nobody reads the FIFO.
    static func send(_ command: String, toSessionAt path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        let bytes = Array((command + "\n").utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }
}
