import Foundation
import HeapDiffKit
import Testing

/// The recorder captures native stacks without calling unw_backtrace for
/// each allocation (native_unwind.c): they must be unw_backtrace's stacks,
/// every time. Two checks on programs built to fool stack caches and on the
/// other test programs: HEAPDIFF_UNWIND=verify computes both stacks for
/// every allocation in the same process and counts differences; and a run
/// with the fast path and one with HEAPDIFF_UNWIND=libunwind give the same
/// `--group-by traceback` table and the same allocation counts per stack.
@Suite struct UnwindExactnessTests {
    struct Program: CustomTestStringConvertible, Sendable {
        var name: String
        var flags: [String]
        var arguments: [String] = []
        /// Allocations the verify run must have compared, at least.
        var minimumStacks: Int
        var testDescription: String { "\(name) \(flags.joined(separator: " ")) \(arguments.joined(separator: " "))" }
    }

    static let programs = [
        // alloca, VLAs, many depths, longjmp, signals, realigned frames, threads.
        Program(name: "unwind_torture", flags: ["-g", "-O0"], minimumStacks: 85_000),
        Program(name: "unwind_torture", flags: ["-g", "-O2"], minimumStacks: 85_000),
        Program(name: "unwind_torture", flags: ["-g", "-O2", "-fno-omit-frame-pointer"], minimumStacks: 85_000),
        // C++ exceptions through allocating frames, threads.
        Program(name: "unwind_torture_cxx", flags: ["-g", "-O0"], minimumStacks: 250_000),
        Program(name: "unwind_torture_cxx", flags: ["-g", "-O2"], minimumStacks: 250_000),
        Program(name: "unwind_torture_cxx", flags: ["-g", "-O2", "-fno-omit-frame-pointer"], minimumStacks: 250_000),
        // The STL, C and Swift programs of the attribution tests.
        Program(name: "attribution_cxx", flags: ["-g", "-O2"], arguments: ["thumbnail"], minimumStacks: 400),
        Program(name: "attribution_cxx", flags: ["-g", "-O2"], arguments: ["shared"], minimumStacks: 200),
        Program(name: "attribution_c", flags: ["-g", "-O2"], arguments: ["strdup"], minimumStacks: 300),
        Program(name: "attribution_swift", flags: [], arguments: ["class"], minimumStacks: 1000),
        Program(name: "threads", flags: ["-g", "-O2"], minimumStacks: 4000),
        // One hook frame reached from ever deeper stacks, until the memo store is used up.
        Program(name: "memo_store_churn", flags: ["-g", "-O0"], minimumStacks: 61_000),
    ]

    /// The counts in the recorder's exit lines under HEAPDIFF_UNWIND=verify.
    struct VerifyReport {
        var compared = 0, differed = 0, proven = 0, walked = 0, memoRestarts = 0

        init(stderr: String) throws {
            let numbers = { (line: Substring) in
                line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            }
            let lines = stderr.split(separator: "\n")
            guard let check = lines.last(where: { $0.hasPrefix("heapdiff: unwind check: ") }),
                  let stats = lines.last(where: { $0.hasPrefix("heapdiff: stats: stacks proven") }) else {
                throw Harness.Failure(description: "no unwind check report in: \(stderr.suffix(600))")
            }
            let counts = numbers(check), stat = numbers(stats)
            compared = counts[0]
            differed = counts[1]
            proven = stat[0]
            walked = stat[1]
            memoRestarts = stat.count > 4 ? stat[4] : 0
        }
    }

    static func verify(_ executable: String, arguments: [String], environment: [String: String] = [:],
                       in dir: URL) throws -> VerifyReport {
        var env = environment
        env["HEAPDIFF_UNWIND"] = "verify"
        env["HEAPDIFF_OUTPUT"] = dir.appendingPathComponent("verify").path
        let run = try Harness.run(executable, arguments: arguments, environment: env, timeout: 600)
        guard run.status == 0 else { throw Harness.Failure(description: "exited \(run.status): \(run.stderr.suffix(600))") }
        #expect(!run.stderr.contains("differs from unw_backtrace"), "\(run.stderr.prefix(2000))")
        return try VerifyReport(stderr: run.stderr)
    }

    @Test(arguments: programs)
    func everyStackIsUnwBacktraces(_ program: Program) throws {
        let dir = try Harness.temporaryDirectory("unwind-verify")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build(program.name, in: dir, flags: program.flags)
        // The torture program's timer signal allocates wherever it lands.
        let arguments = program.name == "unwind_torture" ? ["async"] : program.arguments
        let report = try Self.verify(exe, arguments: arguments, in: dir)
        #expect(report.differed == 0)
        #expect(report.compared >= program.minimumStacks)
        // Both fast paths ran: stacks proven from the memo and stacks walked.
        #expect(report.proven > 0 && report.walked > 0, "\(report)")
        // The stacks stayed exact across the memo store's fresh starts.
        if program.name == "memo_store_churn" {
            #expect(report.memoRestarts > 0, "\(report)")
        }
    }

