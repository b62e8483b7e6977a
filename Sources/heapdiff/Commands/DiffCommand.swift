import ArgumentParser
import HeapDiffKit

/// `heapdiff diff OLD NEW | DIR`: what grew between two snapshots.
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

            Given the directory a run wrote instead of two files, diff compares the first and the last \
            snapshot of its main process as run's summary does (the exit snapshot, taken after destructors \
            ran, is left out once the program took two of its own) and names them on stderr; --pid \
            chooses another process, as for trend.

            """ + OutputOptions.discussion + GroupingOptions.discussion
    )

    @Argument(help: "The earlier snapshot, or a directory of snapshots.")
    var old: String

    @Argument(help: "The later snapshot (none after a directory).")
    var new: String?

    @Option(help: "With a directory: the process whose snapshots to use.")
    var pid: Int32?

    @Flag(help: "Compare snapshots recorded at different sampling rates (or sampled and not) anyway.")
    var rescale = false

    @OptionGroup var grouping: GroupingOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        let paths = try snapshotPaths()
        let before = try Snapshot.load(path: paths.old)
        let after = try Snapshot.load(path: paths.new)
        if !rescale, let mismatch = SampleRateMismatch(old: before, new: after) {
            throw CommandError(message: mismatch.description)
        }
        try ReportPrinter(grouping: grouping, options: output).printDiff(old: before, new: after)
    }

    private func snapshotPaths() throws -> (old: String, new: String) {
        guard SnapshotsInDirectory.isDirectory(old) else {
            guard let new else {
                throw CommandError(message: "\(old): diff takes two snapshot files, or one directory of them")
            }
            return (old, new)
        }
        if let new {
            throw CommandError(message: "\(old) is a directory: diff takes it alone (it compares its first and last "
                               + "snapshots), or two snapshot files, not \(new) beside it")
        }
        return try SnapshotsInDirectory.comparison(in: old, pid: pid)
    }
}
