import Foundation
import HeapDiffKit

/// heapdiff's own messages, which go to standard error so that standard
/// output carries only results (and, under `run`, only the program's output).
/// `error:` and `warning:` are coloured when standard error is a terminal,
/// unless NO_COLOR is set.
enum Console {
    static func error(_ message: String) {
        printToStandardError("heapdiff: " + paint("error:", code: "1;31") + " " + message)
    }

    static func warning(_ message: String) {
        printToStandardError("heapdiff: " + paint("warning:", code: "1;33") + " " + message)
    }

    static func note(_ message: String) {
        printToStandardError("heapdiff: " + message)
    }

    static func printToStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private static let isColored = ColorMode.auto.isEnabled(
        isTerminal: isatty(STDERR_FILENO) == 1, environment: ProcessInfo.processInfo.environment)

    private static func paint(_ text: String, code: String) -> String {
        isColored ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
