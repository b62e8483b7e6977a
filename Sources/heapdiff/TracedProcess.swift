import Foundation
import HeapDiffKit

/// What /proc tells about a running process that `snapshot` is asked to signal.
struct TracedProcess {
    var pid: Int32

    private var procDirectory: String { "/proc/\(pid)" }

    /// Whether the recorder is mapped in: only then does the snapshot signal
    /// have a handler, rather than its default action of killing the process.
    func loadsRecorder() throws -> Bool {
        let maps = String(decoding: try read("maps"), as: UTF8.self)
        return maps.split(separator: "\n").contains { line in
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last else { return false }
            let name = path.split(separator: "/").last ?? path
            return name.hasPrefix("libheapdiff") && name.contains(".so")
        }
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
