import Foundation
import HeapDiffKit

/// What /proc tells about a process: whether `snapshot` can reach a
/// recorder in it, and what `attach` checks before it stops anything.
struct TracedProcess {
    var pid: Int32

    private var procDirectory: String { "/proc/\(pid)" }

    var exists: Bool { FileManager.default.fileExists(atPath: procDirectory) }

    /// Whether the preloaded recorder (libheapdiff.so, which answers on its
    /// control socket) is mapped in; nil when the maps cannot be read
    /// (another user's process). libheapdiff-attach.so, which `heapdiff
    /// attach` loads, does not count: it answers through its session's pipe.
    func loadsRecorder() -> Bool? {
        guard let names = try? mappedLibraryNames() else { return nil }
        return names.contains { $0.hasPrefix("libheapdiff") && !$0.hasPrefix(RecorderLibrary.attachFileName) }
    }

    /// Why the process's maps cannot be read (`cannot read /proc/PID/maps:
    /// Permission denied`), or nil when they can.
    func mapsUnreadable() -> String? {
        do {
            _ = try read("maps")
            return nil
        } catch let error as CommandError {
            return error.message
        } catch {
            return "cannot read /proc/\(pid)/maps"
        }
    }

    /// The file names of the ELF objects mapped into the process.
    func mappedLibraryNames() throws -> Set<String> {
        let maps = String(decoding: try read("maps"), as: UTF8.self)
        return Set(maps.split(separator: "\n").compactMap { line -> String? in
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasPrefix("/"),
                  path.contains(".so") else { return nil }
            return String(path.split(separator: "/").last ?? path)
        })
    }

    /// The process's children, from every thread's /proc/PID/task/TID/children
    /// (empty when unreadable).
    func children() -> [TracedProcess] {
        let tasks = procDirectory + "/task"
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: tasks) else { return [] }
        var pids: Set<Int32> = []
        for thread in threads {
            guard let bytes = try? FileBytes.read(path: "\(tasks)/\(thread)/children") else { continue }
            for field in String(decoding: bytes, as: UTF8.self).split(separator: " ") {
                if let child = Int32(field.trimmingCharacters(in: .whitespacesAndNewlines)) { pids.insert(child) }
            }
        }
        return pids.sorted().map { TracedProcess(pid: $0) }
    }

    /// Its children that record: with the recorder preloaded (`snapshot`
    /// reaches them by their control socket) or attached (by their session's pipe).
    func recordingChildren() -> [TracedProcess] {
        children().filter { $0.loadsRecorder() == true || AttachChannel.commandsPath(of: $0) != nil }
    }

    /// Whether the process is a heapdiff command (`heapdiff run`, say), by
    /// the name of its executable.
    var isHeapdiff: Bool {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: procDirectory + "/exe") else {
            return commandName() == "heapdiff"
        }
        return URL(fileURLWithPath: exe).lastPathComponent == "heapdiff"
    }

    /// Fields of /proc/PID/status, e.g. `State`, `TracerPid`, `Uid`.
    func status() throws -> [String: String] {
        var fields: [String: String] = [:]
        for line in String(decoding: try read("status"), as: UTF8.self).split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// Whether the process is gone, or a zombie waiting for its parent.
    var hasExited: Bool {
        guard let stat = try? FileBytes.read(path: procDirectory + "/stat"),
              let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count else { return true }
        return stat[close + 2] == UInt8(ascii: "Z") || stat[close + 2] == UInt8(ascii: "X")
    }

    /// The program's name as the kernel keeps it (`comm`, at most 15 bytes).
    func commandName() -> String? {
        guard let bytes = try? read("comm") else { return nil }
        let name = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }

    /// Where the process's open file descriptors lead (unreadable ones left out).
    func openFiles() -> [String] {
        let directory = procDirectory + "/fd"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + $0) }
    }

    /// The namespace the process is in, e.g. `pid:[4026531836]`, or nil when unreadable.
    func namespace(_ kind: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "\(procDirectory)/ns/\(kind)")
    }

    private func read(_ name: String) throws -> [UInt8] {
        guard exists else { throw CommandError(message: "no process \(pid)") }
        do {
            return try FileBytes.read(path: procDirectory + "/" + name)
        } catch {
            throw CommandError(message: "cannot read \(error.path): \(error.reason)")
        }
    }
}
