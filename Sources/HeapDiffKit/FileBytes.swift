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

        var bytes: [UInt8] = []
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

    private static func failure(_ path: String) -> ReadError {
        ReadError(path: path, reason: String(cString: strerror(errno)))
    }
}