    /// Each stack, location-independent (module and file offset, or Python
    /// code and instruction), with its allocation and live counts and bytes.
    static func tracesByStack(_ snapshot: Snapshot) -> [String: [UInt64]] {
        var table: [String: [UInt64]] = [:]
        for trace in snapshot.traces {
            let frames = trace.frames.map { frame -> String in
                if PythonFrameAddress.isPython(frame) {
                    let code = snapshot.python?.codes[PythonFrameAddress.codeID(frame)]
                    return "\(code?.file ?? "?"):\(code?.qualifiedName ?? "?")@\(PythonFrameAddress.instruction(frame))"
                }
                guard let module = snapshot.modules.first(where: { $0.ranges.contains { $0.contains(frame) } }) else {
                    return String(frame, radix: 16)
                }
                return "\(module.path)+\(String(module.fileRelative(frame), radix: 16))"
            }
            let key = frames.joined(separator: " ") + (trace.truncated ? " (truncated)" : "")
            let counts = [trace.allocCount, trace.allocBytes, trace.liveCount, trace.liveBytes]
            table[key] = zip(table[key] ?? [0, 0, 0, 0], counts).map { $0 + $1 }
        }
        return table
    }

    /// The snapshots of a run in one unwinding mode, into OUT. A program may
    /// copy its environment (Python's os.environ), so both runs get names
    /// and values of the same lengths: UNWIND_TEST_PAD evens out the mode's.
    /// Both run with address randomization off: what a program allocates may
    /// depend on where its mappings are. CPython's obmalloc (3.10 on) keeps
    /// a radix tree of its 1 MiB arenas with a 2 KiB node per 256 MiB of
    /// address space an arena touches; with randomization a run now and then
    /// puts an arena across a 256 MiB line and allocates one node more (a CI
    /// run's 3.10 table differed by exactly that block).
    static func record(_ executable: String, arguments: [String], mode: String, out: String,
                       environment: [String: String] = [:], in dir: URL) throws -> [String] {
        let out = dir.appendingPathComponent(out)
        var env = environment
        env["HEAPDIFF_OUTPUT"] = out.path
        env["HEAPDIFF_UNWIND"] = mode
        env["UNWIND_TEST_PAD"] = String(repeating: "x", count: 16 - mode.count)
        let run = try Harness.run(executable, arguments: arguments, environment: env, fixedLayout: true, timeout: 600)
        guard run.status == 0 else { throw Harness.Failure(description: "exited \(run.status): \(run.stderr.suffix(600))") }
        return try Harness.snapshotFiles(in: out)
    }

