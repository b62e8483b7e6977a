import Foundation
import HeapDiffKit
import Testing

/// Python programs modelled on the incidents, unmodified but for two
/// `heapdiff_snapshot` calls through ctypes, run under the recorder on both
/// CPython 3.11 builds of this machine: Debian's statically linked
/// /usr/bin/python3.11 and pyenv's, linked against libpython3.11.so.
@Suite struct PythonTests {
    static let interpreters = ["/usr/bin/python3.11", "/root/.pyenv/versions/3.11.7/bin/python3.11"]

    struct Case: CustomTestStringConvertible, Sendable {
        var program: String
        var warmup: Int
        var requests: Int
        /// The `# @site` lines that leak: exactly the top rows of the diff.
        var sites: [String]
        var testDescription: String { program }
    }

    static let cases = [
        Case(program: "asyncio_gateway", warmup: 100, requests: 400, sites: ["task_set", "responses"]),
        // Past the deque's 1000 events before the first snapshot: the control is full and steady.
        Case(program: "flask_events", warmup: 1100, requests: 400, sites: ["events"]),
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

    /// The "before" and "after" snapshots of one run.
    static func snapshots(_ testCase: Case, interpreter: String, in dir: URL) throws -> (old: Snapshot, new: Snapshot) {
        let out = dir.appendingPathComponent("out")
        let script = programs.appendingPathComponent("\(testCase.program).py").path
        let run = try Harness.run(interpreter, arguments: [script, String(testCase.warmup), String(testCase.requests)],
                                  environment: ["HEAPDIFF_OUTPUT": out.path], timeout: 300)
        guard run.status == 0 else {
            throw Harness.Failure(description: "\(testCase.program) exited \(run.status): \(run.stderr)")
        }
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        let files = try Harness.snapshotFiles(in: out)
        guard files.count >= 2 else { throw Harness.Failure(description: "snapshots: \(files)") }
        let old = try Snapshot.load(path: files[0]), new = try Snapshot.load(path: files[1])
        #expect(old.process.label == "before" && new.process.label == "after")
        return (old, new)
    }

    @Test(arguments: interpreters, cases)
    func topRowsAreTheLeakingPythonLines(_ interpreter: String, _ testCase: Case) throws {
        try Self.expectTopRowsAreTheSites(testCase, interpreter: interpreter, version: "3.11.")
    }

    /// CPython 3.12 has other structures (a GIL per interpreter, shim frames
    /// at eval-loop entry): the same programs, but Flask, which pyenv's 3.12
    /// does not have.
    @Test(arguments: cases.filter { $0.program != "flask_events" })
    func python312TopRowsAreTheLeakingPythonLines(_ testCase: Case) throws {
        let python312 = "/root/.pyenv/versions/3.12.1/bin/python3.12"
        try #require(FileManager.default.isExecutableFile(atPath: python312))
        try Self.expectTopRowsAreTheSites(testCase, interpreter: python312, version: "3.12.")
    }

    static func expectTopRowsAreTheSites(_ testCase: Case, interpreter: String, version: String) throws {
        let dir = try Harness.temporaryDirectory("py-\(testCase.program)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new) = try Self.snapshots(testCase, interpreter: interpreter, in: dir)
        #expect(new.python?.version.hasPrefix(version) == true)
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
    func requestBodiesAreCountedExactly(_ interpreter: String) throws {
        let testCase = try #require(Self.cases.first { $0.program == "request_cache" })
        let dir = try Harness.temporaryDirectory("py-exact")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new) = try Self.snapshots(testCase, interpreter: interpreter, in: dir)
        let line = try Self.line(of: "request_body", in: "request_cache.py")
        let rows = new.compare(to: old, by: .traceback, symbolizer: Symbolizer())
        let row = try #require(rows.first, "no growth")
        #expect(row.site.line == line)
        #expect(row.countDiff == 20)
        #expect(row.sizeDiff == 20 * (1 << 20 + 33))
        #expect(row.site.function == "serve")
        #expect(row.traceback.filter(\.isPython).map(\.function) == ["serve", "main", "<module>"])
    }

    /// A C extension (zlib) allocates for the Python line that called it, and
    /// the traceback shows both kinds of frame, the Python ones marked. On
    /// pyenv's build zlib is an extension module of its own (Debian links it
    /// into the executable).
    @Test func extensionAllocationTracebackHasBothKinds() throws {
        let testCase = try #require(Self.cases.first { $0.program == "request_cache" })
        let dir = try Harness.temporaryDirectory("py-traceback")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, new) = try Self.snapshots(testCase, interpreter: Self.interpreters[1], in: dir)
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

    /// `heapdiff run` needs nothing from the program: PYTHONMALLOC=malloc is
    /// set for it, and `diff` names the line.
    @Test func runAndDiffThroughTheCommandLine() throws {
        let dir = try Harness.temporaryDirectory("py-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let script = Self.programs.appendingPathComponent("request_cache.py").path
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out, "--", Self.interpreters[0], script,
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

    /// Python 3.13 has no layout here yet: native frames, one warning.
    @Test func unsupportedVersionFallsBackToNativeFramesWithOneWarning() throws {
        let python313 = "/root/.pyenv/versions/3.13.0/bin/python3.13"
        try #require(FileManager.default.isExecutableFile(atPath: python313))
        let dir = try Harness.temporaryDirectory("py-313")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(python313, arguments: ["-c", "import json; json.dumps(list(range(1000)))"],
                                  environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(run.status == 0)
        let warnings = run.stderr.split(separator: "\n")
        #expect(warnings == ["heapdiff: warning: Python 3.13 is not supported yet (3.11 and 3.12 are): Python frames are not recorded, native frames only"])
        let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).last))
        #expect(snapshot.python == nil)
        #expect(!snapshot.traces.isEmpty)
        #expect(snapshot.traces.allSatisfy { !$0.frames.contains(where: PythonFrameAddress.isPython) })
    }

    /// Each incident takes the plain pattern's two snapshots ("before" after
    /// warm-up, "after" after the load): `heapdiff check` compares those two,
    /// not the teardown at exit, and fails naming the leaking lines first.
    @Test(arguments: cases)
    func checkFailsOnTheTwoSnapshotPattern(_ testCase: Case) throws {
        let script = Self.programs.appendingPathComponent("\(testCase.program).py").path
        let check = try Harness.run(Harness.cli, arguments: ["check", "--format", "json", "--", Self.interpreters[0], script,
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
        let check = try Harness.run(Harness.cli, arguments: ["check", "--", Self.interpreters[1], "-m", "pytest", "-q",
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
    @Test func snapshotsDuringFinalizationAreMarked() throws {
        let dir = try Harness.temporaryDirectory("py-final")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let script = Self.programs.appendingPathComponent("request_cache.py").path
        let run = try Harness.run(Self.interpreters[0], arguments: [script, "2", "3"], environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(run.status == 0, "\(run.stderr)")
        let snapshots = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0) }
        #expect(snapshots.map(\.process.trigger) == [.api, .api, .exit])
        #expect(snapshots.map(\.process.pythonFinalizing) == [false, false, true])
        // The 5 MiB of request bodies held at "after" are gone by the exit snapshot.
        #expect(snapshots[1].process.liveBytes > 5 << 20 && snapshots[2].process.liveBytes < 1 << 20)
    }
}
