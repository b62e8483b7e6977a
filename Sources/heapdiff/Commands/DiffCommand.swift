import ArgumentParser
import HeapDiffKit

/// `heapdiff diff OLD NEW`: what grew between two snapshots.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show which allocation sites grew or shrank between two snapshots.",
        discussion: """
            Compares the live heap of NEW with that of OLD, group by group, like tracemalloc's \
            Snapshot.compare_to(), and prints the biggest changes first (by absolute size change):

              server.c:42: size=12.3 MiB (+10.1 MiB), count=1000 (+900), average=12.6 KiB
              total: 14.0 MiB (+10.2 MiB) in 1,532 blocks (+905)

            size and count are those of NEW; the numbers in parentheses are NEW minus OLD. A site that \
            steadily grows across snapshots of a long-running program is the usual sign of a leak.

            The two snapshots may come from different runs of the same build: frames are matched by \
            module and file offset, not by address. If a module was rebuilt since it was recorded, its \
            frames are shown as module+0xOFFSET and a warning says so.

            Snapshots recorded with --sample hold estimates: their figures are marked ~ and followed by \
            their standard error (±). Within one run, blocks live in both snapshots cancel out of the change, \
            so a change's error comes from the blocks allocated or freed in between. Two snapshots recorded \
            differently (sampled at different rates, or one sampled and one not) are refused, as their \
            figures carry different errors: --rescale compares them anyway, each side an unbiased \
            estimate at its own rate and each change's error both sides' together.

            """ + OutputOptions.discussion + GroupingOptions.discussion
    )

    @Argument(help: "The earlier snapshot.")
    var old: String

    @Argument(help: "The later snapshot.")
    var new: String

    @Flag(help: "Compare snapshots recorded at different sampling rates (or sampled and not) anyway.")
    var rescale = false

    @OptionGroup var grouping: GroupingOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        let before = try Snapshot.load(path: old)
        let after = try Snapshot.load(path: new)
        if !rescale, let mismatch = SampleRateMismatch(old: before, new: after) {
            throw CommandError(message: mismatch.description)
        }
        try ReportPrinter(grouping: grouping, options: output).printDiff(old: before, new: after)
    }
}
