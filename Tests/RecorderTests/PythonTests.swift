import Foundation
import HeapDiffKit
import Testing

/// Python programs modelled on the incidents, unmodified but for two
/// `heapdiff_snapshot` calls through ctypes, run under the recorder on every
/// CPython it reads (PythonVersions: pyenv's 3.8 to 3.13, linked against
/// libpython, and Debian's statically linked 3.11), pymalloc left on.
/// The cheap programs run on every version; so do the incident programs
/// (each takes seconds), since each version is read differently.
@Suite struct PythonTests {
    typealias Interpreter = PythonVersions.Interpreter
    static let interpreters = PythonVersions.all
    static let debianStatic = PythonVersions.debianStatic.path

    struct Case: CustomTestStringConvertible, Sendable {
        var program: String
        var warmup: Int
        var requests: Int
        /// The `# @site` lines that leak: exactly the top rows of the diff.
        var sites: [String]
        var flask = false
        var testDescription: String { program }
    }

    static let cases = [
        Case(program: "asyncio_gateway", warmup: 100, requests: 400, sites: ["task_set", "responses"]),
        // Past the deque's 1000 events before the first snapshot: the control is full and steady.
        Case(program: "flask_events", warmup: 1100, requests: 400, sites: ["events"], flask: true),
        Case(program: "request_cache", warmup: 5, requests: 20, sites: ["request_body", "compressed"]),
        // Each thread's allocations under its own function, whichever thread held the GIL meanwhile.
        Case(program: "worker_threads", warmup: 200, requests: 3000, sites: ["ingest", "render"]),
    ]

    static var programs: URL { Harness.programsDirectory.appendingPathComponent("python") }

    /// The line of `# @site NAME` in Programs/python/FILE.
    static func line(of site: String, in file: String) throws -> Int {
        let text = try String(contentsOf: programs.appendingPathComponent(file), encoding: .utf8)
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.hasSuffix("# @site \(site)") {
            return index + 1
        }
        throw Harness.Failure(description: "no @site \(site) in \(file)")
    }

    /// The "before" and "after" snapshots of one run of Programs/python/PROGRAM.py.
    static func snapshots(_ program: String, arguments: [String], interpreter: String, options: [String] = [],
                          environment: [String: String] = [:], in dir: URL) throws -> (old: Snapshot, new: Snapshot, run: Harness.Result) {
        let out = dir.appendingPathComponent("out")
        let script = programs.appendingPathComponent("\(program).py").path
        let run = try Harness.run(interpreter, arguments: options + [script] + arguments,
                                  environment: environment.merging(["HEAPDIFF_OUTPUT": out.path]) { $1 }, timeout: 300)
        guard run.status == 0 else {
            throw Harness.Failure(description: "\(program) exited \(run.status): \(run.stderr)")
        }
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        let files = try Harness.snapshotFiles(in: out)
        guard files.count >= 2 else { throw Harness.Failure(description: "snapshots: \(files)") }
        let old = try Snapshot.load(path: files[0]), new = try Snapshot.load(path: files[1])
        #expect(old.process.label == "before" && new.process.label == "after")
        return (old, new, run)
    }

    static func snapshots(_ testCase: Case, interpreter: String, in dir: URL) throws -> (old: Snapshot, new: Snapshot) {
        let (old, new, _) = try snapshots(testCase.program, arguments: [String(testCase.warmup), String(testCase.requests)],
                                          interpreter: interpreter, in: dir)
        return (old, new)
    }

    /// The diff of one run by line, and the line of each `# @site` in it.
    static func diff(_ program: String, _ python: Interpreter, arguments: [String], options: [String] = [],
                     environment: [String: String] = [:]) throws -> (rows: [StatisticDiff], sites: (String) throws -> Int, run: Harness.Result) {
        let dir = try Harness.temporaryDirectory("py-\(program)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new, run) = try snapshots(program, arguments: arguments, interpreter: try python.requirePath(),
                                            options: options, environment: environment, in: dir)
        #expect(new.python.map { $0.hexVersion >> 16 } == python.hexMinor)
        return (new.compare(to: old, by: .lineno, symbolizer: Symbolizer()), { try line(of: $0, in: "\(program).py") }, run)
    }

