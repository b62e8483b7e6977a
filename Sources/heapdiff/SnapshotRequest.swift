import Glibc

/// The file that carries a label to the recorder along with the snapshot
/// signal: `<output dir>/.heapdiff-request.<PID>`, read and removed by the
/// recorder when the signal arrives.
struct SnapshotRequest {
    var directory: String
    var pid: Int32

    var path: String { "\(directory)/.heapdiff-request.\(pid)" }

    /// Created exclusively, without following links, readable by the owner
    /// only: the directory may be shared, and the recorder trusts the file.
    func write(label: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST {
                throw CommandError(message: "\(path) exists: another snapshot request for process \(pid) is pending "
                    + "(remove the file if it is stale)")
            }
            throw CommandError(message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var remaining = Array(label.utf8)[...]
        while !remaining.isEmpty {
            let written = remaining.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let reason = String(cString: strerror(errno))
                withdraw()
                throw CommandError(message: "cannot write \(path): \(reason)")
            }
            remaining = remaining.dropFirst(written)
        }
    }

    /// Removes a request the recorder did not pick up, so that its label is
    /// not given to some later snapshot.
    func withdraw() {
        unlink(path)
    }
}
