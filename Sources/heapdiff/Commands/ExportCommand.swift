import ArgumentParser
import Foundation
import HeapDiffKit

/// `heapdiff export SNAPSHOT --format folded|pprof`: a snapshot for flame
/// graph tools or pprof.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a snapshot as folded stacks (flame graphs) or a pprof profile.",
        discussion: """
            --format folded writes Brendan Gregg's folded stacks, one line per distinct call stack: the \
            frames from the outermost (main) to the innermost (the allocator's caller) separated by ';', \
            then a space and the live bytes. Feed it to flamegraph.pl, inferno-flamegraph or speedscope:

              heapdiff export app.42.3.heapsnap --format folded | flamegraph.pl > heap.svg

            Inlined calls are frames of their own; a frame without a function name is shown as \
            module+0xOFFSET. Stacks that symbolize to the same names are merged, lines are sorted by \
            stack, and stacks with no live bytes are left out. Output goes to standard output unless -o.

            --format pprof writes a gzipped pprof profile (profile.proto) for `pprof -http=: FILE`, \
            `go tool pprof` or any viewer that reads pprof: sample types alloc_objects, alloc_space, \
            inuse_objects and inuse_space (the default), one location per return address at its \
            module-relative address with its inlined frames as lines, and one mapping per module with \
            its build-id. It is written to -o FILE, by default SNAPSHOT's name with .pb.gz in place of \
            .heapsnap in the current directory ('-o -' writes it to standard output).

            A snapshot recorded with --sample holds estimates, and the exported values are those \
            estimates (a pprof profile says so in its comment); --base refuses a snapshot recorded at \
            another rate unless --rescale, as `diff` does.

            With --base OLD, the export is of the growth from OLD to SNAPSHOT. Folded stacks keep only \
            the stacks that grew, by how much (a flame graph cannot draw a negative width); a pprof \
            profile holds new minus old for every value of every stack, negative where it shrank.

            Given the directory a run wrote, export takes its main process's latest snapshot, as top \
            does (--pid chooses another process).
            """
    )

    enum Format: String, CaseIterable, ExpressibleByArgument {
        case folded
        case pprof
    }

    @Argument(help: "A snapshot file (.heapsnap), or a directory of them.")
    var snapshot: String

    @Option(help: "With a directory: the process whose snapshots to use.")
    var pid: Int32?

    @Option(help: ArgumentHelp("Export the growth since this earlier snapshot.", valueName: "old"))
    var base: String?

    @Option(help: ArgumentHelp("folded (flame graph stacks) or pprof (gzipped profile.proto).", valueName: "format"))
    var format: Format

    @Option(name: .shortAndLong,
            help: ArgumentHelp("Write to this file ('-' for standard output).", valueName: "file"))
    var output: String?

    @Flag(name: .customLong("raw-symbols"), help: "Show function names as mangled in the symbol table.")
    var rawSymbols = false

    @Flag(help: "With --base: compare snapshots recorded at different sampling rates (or sampled and not) anyway.")
    var rescale = false

    func run() throws {
        let path = try SnapshotsInDirectory.snapshot(snapshot, pid: pid)
        let loaded = try Snapshot.load(path: path)
        let old = try base.map { try Snapshot.load(path: $0) }
        if let old, !rescale, let mismatch = SampleRateMismatch(old: old, new: loaded) {
            throw CommandError(message: mismatch.description)
        }
        let symbolizer = Symbolizer(demangles: !rawSymbols)
        let bytes: [UInt8]
        switch format {
        case .folded:
            let lines = FoldedStacks.lines(of: loaded, base: old, symbolizer: symbolizer)
            bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
        case .pprof:
            bytes = try PprofExport.gzippedProfile(of: loaded, base: old, symbolizer: symbolizer)
        }
        symbolizer.warnings.forEach { Console.warning($0) }
        let destination = output ?? (format == .pprof ? Self.profileName(of: path) : "-")
        if destination == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        try OutputFile.write(bytes, to: destination, atomically: false)
        if format == .pprof && output == nil {
            Console.note("wrote \(destination)")
        }
    }

    /// `server.4242.3.pb.gz` for `dir/server.4242.3.heapsnap` (or `.heapsnap.gz`).
    private static func profileName(of snapshot: String) -> String {
        var name = URL(fileURLWithPath: snapshot).lastPathComponent
        for suffix in [SnapshotFileName.compressedSuffix, SnapshotFileName.suffix] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
            break
        }
        return name + ".pb.gz"
    }
}