    @Test(arguments: interpreters, cases)
    func topRowsAreTheLeakingPythonLines(_ python: Interpreter, _ testCase: Case) throws {
        let interpreter = try testCase.flask ? python.requireFlask() : python.requirePath()
        let dir = try Harness.temporaryDirectory("py-\(testCase.program)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new) = try Self.snapshots(testCase, interpreter: interpreter, in: dir)
        #expect(new.python.map { $0.hexVersion >> 16 } == python.hexMinor)
        let diffs = new.compare(to: old, by: .lineno, symbolizer: Symbolizer())
        let path = Self.programs.appendingPathComponent("\(testCase.program).py").path
        let expected = try Set(testCase.sites.map { try Self.line(of: $0, in: "\(testCase.program).py") })
        let top = diffs.prefix(expected.count)
        #expect(top.allSatisfy { $0.site.isPython && $0.site.file == path }, "\(top.map(\.site))")
        #expect(Set(top.compactMap(\.site.line)) == expected, "\(diffs.prefix(6).map { "\($0.site) \($0.sizeDiff)" })")
        #expect(top.allSatisfy { $0.sizeDiff > 0 && $0.countDiff >= Int64(testCase.requests) })
    }

    /// Each request keeps exactly one 1 MiB bytes object alive: 20 blocks of
    /// 1 MiB plus CPython's 33-byte bytes header. (By line, the row also has
    /// the argument tuples CPython keeps on its free list.)
    @Test(arguments: interpreters)
    func requestBodiesAreCountedExactly(_ python: Interpreter) throws {
        let testCase = try #require(Self.cases.first { $0.program == "request_cache" })
        let dir = try Harness.temporaryDirectory("py-exact")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new) = try Self.snapshots(testCase, interpreter: try python.requirePath(), in: dir)
        let line = try Self.line(of: "request_body", in: "request_cache.py")
        let rows = new.compare(to: old, by: .traceback, symbolizer: Symbolizer())
        let row = try #require(rows.first, "no growth")
        #expect(row.site.line == line)
        #expect(row.countDiff == 20)
        #expect(row.sizeDiff == 20 * (1 << 20 + 33))
        #expect(row.site.function == "serve")
        #expect(row.traceback.filter(\.isPython).map(\.function) == ["serve", "main", "<module>"])
    }

