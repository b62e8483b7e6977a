import ArgumentParser
import Foundation
import HeapDiffKit

/// How `top` and `diff` print their result: the format, and for text
/// whether it is coloured.
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "text for people; json (docs/JSON.md) or csv (one row per statistic) for programs.",
        valueName: "format"))
    var format: ReportFormat = .text

    @Option(help: ArgumentHelp(
        "Colour the text: auto (when standard output is a terminal and NO_COLOR is unset), always or never.",
        valueName: "when"))
    var color: ColorMode = .auto

    /// The style of text written to standard output.
    var textStyle: TextStyle {
        let enabled = color.isEnabled(isTerminal: isatty(STDOUT_FILENO) == 1,
                                      environment: ProcessInfo.processInfo.environment)
        return enabled ? .colored : .plain
    }
}

/// The formats of `top` and `diff`.
enum ReportFormat: String, CaseIterable, ExpressibleByArgument {
    case text
    case json
    case csv
}

extension ColorMode: ExpressibleByArgument {}
