import Foundation
import HeapDiffKit

/// What /proc tells about a running process that `snapshot` is asked to signal.
struct TracedProcess {
    var pid: Int32

    private var procDirectory: String { "/proc/\(pid)" }

    /// Whether the preloaded recorder is mapped in: only then does the snapshot
    /// signal have a handler, rather than its default action of killing the
    /// process. (libheapdiff-attach.so, which `heapdiff attach` loads, installs none.)
    func loadsRecorder() throws -> Bool {
        try mappedLibraryNames().contains { $0.hasPrefix("libheapdiff") && !$0.hasPrefix(RecorderLibrary.attachFileName) }
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

    /// The environment the process started with.
    func environment() throws -> [String: String] {
        var environment: [String: String] = [:]
        for entry in try read("environ").split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return environment
    }

    func workingDirectory() throws -> String {
        do {
            return try FileManager.default.destinationOfSymbolicLink(atPath: procDirectory + "/cwd")
        } catch {
            throw CommandError(message: "cannot read \(procDirectory)/cwd: \(error.localizedDescription)")
        }
    }

    private func read(_ name: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: procDirectory) else {
            throw CommandError(message: "no process \(pid)")
        }
        do {
            return try FileBytes.read(path: procDirectory + "/" + name)
        } catch {
            throw CommandError(message: "cannot read \(error.path): \(error.reason)")
        }
    }
}
