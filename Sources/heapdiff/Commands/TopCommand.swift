import ArgumentParser
import HeapDiffKit

/// `heapdiff top SNAPSHOT`: where the live heap of one snapshot comes from.
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

            """ + OutputOptions.discussion + GroupingOptions.discussion
    )

    @Argument(help: "A snapshot file (.heapsnap).")
    var snapshot: String

    @OptionGroup var grouping: GroupingOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        let loaded = try Snapshot.load(path: snapshot)
        try ReportPrinter(grouping: grouping, options: output).printTop(loaded)
    }
}
