import ArgumentParser
import Foundation
import HeapDiffKit

/// How `top` and `diff` print their result: the format, and for text
/// whether it is coloured.
struct OutputOptions: ParsableArguments {
    /// The part of `top`'s and `diff`'s help that explains these options.
    static let discussion = """
        --group-by traceback groups by the whole call stack and prints its frames below each row. \
        --format json prints one JSON object with full paths (docs/JSON.md), --format csv one row per \
        group; both are for programs. Text is coloured when standard output is a terminal, unless \
        NO_COLOR is set or --color never is given.


        """

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
