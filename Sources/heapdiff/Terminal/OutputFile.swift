import Foundation

/// A file that `export` or `report` writes whole, with the system's own
/// reason when it cannot (`cannot write x.html: No such file or directory`):
/// Foundation's errors say "The operation could not be completed" or
/// "NSCocoaErrorDomain error 512", which tells the user nothing.
enum OutputFile {
    /// Writes `bytes` to `path`. `atomically`: under a temporary name beside
    /// it, then renamed, so a reader (a browser reloading the page) never
    /// sees half a file; otherwise in place, so that a device or a pipe
    /// (`-o /dev/stdout`) works too.
    static func write(_ bytes: [UInt8], to path: String, atomically: Bool) throws {
        let target = atomically ? temporaryName(for: path) : path
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (atomically ? O_EXCL : 0), 0o666)
        guard fd >= 0 else { throw failure(path, errno) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = n < 0 ? errno : EIO
                close(fd)
                if atomically { unlink(target) }
                throw failure(path, error)
            }
            written += n
        }
        guard close(fd) == 0 else {
            let error = errno
            if atomically { unlink(target) }
            throw failure(path, error)
        }
        if atomically && rename(target, path) != 0 {
            let error = errno
            unlink(target)
            throw failure(path, error)
        }
    }

    /// `dir/.report.html.4242.tmp` for `dir/report.html`: hidden, in the same
    /// directory (a rename never crosses file systems), one per process.
    private static func temporaryName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        return directory + "/." + url.lastPathComponent + ".\(getpid()).tmp"
    }

    private static func failure(_ path: String, _ error: Int32) -> CommandError {
        CommandError(message: "cannot write \(path): \(String(cString: strerror(error)))", status: 1)
    }
}
