import Glibc

/// Reads a whole file with plain system calls, so that a failure can be
/// reported in the system's own words ("No such file or directory"), and so
/// that files whose size the kernel does not report (/proc) read in full.
public enum FileBytes {
    public struct ReadError: Error, Equatable, Sendable {
        public var path: String
        /// `strerror` of the failing call.
        public var reason: String
    }

    public static func read(path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(path) }
        defer { close(fd) }

        // A regular file is read straight into an array of its size: a
        // snapshot of many stacks is tens of MiB, and growing an array chunk
        // by chunk would copy it several times over.
        var status = stat()
        var expected = 0
        if fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0 {
            expected = Int(status.st_size)
        }
        var failed = false
        var bytes = [UInt8](unsafeUninitializedCapacity: expected) { buffer, initialized in
            while initialized < expected {
                let got = Glibc.read(fd, buffer.baseAddress! + initialized, expected - initialized)
                if got < 0 {
                    if errno == EINTR { continue }
                    failed = true
                    return
                }
                if got == 0 { return }  // the file shrank: what was read is all there is
                initialized += got
            }
        }
        if failed { throw failure(path) }
        if bytes.count < expected { return bytes }

        // Files whose size the kernel does not report, or that grew meanwhile.
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw failure(path)
            }
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<got])
        }
    }

    /// The first `limit` bytes of a file (fewer when it is shorter).
    public static func read(path: String, limit: Int) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(path) }
        defer { close(fd) }
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: max(limit, 0)) { buffer, initialized in
            while initialized < limit {
                let got = Glibc.read(fd, buffer.baseAddress! + initialized, limit - initialized)
                if got < 0 {
                    if errno == EINTR { continue }
                    failed = true
                    return
                }
                if got == 0 { return }
                initialized += got
            }
        }
        if failed { throw failure(path) }
        return bytes
    }

    private static func failure(_ path: String) -> ReadError {
        ReadError(path: path, reason: String(cString: strerror(errno)))
    }
}
