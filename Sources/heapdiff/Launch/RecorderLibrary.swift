import Foundation

/// Finds `libheapdiff.so`, the recorder that `run` preloads into programs.
enum RecorderLibrary {
    static let fileName = "libheapdiff.so"
    /// The same recorder built to be loaded into a running process (`heapdiff attach`).
    static let attachFileName = "libheapdiff-attach.so"

    /// libheapdiff-attach.so beside libheapdiff.so, wherever that is found.
    static func locateAttach(environment: [String: String]) throws -> String {
        let preload = try locate(environment: environment)
        let path = URL(fileURLWithPath: preload).deletingLastPathComponent().appendingPathComponent(attachFileName).path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CommandError(message: "cannot find \(attachFileName) beside \(preload); build it with `make`")
        }
        return path
    }

    /// Looks in `HEAPDIFF_LIBRARY`, then beside the heapdiff executable
    /// (where `make` puts it), then in `../lib/heapdiff/` (an installed tree).
    /// Returns an absolute path, since the program may change directory.
    static func locate(environment: [String: String]) throws -> String {
        if let explicit = environment["HEAPDIFF_LIBRARY"], !explicit.isEmpty {
            guard FileManager.default.isReadableFile(atPath: explicit) else {
                throw CommandError(message: "HEAPDIFF_LIBRARY=\(explicit): no readable file there")
            }
            return absolute(explicit)
        }
        let candidates = executableDirectory().map { directory in
            [directory + "/" + fileName, directory + "/../lib/heapdiff/" + fileName]
        } ?? []
        if let found = candidates.first(where: FileManager.default.isReadableFile(atPath:)) {
            return URL(fileURLWithPath: found).standardizedFileURL.path
        }
        throw CommandError(message: "cannot find \(fileName) (looked in \(candidates.joined(separator: ", "))); "
            + "build it with `make`, or set HEAPDIFF_LIBRARY to its path")
    }

    /// The directory of the running heapdiff binary, through symbolic links.
    private static func executableDirectory() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }

    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
    }
}
