import Foundation

/// Why a snapshot file could not be loaded.
///
/// Each case prints as one line that names the file first, so the command
/// line can show it as is: `x.heapsnap: corrupt: checksum mismatch`.
public enum SnapshotError: Error, Equatable, Sendable {
    /// The file could not be opened or read; `reason` is the system's message.
    case cannotOpen(path: String, reason: String)
    case empty(path: String)
    /// The file does not start with the snapshot magic.
    case notASnapshot(path: String)
    case unsupportedVersion(path: String, version: UInt32)
    /// The file ends before its END record: still being written, or cut short.
    case truncated(path: String, reason: String, fileSize: Int)
    /// The file is complete but inconsistent: its checksum, counts or lengths are wrong.
    case corrupt(path: String, reason: String)

    public var path: String {
        switch self {
        case .cannotOpen(let path, _), .empty(let path), .notASnapshot(let path),
             .unsupportedVersion(let path, _), .truncated(let path, _, _), .corrupt(let path, _):
            return path
        }
    }
}

extension SnapshotError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "\(path): cannot open: \(reason)"
        case .empty(let path):
            return "\(path): empty file"
        case .notASnapshot(let path):
            return "\(path): not a heapdiff snapshot (bad magic)"
        case .unsupportedVersion(let path, let version):
            let known = FormatLayout.versions
            return "\(path): unsupported format version \(version) (this heapdiff reads versions \(known.lowerBound) to \(known.upperBound))"
        case .truncated(let path, let reason, let fileSize):
            return "\(path): truncated: \(reason) (file is \(fileSize) bytes)"
        case .corrupt(let path, let reason):
            return "\(path): corrupt: \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
