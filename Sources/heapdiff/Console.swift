import Foundation

/// heapdiff's own messages, which go to standard error so that standard
/// output carries only results (and, under `run`, only the program's output).
enum Console {
    static func error(_ message: String) {
        printToStandardError("heapdiff: error: " + message)
    }

    static func warning(_ message: String) {
        printToStandardError("heapdiff: warning: " + message)
    }

    static func note(_ message: String) {
        printToStandardError("heapdiff: " + message)
    }

    static func printToStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
