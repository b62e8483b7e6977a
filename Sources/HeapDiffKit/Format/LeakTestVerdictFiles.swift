import HeapDiffFormat
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The verdicts files of an output directory, `leak-tests.PID.verdicts`: a
/// harness appends to its process's own file, `heapdiff check` and `run`
/// read what a run added to them all.
public enum LeakTestVerdictFiles {
    /// `leak-tests.PID.verdicts`.
    public static func name(pid: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = hd_verdicts_file_name(&buffer, buffer.count, pid)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The writing process's pid, when `name` is a verdicts file's.
    public static func pid(ofFile name: String) -> Int32? {
        let pid = hd_verdicts_file_pid(name)
        return pid > 0 ? pid : nil
    }

    /// Appends `verdict` to process `pid`'s file in `directory`, as one
    /// `write` on an `O_APPEND` descriptor: records of other threads and
    /// processes never interleave with it.
    public static func append(_ verdict: LeakTestVerdict, directory: String, pid: Int32 = getpid()) throws {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(name(pid: pid)).path
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VerdictFileError(path: path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(verdict.line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw VerdictFileError(path: path, errno: written < 0 ? errno : EIO) }
    }

    /// How far each verdicts file in a directory went before a run, so that
    /// only the records the run adds are read (an `--output` directory may
    /// hold earlier runs' files, and a pid may come again).
    public struct Mark: Sendable {
        fileprivate var ends: [String: (device: UInt64, inode: UInt64, size: Int64)] = [:]

        /// Nothing before: every record is read.
        public static let none = Mark()
    }

    public static func mark(directory: String) -> Mark {
        var mark = Mark()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where pid(ofFile: name) != nil {
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0 else { continue }
            mark.ends[name] = (UInt64(info.st_dev), UInt64(info.st_ino), Int64(info.st_size))
        }
        return mark
    }

    /// The records added to `directory`'s verdicts files since `mark`, by
    /// pid, in each file's order; and what was passed over, in one line each
    /// (a file of another user, a malformed line).
    public static func load(directory: String, since mark: Mark = .none)
        -> (verdicts: [LeakTestVerdict], problems: [String]) {
        var verdicts: [LeakTestVerdict] = []
        var problems: [String] = []
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .compactMap { name in pid(ofFile: name).map { (name: name, pid: $0) } }
            .sorted { $0.pid < $1.pid }
        for file in names {
            let path = directory.hasSuffix("/") ? directory + file.name : directory + "/" + file.name
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else {
                problems.append("cannot read \(path): \(String(cString: strerror(errno)))")
                continue
            }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                problems.append("\(path) is not a regular file; its verdicts are ignored")
                continue
            }
            guard info.st_uid == geteuid() else {
                problems.append("\(path) belongs to uid \(info.st_uid), not to this user; its verdicts are ignored")
                continue
            }
            var start: Int64 = 0
            if let before = mark.ends[file.name], before.device == UInt64(info.st_dev),
               before.inode == UInt64(info.st_ino), before.size <= Int64(info.st_size) {
                start = before.size
            }
            guard let text = read(fd, from: start, size: Int64(info.st_size)) else {
                problems.append("cannot read \(path): \(String(cString: strerror(errno)))")
                continue
            }
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()   // after the last newline: nothing, or a line still being written
            for line in lines where !line.isEmpty {
                if let verdict = LeakTestVerdict(line: line, pid: file.pid) {
                    verdicts.append(verdict)
                } else {
                    problems.append("\(path): not a verdict record: \(line.prefix(80))")
                }
            }
        }
        return (verdicts, problems)
    }

    private static func read(_ fd: Int32, from start: Int64, size: Int64) -> String? {
        guard size > start else { return "" }
        var bytes = [UInt8](repeating: 0, count: Int(size - start))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(start) + off_t(done)) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            done += n
        }
        return String(decoding: bytes.prefix(done), as: UTF8.self)
    }
}

/// A verdicts file could not be written.
public struct VerdictFileError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32

    public var description: String { "cannot record a verdict in \(path): \(String(cString: strerror(errno)))" }
}