    /// Each snapshot of a fast run against the same snapshot of a
    /// HEAPDIFF_UNWIND=libunwind run: the same table, and per stack the same
    /// counts and bytes, except the bytes of freed blocks when
    /// `freedBytesVary` (the program's block sizes depend on where ASLR put
    /// its heap).
    static func expectSameTables(_ executable: String, arguments: [String], environment: [String: String] = [:],
                                 minimumStacks: Int, freedBytesVary: Bool = false, in dir: URL) throws {
        let fast = try record(executable, arguments: arguments, mode: "fast", out: "1", environment: environment, in: dir)
        let reference = try record(executable, arguments: arguments, mode: "libunwind", out: "2", environment: environment,
                                   in: dir)
        try #require(fast.count == reference.count && !fast.isEmpty, "\(fast) \(reference)")
        var rows = 0
        var allocations: UInt64 = 0
        for (fastPath, referencePath) in zip(fast, reference) {
            let tables = try [fastPath, referencePath].map { path in
                let top = try Harness.run(Harness.cli, arguments: ["top", path, "--group-by", "traceback", "--limit", "0"],
                                          preload: false, timeout: 300)
                #expect(top.status == 0, "\(top.stderr)")
                return top.stdoutText
            }
            rows += tables[0].split(separator: "\n").count
            #expect(tables[0] == tables[1], "\(fastPath)")
            let snapshots = try [fastPath, referencePath].map { try Snapshot.load(path: $0) }
            // No stack longer than the depth limit, Python frames merged in or not.
            #expect(snapshots.allSatisfy { snapshot in
                snapshot.traces.allSatisfy { $0.frames.count <= Int(snapshot.process.depth) }
            })
            let stacks = snapshots.map(tracesByStack)
            allocations = max(allocations, stacks[0].values.reduce(0) { $0 + $1[0] })
            // allocCount, allocBytes, liveCount, liveBytes; freed bytes are
            // allocBytes - liveBytes.
            let compared = { (counts: [UInt64]?) -> [UInt64]? in
                guard let counts, freedBytesVary else { return counts }
                return [counts[0], counts[2], counts[3]]
            }
            let differing = Set(stacks[0].keys).union(stacks[1].keys).filter {
                compared(stacks[0][$0]) != compared(stacks[1][$0])
            }
            #expect(differing.isEmpty, "\(differing.count) stacks differ, e.g. \(differing.first ?? "")")
        }
        #expect(rows > 2)
        #expect(allocations >= UInt64(minimumStacks))
    }

    @Test(arguments: programs)
    func tracebackTablesEqualLibunwinds(_ program: Program) throws {
        let dir = try Harness.temporaryDirectory("unwind-tables")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build(program.name, in: dir, flags: program.flags)
        try Self.expectSameTables(exe, arguments: program.arguments, minimumStacks: program.minimumStacks, in: dir)
    }

    /// free_list: on 3.13 objects taken from free lists are charged through
    /// the reference tracer (python_alloc.c), a capture of its own.
    static let pythonPrograms = [("unwind_service", ["3000"]), ("request_cache", ["5", "20"]), ("asyncio_gateway", ["100", "400"]),
                                 ("flask_events", ["300", "400"]), ("worker_threads", ["200", "3000"]),
                                 ("free_list", ["1000", "3000"])]

    /// Under Python code only the native frames up to the innermost eval
    /// loop are kept, from the memo (keyed by the innermost Python frame too)
    /// or walked; the full native stack with HEAPDIFF_PYTHON_NATIVE=full.
    @Test(arguments: PythonTests.interpreters, ["inner", "full"])
    func pythonStacksAreUnwBacktraces(_ interpreter: PythonVersions.Interpreter, _ native: String) throws {
        let dir = try Harness.temporaryDirectory("unwind-py")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (program, arguments) in Self.pythonPrograms where native == "inner" || program != "flask_events" {
            let script = PythonTests.programs.appendingPathComponent("\(program).py").path
            let python = try program == "flask_events" ? interpreter.requireFlask() : interpreter.requirePath()
            let report = try Self.verify(python, arguments: [script] + arguments,
                                         environment: ["HEAPDIFF_PYTHON_NATIVE": native], in: dir)
            #expect(report.differed == 0, "\(program)")
            #expect(report.compared > 20_000 && report.proven > 0 && report.walked > 0, "\(program): \(report)")
        }
    }

    /// Whether the ELF file is an executable loaded at a fixed address
    /// (ET_EXEC, built without -pie) rather than position-independent.
    static func isFixedAddressExecutable(_ path: String) throws -> Bool {
        let header = try #require(FileHandle(forReadingAtPath: path)).readData(ofLength: 18)
        try #require(header.count == 18 && header.prefix(4) == Data([0x7F, 0x45, 0x4C, 0x46]), "\(path) is not ELF")
        return header[16] == 2 && header[17] == 0   // e_type, little-endian
    }

    /// A Python program with nothing random in it allocates the same blocks
    /// from the same stacks in both runs (without `site`: pyenv's
    /// site-packages hash objects by address at start-up, which differs from
    /// run to run). Their sizes too, but for one thing: each type's subclass
    /// dictionary is keyed by the subclass's address as an int (CPython's
    /// add_subclass), 28 bytes below 2^30 and 32 from there. A PIE
    /// interpreter's heap and mappings are far above 2^30 every time; a
    /// fixed-address one (Debian's 3.11) has its heap start at a random place
    /// within 1 GiB past its data (x86-64 brk randomization), so about one
    /// run in a hundred puts its start-up types above 2^30 (3 of 400 here),
    /// and their keys' stacks differ by 4 bytes a block from the other run's.
    /// Those keys are freed by the exit snapshot: for such an interpreter the
    /// bytes of freed blocks are left out, per stack; counts, live bytes and
    /// the table are still compared.
    @Test(arguments: PythonTests.interpreters, ["inner", "full"])
    func pythonTracebackTablesEqualLibunwinds(_ interpreter: PythonVersions.Interpreter, _ native: String) throws {
        let dir = try Harness.temporaryDirectory("unwind-py-tables")
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = PythonTests.programs.appendingPathComponent("unwind_service.py").path
        let python = try interpreter.requirePath()
        try Self.expectSameTables(python, arguments: ["-S", script, "3000"],
                                  environment: ["PYTHONHASHSEED": "0", "HEAPDIFF_PYTHON_NATIVE": native],
                                  minimumStacks: 80_000, freedBytesVary: Self.isFixedAddressExecutable(python), in: dir)
    }
}
