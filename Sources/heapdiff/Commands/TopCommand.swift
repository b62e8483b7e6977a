import ArgumentParser
import HeapDiffKit

/// `heapdiff top SNAPSHOT|DIR`: where the live heap of one snapshot comes from.
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Show the allocation sites holding the most live memory in a snapshot.",
        discussion: """
            Groups the snapshot's live blocks by allocation site and prints the largest groups first, \
            like tracemalloc's Snapshot.statistics():

              server.c:42: size=12.3 MiB, count=1000, average=12.6 KiB
              total: 14.0 MiB in 1,532 blocks

            size is the live bytes of the group, count its live blocks. The allocation site is the first \
            frame of the call stack outside allocator plumbing (see below), so that a malloc wrapper like \
            strdup or operator new is charged to its caller. Source paths under the \
            current directory are shown relative to it.

            Given the directory a run wrote, top reads its main process's latest snapshot (the one a \
            diff would end with: the last the program took itself, not the exit snapshot taken after \
            destructors ran) and names it on stderr; --pid chooses another process, as for trend.

            """ + OutputOptions.discussion + GroupingOptions.discussion
    )

    @Argument(help: "A snapshot file (.heapsnap), or a directory of them.")
    var snapshot: String

    @Option(help: "With a directory: the process whose snapshots to use.")
    var pid: Int32?

    @OptionGroup var grouping: GroupingOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        let path = try SnapshotsInDirectory.snapshot(snapshot, pid: pid)
        let loaded = try Snapshot.load(path: path)
        try ReportPrinter(grouping: grouping, options: output).printTop(loaded)
    }
}
