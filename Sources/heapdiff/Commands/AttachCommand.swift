import ArgumentParser
import Foundation
import HeapDiffKit

/// Ctrl-C, SIGTERM or SIGHUP during an attach: detach now and report. A
/// global because a C signal handler cannot capture anything.
nonisolated(unsafe) private var stopRequested: Int32 = 0

/// `heapdiff attach PID`: records a process that is already running, then leaves it as it was.
struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Record a running process for a while, then detach and report what grew.",
        discussion: """
            Loads the recorder (libheapdiff-attach.so) into process PID with gdb, which must be installed, \
            and points the process's malloc, calloc, realloc, free and aligned allocations at it, by rewriting \
            the GOT entries every loaded module calls them through (modules loaded later are switched over \
            within a tenth of a second); C++'s operator new and delete too where the allocator defines its own \
            (jemalloc, tcmalloc, mimalloc), and jemalloc's mallocx family where jemalloc is the allocator. \
            Blocks allocated before the attach are unknown: their frees are ignored, and their growth is not \
            seen.

            A baseline snapshot is taken right after attaching, one every --interval seconds, and a last one \
            after --duration seconds or on Ctrl-C. Then heapdiff detaches: the GOT entries get their original \
            functions back (once a session has sampled, frees given a size, C++'s sized delete and jemalloc's \
            sdallocx, stay with the recorder, which passes them to the allocator's free, and heapdiff says so) \
            and the recorder's thread ends; the library stays mapped, inert, and a later attach reuses it. heapdiff then prints where the snapshots are, the growth from the first to the last, \
            and the trend, as `heapdiff run` does. `heapdiff snapshot PID` takes a snapshot while attached.

            Snapshots go to --output, by default ./heapdiff.PROGRAM.N (N being heapdiff's own process id), \
            which the process must be able to write to and see: heapdiff refuses a directory that the process \
            sees differently (another mount namespace, systemd's PrivateTmp=).

            The process must be one you may debug: the same user as heapdiff, and kernel.yama.ptrace_scope 0 \
            (or heapdiff running as root); not being traced already, not a process that runs under \
            `heapdiff run` (use `heapdiff snapshot PID` there), in heapdiff's own PID namespace and root \
            directory (not chrooted: `heapdiff run` records a program that chroots itself), and \
            dynamically linked. The process is stopped for a moment while gdb loads the recorder; gdb does it \
            when a thread enters the allocator (or, in an idle process, in a thread blocked in a system call), \
            where no allocator or loader lock is held.

            For a CPython process (3.8 to 3.13), allocations carry the Python frames of the thread holding \
            the GIL, and the small objects pymalloc serves are seen too: the interpreter's allocator domains \
            are wrapped at the attach and given back at the detach, holding the GIL, taken as any foreign \
            thread takes it. If no thread lets go of the GIL within 2 s (one holds it in C code), heapdiff \
            records without them and says so: only objects over 512 bytes and native allocations are then seen.

            Exit status: 0 after a detach; 1 when heapdiff could not attach, or when the process ended during \
            the attach (what was recorded until then is still reported).

            Example:
              heapdiff attach 4242 --duration 60 --interval 10

            The report takes the options of `heapdiff diff`, explained below.

            """ + GroupingOptions.discussion
    )

    @Argument(help: "The process to attach to.")
    var pid: Int32

    @Option(help: ArgumentHelp("Detach after this many seconds (default: on Ctrl-C).", valueName: "seconds"))
    var duration: Double?

    @Option(help: ArgumentHelp("Take a snapshot every this many seconds (default: a tenth of --duration, at least 1; "
                               + "10 without --duration).", valueName: "seconds"))
    var interval: Double?

    @Option(name: .shortAndLong, help: ArgumentHelp("Directory for the snapshots.", valueName: "dir"))
    var output: String?

    @Option(help: ArgumentHelp("Record at most this many frames per call stack, 1 to 256 (default 64).", valueName: "n"))
    var depth: Int?

    @Option(help: ArgumentHelp("Sample allocations, about one per this many bytes allocated (512KiB, 64k, 1048576): "
                                + "cheap enough for a production service; sizes are then estimates with an error "
                                + "(see 'Running in production' in the README). Default: every allocation.",
                                valueName: "bytes"), transform: SampleRate.parse)
    var sample: SampleRate?

    @OptionGroup var grouping: GroupingOptions

    func validate() throws {
        guard pid > 0 else { throw ValidationError("PID must be a positive process id, not \(pid)") }
        if let duration, !(duration.isFinite && duration > 0) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        if let interval, !(interval.isFinite && interval >= 0.01 && interval <= 86_400 * 365) {
            throw ValidationError("--interval must be a number of seconds from 0.01 to 31536000")
        }
        if let depth, !(1...256).contains(depth) {
            throw ValidationError("--depth must be from 1 to 256, not \(depth)")
        }
    }

    /// What --interval is when not given.
    var snapshotInterval: Double {
        if let interval { return interval }
        guard let duration else { return 10 }
        return min(max(duration / 10, 1), 60)
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let process = TracedProcess(pid: pid)
        let target = try AttachTarget(process: process)
        try target.check()
        guard let gdb = GDBInjector.find(environment: environment) else {
            throw CommandError(message: "gdb is not installed (apt install gdb): heapdiff attach loads the recorder with it",
                               status: 1)
        }
        let library = try RecorderLibrary.locateAttach(environment: environment)
        let directory = URL(fileURLWithPath: output ?? "heapdiff.\(target.programName).\(getpid())")
            .standardizedFileURL.path
        try target.prepare(directory: directory)
        let verdictsBefore = LeakTestVerdictFiles.mark(directory: directory)
        let channel = try AttachChannel(directory: directory, pid: pid, owner: target.ownerIfOther)

        let handled = [SIGINT, SIGTERM, SIGHUP]
        let previous = handled.map { signal($0) { _ in stopRequested = 1 } }
        defer { zip(handled, previous).forEach { _ = signal($0, $1) } }
        var unblocked = sigset_t()   // whoever started heapdiff may have blocked them
        sigemptyset(&unblocked)
        handled.forEach { sigaddset(&unblocked, $0) }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)

        Console.note("attaching to process \(pid) (\(target.programName)) with gdb…")
        let injector = GDBInjector(gdb: gdb)
        let outcome = try injector.inject(pid: pid, library: library,
                                          request: channel.request(interval: snapshotInterval, depth: depth, sample: sample?.bytes),
                                          scratch: directory)
        try check(outcome, process: process)

        let baseline = try waitUntilAttached(channel, process: process)
        let session = try record(channel, process: process, baseline: baseline)
        channel.close()
        let summary = RunSummary(directory: directory, pid: pid, grouping: grouping, periodic: true,
                                 firstSeq: UInt32(baseline), verdictsBefore: verdictsBefore)
        switch session {
        case .detached:
            summary.print()
        case .exited:
            Console.warning("process \(pid) exited during the attach")
            summary.printIfAny()
            throw ExitCode(1)
        }
    }

    private func check(_ outcome: GDBInjector.Outcome, process: TracedProcess) throws {
        switch outcome {
        case .called(0):
            return
        case .called(1):
            throw CommandError(message: "process \(pid) is already attached by another heapdiff attach", status: 1)
        case .called(2):
            throw CommandError(message: "process \(pid) already runs under heapdiff (libheapdiff.so is preloaded): "
                + "use `heapdiff snapshot \(pid)`", status: 1)
        case .called(let code):
            throw CommandError(message: "the recorder in process \(pid) could not start (code \(code))", status: 1)
        case .exited:
            throw CommandError(message: "process \(pid) exited while heapdiff was attaching", status: 1)
        case .failed(let reason):
            if process.hasExited {
                throw CommandError(message: "process \(pid) exited while heapdiff was attaching", status: 1)
            }
            throw CommandError(message: "cannot attach to process \(pid): \(reason)", status: 1)
        }
    }

    /// The recorder's first line: `attached SEQ SLOTS MODULES`, or why not.
    private func waitUntilAttached(_ channel: AttachChannel, process: TracedProcess) throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            for line in channel.receive(timeout: 0.2) {
                let words = line.split(separator: " ")
                if words.first == "attached", words.count >= 4, let seq = Int(words[1]) {
                    let python = words.count >= 5 ? Self.pythonDomainsAttached(String(words[4])) : nil
                    Console.note("attached: \(words[2]) GOT entries in \(words[3]) modules now lead to the recorder; "
                        + (python?.note.map { $0 + "; " } ?? "")
                        + "baseline snapshot taken; " + (duration.map { "recording for \(String(format: "%g", $0)) s" }
                        ?? "recording until Ctrl-C") + ", a snapshot every \(String(format: "%g", snapshotInterval)) s")
                    if let warning = python?.warning { Console.warning(warning) }
                    return seq
                }
                if words.first == "error" {
                    throw CommandError(message: "the recorder in process \(pid) could not attach: "
                        + line.dropFirst("error ".count), status: 1)
                }
                Console.printToStandardError(line)
            }
            if process.hasExited {
                throw CommandError(message: "process \(pid) exited while heapdiff was attaching", status: 1)
            }
        }
        throw CommandError(message: "the recorder in process \(pid) did not answer within 30 s", status: 1)
    }

    private enum SessionEnd { case detached, exited }

    /// Until --duration, Ctrl-C or the process's end; then the final snapshot and the detach.
    private func record(_ channel: AttachChannel, process: TracedProcess, baseline: Int) throws -> SessionEnd {
        let deadline = duration.map { Date().addingTimeInterval($0) }
        var round = 0
        while stopRequested == 0 && deadline.map({ Date() < $0 }) ?? true {
            channel.receive(timeout: 0.2).forEach(forward)
            if process.hasExited { return .exited }
            round += 1
            // Every 2 s (a server may hold thousands of descriptors): the recorder is still there.
            if round % 10 == 0 && AttachChannel.commandsPath(of: process) == nil && !process.hasExited {
                throw CommandError(message: "process \(pid) no longer has the recorder's pipe open "
                    + "(it executed another program, or closed the descriptor)", status: 1)
            }
        }
        channel.send("detach")
        let limit = Date().addingTimeInterval(60)
        while Date() < limit {
            for line in channel.receive(timeout: 0.2) {
                if line.hasPrefix("detached ") {
                    let words = line.split(separator: " ")
                    if words.count >= 3, words[2] != "0" {
                        Console.warning("\(words[2]) GOT entries could not be given back")
                    }
                    if words.count >= 4, let warning = Self.pythonDomainsDetached(String(words[3])) {
                        Console.warning(warning)
                    }
                    if words.count >= 5, let kept = Int(words[4]), kept > 0 {
                        Console.note("\(kept) GOT entries of frees given a size (C++'s operator delete, jemalloc's "
                            + "sdallocx) stay with the recorder, which passes each to the allocator's free: blocks that "
                            + "sampling moved must never reach a free given a size")
                    }
                    Console.note("detached from process \(pid)")
                    return .detached
                }
                forward(line)
            }
            if process.hasExited { return .exited }
        }
        throw CommandError(message: "the recorder in process \(pid) did not detach within 60 s", status: 1)
    }

    /// The recorder's word for CPython's allocator domains at the attach
    /// (attach.c, python_attach.c): a note for the attached line, or a warning.
    static func pythonDomainsAttached(_ word: String) -> (note: String?, warning: String?) {
        switch word {
        case "wrapped":
            return ("Python's allocator domains wrapped (pymalloc's small objects are seen)", nil)
        case "gil-busy":
            return (nil, "Python's allocator domains are not wrapped: no thread let go of the GIL within 2 s "
                + "(one holds it in C code); objects of 512 bytes or less that pymalloc serves go unseen")
        case "not-running":
            return (nil, "Python's allocator domains are not wrapped: the interpreter is not running "
                + "(not initialized, or finalizing)")
        default:
            return (nil, nil)
        }
    }

    /// The same at the detach: a warning when the domains were not all given back.
    static func pythonDomainsDetached(_ word: String) -> String? {
        switch word {
        case "gil-busy":
            return "Python's allocator domains could not be given back yet (the GIL was not free within 2 s): "
                + "they pass allocations straight through, and are given back once a thread lets go of the GIL"
        case "kept":
            return "another wrapper (tracemalloc?) was installed over heapdiff's in Python's allocator domains: "
                + "heapdiff's stays below it, passing allocations straight through"
        default:
            return nil
        }
    }

    private func forward(_ line: String) {
        if line.hasPrefix("snapshot ") || line.hasPrefix("attached ") { return }
        Console.printToStandardError(line.hasPrefix("error ") ? "heapdiff: " + line : line)
    }
}
