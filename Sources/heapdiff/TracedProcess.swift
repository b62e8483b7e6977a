import Foundation
import HeapDiffKit

/// What /proc tells about a process that `snapshot` could not reach.
struct TracedProcess {
    var pid: Int32

    private var procDirectory: String { "/proc/\(pid)" }

    var exists: Bool { FileManager.default.fileExists(atPath: procDirectory) }

    /// Whether the recorder is mapped in; nil when the maps cannot be read
    /// (another user's process).
    func loadsRecorder() -> Bool? {
        guard let bytes = try? FileBytes.read(path: procDirectory + "/maps") else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains { line in
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last else { return false }
            let name = path.split(separator: "/").last ?? path
            return name.hasPrefix("libheapdiff") && name.contains(".so")
        }
    }
}
