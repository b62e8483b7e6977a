import ArgumentParser
import HeapDiffKit

/// How statistics are grouped and how many are shown: shared by `run`,
/// `top` and `diff`.
struct GroupingOptions: ParsableArguments {
    @Option(name: .customLong("group-by"),
            help: ArgumentHelp("Group by source line, function, source file or whole call stack.", valueName: "key"))
    var keyType: KeyType = .lineno

    @Option(help: "Show at most this many rows; 0 shows them all.")
    var limit: Int = 10

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more, not \(limit)") }
    }

    /// The rows to show out of `rows`.
    func limited<Row>(_ rows: [Row]) -> [Row] {
        limit == 0 ? rows : Array(rows.prefix(limit))
    }
}

extension KeyType: ExpressibleByArgument {}

/// How `top` and `diff` print their result.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
    case text
    case json
}