    /// The same sampled at 64 KiB, where threads make no Python stacks table
    /// and every sampled stack is read frame by frame (config.h,
    /// hd_thread_memos_pay): a 1 MiB body is past the rate, so it is always
    /// recorded, exactly, with the same traceback.
    @Test(arguments: interpreters)
    func sampledRequestBodiesKeepTheirWholeTraceback(_ python: Interpreter) throws {
        let testCase = try #require(Self.cases.first { $0.program == "request_cache" })
        let dir = try Harness.temporaryDirectory("py-sampled")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new, _) = try Self.snapshots(testCase.program, arguments: [String(testCase.warmup), String(testCase.requests)],
                                               interpreter: try python.requirePath(),
                                               environment: ["HEAPDIFF_SAMPLE": "64KiB"], in: dir)
        #expect(new.process.sampleRate == 65_536)
        let line = try Self.line(of: "request_body", in: "request_cache.py")
        let rows = new.compare(to: old, by: .traceback, symbolizer: Symbolizer())
        let row = try #require(rows.first { $0.site.line == line }, "\(rows.prefix(5).map(\.site))")
        #expect(row.countDiff == 20)
        #expect(row.sizeDiff == 20 * (1 << 20 + 33))
        #expect(row.traceback.filter(\.isPython).map(\.function) == ["serve", "main", "<module>"])
    }

    /// Blocks that reach their size through realloc, sampled at 64 KiB
    /// (python_alloc.c: the object domain's realloc on sampling's fast path,
    /// its sampled path, and its general path for a block it recorded): every
    /// size is past the rate, so each is recorded whole, at the line that grew
    /// it last, and the first block of those grown again is forgotten.
    @Test(arguments: interpreters)
    func sampledReallocationsKeepExactSizes(_ python: Interpreter) throws {
        let dir = try Harness.temporaryDirectory("py-sampled-realloc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new, _) = try Self.snapshots("sampled_growth", arguments: ["20"], interpreter: try python.requirePath(),
                                               environment: ["HEAPDIFF_SAMPLE": "64KiB"], in: dir)
        #expect(new.process.sampleRate == 65_536)
        let rows = new.compare(to: old, by: .lineno, symbolizer: Symbolizer())
        let grown = try #require(rows.first { $0.site.line == (try? Self.line(of: "grown", in: "sampled_growth.py")) },
                                 "\(rows.prefix(5).map(\.site))")
        #expect(grown.countDiff == 10)
        #expect(grown.sizeDiff == 10 * (1 << 20 + 2))
        let again = try #require(rows.first { $0.site.line == (try? Self.line(of: "grown_again", in: "sampled_growth.py")) },
                                 "\(rows.prefix(5).map(\.site))")
        #expect(again.countDiff == 10)
        #expect(again.sizeDiff == 10 * (2 << 20 + 2))
    }

    /// While sampling, a code object's line table is copied only as far as
    /// the frames seen in it (python_code.c, copy_lines; 3.11+, whose
    /// tables can be cut at an entry): a function of 8,000 lines whose one
    /// sampled allocation is on its first line costs the recorder about what
    /// a function of 10 lines does (its whole table, ≥ 32 KiB, was copied
    /// before), and the allocation is still on its line.
    @Test(arguments: interpreters.filter { $0.hexMinor >= 0x030B })
    func sampledLineTablesAreCopiedOnlyAsFarAsTheirFrames(_ python: Interpreter) throws {
        let dir = try Harness.temporaryDirectory("py-sampled-lines")
        defer { try? FileManager.default.removeItem(at: dir) }
        func run(lines: Int) throws -> (codeTableKiB: Int, tableBytes: Int, snapshot: Snapshot, script: String) {
            let script = dir.appendingPathComponent("work\(lines).py").path
            let body = Array(repeating: "    y = x\n", count: lines).joined()
            try ("def work(x):\n    kept.append(bytearray(1 << 20))\n\(body)    return y\n"
                 + "import sys\nsys.path.insert(0, \"\(Self.programs.path)\")\nfrom heapdiff_phase import snapshot\n"
                 + "kept = []\nwork(1)\nsnapshot(\"after\")\nprint(len(work.__code__.co_linetable))\n")
                .write(toFile: script, atomically: true, encoding: .utf8)
            let out = dir.appendingPathComponent("out\(lines)")
            let result = try Harness.run(try python.requirePath(), arguments: [script],
                                         environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_STATS": "1",
                                                       "HEAPDIFF_SAMPLE": "64KiB", "HEAPDIFF_SAMPLE_SEED": "1"])
            try #require(result.status == 0, "stderr: \(result.stderr)")
            let stats = try #require(result.stderr.split(separator: "\n").last { $0.contains("Python code table") })
            let kib = try #require(stats.split(separator: ",").first { $0.contains("Python code table") }
                .flatMap { $0.split(whereSeparator: { !$0.isNumber }).first.flatMap { Int($0) } })
            let tableBytes = try #require(Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
            let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).first))
            return (kib, tableBytes, snapshot, script)
        }
        let small = try run(lines: 10), big = try run(lines: 8_000)
        #expect(big.tableBytes >= 32 * 1024, "the long function's line table: \(big.tableBytes) bytes")
        #expect(big.codeTableKiB - small.codeTableKiB <= 8,
                "Python code table: \(big.codeTableKiB) KiB with the long function, \(small.codeTableKiB) KiB with the short one")
        let rows = big.snapshot.statistics(by: .lineno, symbolizer: Symbolizer())
        let row = try #require(rows.first { $0.site.file == big.script }, "\(rows.prefix(5).map(\.site))")
        #expect(row.site.line == 2)
        #expect(row.count == 1)
        #expect(row.size >= 1 << 20 && row.size <= (1 << 20) + 64)
    }

    /// A C extension (zlib) allocates for the Python line that called it, and
    /// the traceback shows both kinds of frame, the Python ones marked. On
    /// pyenv's builds zlib is an extension module of its own (Debian links it
    /// into the executable).
    @Test(arguments: interpreters.filter { $0 != PythonVersions.debianStatic })
    func extensionAllocationTracebackHasBothKinds(_ python: Interpreter) throws {
        let testCase = try #require(Self.cases.first { $0.program == "request_cache" })
        let dir = try Harness.temporaryDirectory("py-traceback")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new) = try Self.snapshots(testCase, interpreter: try python.requirePath(), in: dir)
        let line = try Self.line(of: "compressed", in: "request_cache.py")
        let rows = new.compare(to: old, by: .traceback, symbolizer: Symbolizer())
        let row = try #require(rows.first { $0.site.line == line && $0.traceback.contains { $0.module.contains("zlib.cpython") } },
                               "\(rows.prefix(5).map(\.traceback))")
        let siteIndex = try #require(row.traceback.firstIndex { $0.isPython && $0.line == line })
        #expect(row.traceback[..<siteIndex].contains { !$0.isPython && $0.module.contains("zlib.cpython") })
        #expect(row.site == row.traceback[siteIndex])
        let caller = try #require(row.traceback[(siteIndex + 1)...].first { $0.isPython })
        #expect(caller.function == "main")
        #expect(FrameFormatter(paths: .unchanged).format(row.traceback[siteIndex])
            == "\(Self.programs.appendingPathComponent("request_cache.py").path):\(line) in serve (Python)")
    }

    /// `heapdiff run` needs nothing from the program, and `diff` names the line.
    @Test func runAndDiffThroughTheCommandLine() throws {
        let dir = try Harness.temporaryDirectory("py-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let script = Self.programs.appendingPathComponent("request_cache.py").path
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out, "--", Self.debianStatic, script,
                                                           "5", "20"], preload: false, timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let files = try Harness.snapshotFiles(in: URL(fileURLWithPath: out))
        #expect(files.count == 3)  // before, after, exit
        let diff = try Harness.run(Harness.cli, arguments: ["diff", files[0], files[1], "--limit", "2"], preload: false)
        #expect(diff.status == 0, "\(diff.stderr)")
        let lines = diff.stdoutText.split(separator: "\n").map(String.init)
        let bodyLine = try Self.line(of: "request_body", in: "request_cache.py")
        #expect(lines.first?.contains("request_cache.py:\(bodyLine): size=") == true, "\(lines)")
    }

    /// 120,000 live objects make the live-block table grow, and from then on
    /// frees are noted and removed a little later (pointer_table.c): the
    /// objects replaced, and those that take their blocks straight back, are
    /// still counted exactly at each line.
    @Test(arguments: interpreters)
    func objectsReplacedAmongManyAreCountedExactly(_ python: Interpreter) throws {
        let count: Int64 = 120_000
        let (rows, site, _) = try Self.diff("many_objects", python, arguments: [String(count)])
        let row = { (name: String) in rows.first { $0.site.line == (try? site(name)) } }
        let fill = row("fill"), larger = row("larger"), same = row("same")
        #expect(larger?.countDiff == count / 2 && larger?.sizeDiff == count / 2 * (33 + 200),
                "\(String(describing: larger))")
        #expect(same?.countDiff == count / 4 && same?.sizeDiff == count / 4 * (33 + 100), "\(String(describing: same))")
        #expect(fill?.countDiff == -(count / 2 + count / 4) && fill?.sizeDiff == -(count / 2 + count / 4) * (33 + 100),
                "\(String(describing: fill))")
    }

    /// Line 12 creates a dict and drops it, line 13 takes it back from the
    /// dict free list and keeps it, 20,000 times. 3.13's reference tracer
    /// tells the recorder of the reuse: the kept dicts are line 13's, each
    /// counted once. Before 3.13 nothing reports reuse (tracemalloc's own
    /// hook runs only while it traces): they stay with line 12, where their
    /// memory was allocated.
    @Test(arguments: interpreters)
    func dictsReusedFromTheFreeListBelongToTheReusingLine(_ python: Interpreter) throws {
        let requests = 20_000
        let (rows, site, _) = try Self.diff("free_list", python, arguments: ["1000", String(requests)])
        let scratch = rows.first { $0.site.line == (try? site("scratch")) }
        let keep = rows.first { $0.site.line == (try? site("keep")) }
        if python.hexMinor >= 0x030D {
            #expect(rows.first?.site.line == (try site("keep")), "\(rows.prefix(3).map(\.site))")
            #expect(keep?.countDiff == Int64(requests))
            #expect((scratch?.countDiff ?? 0) == 0, "\(String(describing: scratch))")
        } else {
            #expect(rows.first?.site.line == (try site("scratch")), "\(rows.prefix(3).map(\.site))")
            #expect((scratch?.countDiff ?? 0) >= Int64(requests - 1))
            #expect((keep?.countDiff ?? 0) <= 1)
        }
    }

    /// The recorder remembers whole Python stacks per thread and proves them
    /// by rereading each frame's code object, instruction and marks: one
    /// allocating line reached from two lines of one caller in turn, through
    /// recursion of changing depth, from a generator and from code compiled
    /// anew each call with another line number must each get exactly its own
    /// calls.
    @Test(arguments: interpreters)
    func rememberedPythonStacksKeepEveryPathApart(_ python: Interpreter) throws {
        let warmup = 30, requests = 600
        let dir = try Harness.temporaryDirectory("py-stack-cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new, _) = try Self.snapshots("stack_cache", arguments: [String(warmup), String(requests)],
                                               interpreter: try python.requirePath(), in: dir)
        let file = Self.programs.appendingPathComponent("stack_cache.py").path
        let site = { (name: String) in try Self.line(of: name, in: "stack_cache.py") }
        let make = try site("make")
        // Each kept bytes object's row, keyed by its Python frames (line and function, innermost first).
        var counts: [String: Int64] = [:]
        // (The list they are kept in grows at the same line: its block is not a 1,033-byte one.)
        for row in new.compare(to: old, by: .traceback, symbolizer: Symbolizer())
        where row.site.line == make && row.sizeDiff == row.countDiff * 1033 && row.countDiff != 0 {
            let python = row.traceback.filter(\.isPython)
            #expect(python.first?.file == file && python.first?.function == "make")
            let key = python.dropFirst().map { "\($0.function ?? "?"):\($0.line ?? 0)" }.joined(separator: " ")
            counts[key, default: 0] += row.countDiff
        }
        let rounds = "rounds:", top = "<module>:\(try site("rounds_after"))"
        func path(_ frames: [String]) -> String { (frames + [top]).joined(separator: " ") }
        var expected: [String: Int64] = [:]
        for i in warmup..<(warmup + requests) {
            for (n, caller) in [(i, "alternate"), (i + 1, "alternate_next")] {
                expected[path(["alternate:\(try site(n % 2 == 1 ? "odd" : "even"))", "\(rounds)\(try site(caller))"]), default: 0] += 1
            }
            for (depth, caller) in [(i % 5, "recurse_top"), ((i + 2) % 5, "recurse_next")] {
                let recursion = Array(repeating: "recurse:\(try site("recurse"))", count: depth)
                expected[path(["recurse:\(try site("bottom"))"] + recursion + ["\(rounds)\(try site(caller))"]), default: 0] += 1
            }
            expected[path(["producer:\(try site("generator"))", "\(rounds)\(try site("next"))"]), default: 0] += 1
            expected[path(["<module>:\(i % 3 + 1)", "compiled:\(try site("exec"))", "\(rounds)\(try site("compiled"))"]), default: 0] += 1
        }
        #expect(counts == expected, "\(counts.sorted { $0.key < $1.key })")
    }

    /// A code object that takes a dead one's address, with a line table at
    /// the dead one's line table's address (before 3.11 every one-line
    /// function shares the empty one), is not taken for the dead one: each
    /// round's bytearray (object and buffer, 1,057 or 3,057 bytes) is charged
    /// to line 1 of that round's own file, never to an earlier round's. With
    /// the file names kept alive, their objects tell the code objects apart;
    /// with them dropped, a new name takes a dead one's address as well, and
    /// only the code object's death, seen at its free, does.
    @Test(arguments: interpreters)
    func aCodeObjectAtADeadOnesAddressIsItsOwn(_ python: Interpreter) throws {
        let rounds = 200
        for keepNames in [true, false] {
            let (rows, _, run) = try Self.diff("code_reuse", python,
                                               arguments: [String(rounds)] + (keepNames ? ["keep-names"] : []))
            // The program counts the code objects, and the file names, that took an address seen before.
            let counts = run.stdoutText.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try #require(counts.count == 2, "\(run.stdoutText)")
            #expect(counts[0] >= rounds, "only \(counts[0]) code objects took a dead one's address")
            // 3.8 and 3.11 keep the names alive elsewhere; the others hand their blocks back.
            if !keepNames && ![0x0308, 0x030B].contains(python.hexMinor) {
                #expect(counts[1] >= rounds, "only \(counts[1]) file names took a dead one's address")
            }
            var expected: [String: [Int64]] = [:]
            for i in 0..<rounds {
                expected["a_\(i).py:1"] = [2, 1057]
                expected["bb_\(i).py:1"] = [2, 3057]
            }
            var seen: [String: [Int64]] = [:]
            for row in rows where row.site.isPython && row.countDiff != 0 {
                guard let file = row.site.file, file.hasPrefix("a_") || file.hasPrefix("bb_") else { continue }
                let key = "\(file):\(row.site.line ?? 0)", sum = seen[key] ?? [0, 0]
                seen[key] = [sum[0] + row.countDiff, sum[1] + row.sizeDiff]
            }
            #expect(seen == expected,
                    "names kept: \(keepNames): \(seen.filter { expected[$0.key] != $0.value }.sorted { $0.key < $1.key }.prefix(8))")
        }
    }

    /// A dataclass's __init__ and a namedtuple's __new__ run code compiled
    /// from a string (`<string>`): what they allocate is charged to the line
    /// that constructs the object.
    @Test(arguments: interpreters)
    func generatedCodeIsChargedToTheConstructingLine(_ python: Interpreter) throws {
        let requests = 5_000
        let (rows, site, _) = try Self.diff("generated_code", python, arguments: ["500", String(requests)])
        let expected = try Set(["dataclass", "namedtuple"].map(site))
        #expect(Set(rows.prefix(2).compactMap(\.site.line)) == expected, "\(rows.prefix(4).map(\.site))")
        #expect(rows.prefix(2).allSatisfy { $0.countDiff >= Int64(requests) })
        #expect(!rows.contains { $0.site.file == "<string>" && $0.sizeDiff > 4096 }, "\(rows.prefix(6).map(\.site))")
    }

    /// `python -I` ignores every PYTHON* variable; pymalloc stays on and the
    /// program's environment is its own (no PYTHONMALLOC), yet each of the
    /// 20,000 small bytes objects pymalloc serves is seen once, with the size
    /// CPython asked for (sys.getsizeof of a bytes object).
    @Test(arguments: interpreters)
    func smallObjectsAreSeenInIsolatedModeWithPymallocOn(_ python: Interpreter) throws {
        let count = 20_000
        let (rows, site, run) = try Self.diff("isolated_small", python, arguments: [String(count)], options: ["-I"])
        let printed = run.stdoutText.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(printed.count == 4 && printed[0] == "unset" && printed[1] == "True" && printed[3] == "1", "\(printed)")
        let objectSize = try #require(Int64(printed.count > 2 ? printed[2] : ""))
        let row = try #require(rows.first)
        #expect(row.site.line == (try site("small")))
        #expect(row.countDiff == Int64(count))
        #expect(row.sizeDiff == Int64(count) * objectSize)
    }

    /// Under CPython's debug allocators (PYTHONMALLOC=debug, -X dev), which
    /// check every block at free, the program runs and exits as without the
    /// recorder, and its objects are still seen once each.
    @Test(arguments: interpreters)
    func debugAllocatorsRunCleanly(_ python: Interpreter) throws {
        let count = 5_000
        for (options, environment) in [([String](), ["PYTHONMALLOC": "debug"]), (["-X", "dev"], [:])] {
            let (rows, site, run) = try Self.diff("isolated_small", python, arguments: [String(count)],
                                                  options: options, environment: environment)
            #expect(run.stdoutText.hasPrefix(environment.isEmpty ? "unset True" : "debug True"), "\(run.stdoutText)")
            #expect(rows.first?.site.line == (try site("small")))
            #expect(rows.first?.countDiff == Int64(count))
        }
    }

    /// errno survives every call into the allocator domains, recording every
    /// allocation and sampling (errno_kept.py sets a marker before each call
    /// and exits 3 when a call changed it): the wrappers record without
    /// touching it, as the native hooks do.
    @Test(arguments: interpreters)
    func allocatorDomainsLeaveErrnoAlone(_ python: Interpreter) throws {
        let script = Self.programs.appendingPathComponent("errno_kept.py").path
        for environment in [[:], ["HEAPDIFF_SAMPLE": "64KiB"]] {
            let dir = try Harness.temporaryDirectory("py-errno")
            defer { try? FileManager.default.removeItem(at: dir) }
            let run = try Harness.run(try python.requirePath(), arguments: [script, "3000"],
                                      environment: environment.merging(["HEAPDIFF_OUTPUT": dir.path]) { $1 },
                                      timeout: 300)
            #expect(run.status == 0 && run.stdoutText == "ok\n", "\(environment): \(run.stderr)")
        }
    }

    /// A Python newer than the versions read (a stand-in that exports what
    /// an interpreter does): native frames, one warning; its allocator
    /// domains are still wrapped (a public API), so the objects its object
    /// domain serves from an arena of its own are seen, once each.
    @Test func newerVersionGivesNativeFramesAndOneWarning() throws {
        let dir = try Harness.temporaryDirectory("py-fake")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (snapshots, run) = try Self.fakeInterpreter(version: "0x030E00F0", in: dir)
        #expect(run.stderr.split(separator: "\n") == ["heapdiff: warning: Python 3.14 is newer than the versions heapdiff reads (3.8 to 3.13): Python frames are not recorded, native frames only"])
        #expect(run.stdoutText == "audit hooks: 1\n")
        #expect(snapshots.new.python == nil)
        #expect(snapshots.new.traces.allSatisfy { !$0.frames.contains(where: PythonFrameAddress.isPython) })
        let row = try #require(snapshots.new.compare(to: snapshots.old, by: .lineno, symbolizer: Symbolizer()).first)
        #expect(row.site.line == (try Harness.line(of: "objects", in: "fake_python.c")), "\(row.site)")
        #expect(row.countDiff == 1000 && row.sizeDiff == 48_000)
    }

    /// Older than 3.8 there are no audit hooks to wrap the allocators from:
    /// one warning, native frames, and the arena's objects unseen.
    @Test func olderVersionGivesNativeFramesAndOneWarning() throws {
        let dir = try Harness.temporaryDirectory("py-fake")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (snapshots, run) = try Self.fakeInterpreter(version: "0x030712F0", in: dir)
        #expect(run.stderr.split(separator: "\n") == ["heapdiff: warning: Python 3.7 is older than the versions heapdiff reads (3.8 to 3.13): Python frames are not recorded, native frames only"])
        #expect(run.stdoutText == "audit hooks: 0\n")
        #expect(snapshots.new.python == nil)
        #expect(snapshots.new.compare(to: snapshots.old, by: .lineno, symbolizer: Symbolizer()).allSatisfy { $0.sizeDiff == 0 })
    }

    /// Runs Programs/fake_python.c built as VERSION in DIR (which the caller
    /// removes once it has symbolized the snapshots).
    static func fakeInterpreter(version: String, in dir: URL) throws -> (snapshots: (old: Snapshot, new: Snapshot), run: Harness.Result) {
        let binary = try Harness.build("fake_python", in: dir, flags: ["-g", "-O0", "-rdynamic", "-DFAKE_VERSION=\(version)"])
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(binary, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try Harness.snapshotFiles(in: out)
        guard files.count >= 2 else { throw Harness.Failure(description: "snapshots: \(files)") }
        return ((try Snapshot.load(path: files[0]), try Snapshot.load(path: files[1])), run)
    }

    /// Each incident takes the plain pattern's two snapshots ("before" after
    /// warm-up, "after" after the load): `heapdiff check` compares those two,
    /// not the teardown at exit, and fails naming the leaking lines first.
    @Test(arguments: cases)
    func checkFailsOnTheTwoSnapshotPattern(_ testCase: Case) throws {
        let script = Self.programs.appendingPathComponent("\(testCase.program).py").path
        let check = try Harness.run(Harness.cli, arguments: ["check", "--format", "json", "--", PythonVersions.debianStatic.withFlask, script,
                                                             String(testCase.warmup), String(testCase.requests)],
                                    preload: false, timeout: 300)
        #expect(check.status == 1, "\(check.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: check.stdout) as? [String: Any])
        #expect((json["snapshots"] as? [[String: Any]])?.map { $0["label"] as? String } == ["before", "after"])
        let findings = try #require(json["findings"] as? [[String: Any]]).prefix(testCase.sites.count)
        #expect(findings.allSatisfy { $0["file"] as? String == script })
        #expect(Set(findings.compactMap { $0["line"] as? Int })
            == Set(try testCase.sites.map { try Self.line(of: $0, in: "\(testCase.program).py") }))
    }

    /// The README's pytest pattern: `heapdiff check -- python3 -m pytest`
    /// fails naming the Python line that keeps growing.
    @Test func pytestLeakTestFailsNamingTheLine() throws {
        let example = Harness.packageRoot.appendingPathComponent("Examples/leak-tests/python")
        let check = try Harness.run(Harness.cli, arguments: ["check", "--", PythonVersions.pyenv(11).path, "-m", "pytest", "-q",
                                                             "-p", "no:cacheprovider", example.path],
                                    preload: false, timeout: 600)
        #expect(check.status == 1, "\(check.stderr)")
        // Shown relative to the working directory when under it.
        let store = PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath)
            .show(example.appendingPathComponent("session_store.py").path)
        // The program's own output is on stdout; the verdict on stderr.
        let first = check.stderr.split(separator: "\n").first
        #expect(first?.hasPrefix("\(store):14: grew +") == true, "\(check.stderr.prefix(400))")
        #expect(first?.contains("(+1000 blocks)") == true)
    }

    /// The exit snapshot comes after the interpreter tore down its objects:
    /// it is marked, and `run`'s summary and `trend` leave such snapshots out.
    /// A program linked with libpython that never starts the interpreter
    /// (unbound, whose Python module is optional) has an ordinary exit
    /// snapshot, not one "taken as Python finalized" that check and run would
    /// leave out; started and finalized, it is marked.
    @Test func aProgramThatNeverStartsItsLinkedInterpreterIsNotFinalizing() throws {
        let python = try PythonVersions.pyenv(11).requirePath()
        let lib = URL(fileURLWithPath: python).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("lib").path
        let dir = try Harness.temporaryDirectory("links-libpython")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("links_libpython", in: dir,
                                    libraries: ["-L\(lib)", "-Wl,-rpath,\(lib)", "-lpython3.11"])
        for (argument, finalizing) in [("never", false), ("run", true)] {
            let out = dir.appendingPathComponent(argument)
            let result = try Harness.run(exe, arguments: [argument], environment: ["HEAPDIFF_OUTPUT": out.path,
                                                                                   "PYTHONHOME": URL(fileURLWithPath: lib).deletingLastPathComponent().path])
            #expect(result.status == 0, "\(result.stderr)")
            let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).first))
            #expect(snapshot.process.trigger == .exit && snapshot.process.pythonFinalizing == finalizing, "\(argument)")
            let site = try Harness.statistic("kept", in: "links_libpython.c", of: snapshot, symbolizer: Symbolizer())
            #expect(site?.count == 40 && site?.size == 10_000)
        }
    }

    /// A host that loads the interpreter as a plugin after start-up
    /// (uWSGI's python3 plugin; Apache's mod_wsgi, which runs Python on
    /// threads of its own while the main thread waits in C): the recorder
    /// finds it within a tick of its start, reads its frames from then on
    /// and wraps its allocator domains, at the main thread's next
    /// pending-call check or, when that does not come, by a thread of its
    /// own that takes the GIL. So the script's lines hold its objects,
    /// pymalloc's small ones too: 1000 strings of under 100 B and their
    /// list; 40 bytearrays of 5000 B, their 40 buffers and their list.
    /// The same in a subinterpreter of the main thread's (mod_wsgi's
    /// default), which CPython's GIL-state key does not give the thread.
    @Test(arguments: [8, 11, 12, 13], ["main", "thread", "subinterpreter"])
    func anInterpreterLoadedAfterStartUpIsRecorded(_ minor: Int, _ host: String) throws {
        let python = try PythonVersions.pyenv(minor).requirePath()
        let home = URL(fileURLWithPath: python).deletingLastPathComponent().deletingLastPathComponent()
        let library = home.appendingPathComponent("lib/libpython3.\(minor).so.1.0").path
        let dir = try Harness.temporaryDirectory("loads-libpython")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("loads_libpython", in: dir)
        let out = dir.appendingPathComponent("out")
        let script = Self.programs.appendingPathComponent("late_interpreter.py").path
        let result = try Harness.run(exe, arguments: [library, script, host],
                                     environment: ["HEAPDIFF_OUTPUT": out.path, "PYTHONHOME": home.path])
        #expect(result.status == 0 && result.stdoutText == "1000 40\n", "\(result.stdoutText)\(result.stderr)")
        let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).last))
        let rows = snapshot.statistics(by: .lineno, symbolizer: Symbolizer()).filter { $0.site.file == script }
        let small = rows.first { $0.site.line == (try? Self.line(of: "small", in: "late_interpreter.py")) }
        let large = rows.first { $0.site.line == (try? Self.line(of: "large", in: "late_interpreter.py")) }
        #expect(small?.count == 1001 && (small?.size ?? 0) < 1001 * 100, "\(rows.map { "\($0.site) \($0.count)" })")
        #expect(large?.count == 81 && (large?.size ?? 0) > 40 * 5000, "\(rows.map { "\($0.site) \($0.count)" })")
    }

    @Test func snapshotsDuringFinalizationAreMarked() throws {
        let dir = try Harness.temporaryDirectory("py-final")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let script = Self.programs.appendingPathComponent("request_cache.py").path
        let run = try Harness.run(Self.debianStatic, arguments: [script, "2", "3"], environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(run.status == 0, "\(run.stderr)")
        let snapshots = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0) }
        #expect(snapshots.map(\.process.trigger) == [.api, .api, .exit])
        #expect(snapshots.map(\.process.pythonFinalizing) == [false, false, true])
        // The 5 MiB of request bodies held at "after" are gone by the exit snapshot.
        #expect(snapshots[1].process.liveBytes > 5 << 20 && snapshots[2].process.liveBytes < 1 << 20)
    }
}
