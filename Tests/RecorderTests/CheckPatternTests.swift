import Foundation
import HeapDiffKit
import Testing

/// `heapdiff check` on the plain pattern people write first: one snapshot
/// after warm-up, one after the load, then exit. The leak must fail naming
/// its line, the fixed program pass, and a single snapshot be an error.
@Suite struct CheckPatternTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var program: String
        var source: String
        var site: String
        var sizeDiff: Int
        var testDescription: String { source }
    }

    static let cases = [
        Case(program: "plain_leak_c", source: "plain_leak_c.c", site: "cache", sizeDiff: 1_000 * 256),
        Case(program: "plain_leak_cxx", source: "plain_leak_cxx.cpp", site: "sessions", sizeDiff: 1_000 * 512),
        // A 16-byte object header, a reference and 8 Doubles.
        Case(program: "plain_leak_swift", source: "plain_leak_swift.swift", site: "memo", sizeDiff: 1_000 * 88),
        // CPython's 33-byte bytes header and 1000 bytes.
        Case(program: "/usr/bin/python3.11", source: "python/plain_leak.py", site: "body", sizeDiff: 1_000 * 1_033),
    ]

    /// The command that runs a case: a built binary, or the interpreter and its script.
    static func command(_ testCase: Case, in dir: URL) throws -> [String] {
        if testCase.program.hasPrefix("/") {
            return [testCase.program, Harness.programsDirectory.appendingPathComponent(testCase.source).path]
        }
        return [try Harness.build(testCase.program, in: dir)]
    }

    static func line(_ testCase: Case) throws -> Int {
        testCase.source.hasSuffix(".py")
            ? try PythonTests.line(of: testCase.site, in: String(testCase.source.dropFirst("python/".count)))
            : try Harness.line(of: testCase.site, in: testCase.source)
    }

    @Test(arguments: cases)
    func twoSnapshotsLeakFailsFixPassesOneSnapshotCannotCheck(_ testCase: Case) throws {
        let dir = try Harness.temporaryDirectory("plain-\(testCase.site)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let command = try Self.command(testCase, in: dir)
        let line = try Self.line(testCase)
        let path = Harness.programsDirectory.appendingPathComponent(testCase.source).path

        let leak = try Harness.run(Harness.cli, arguments: ["check", "--format", "json", "--"] + command + ["leak"],
                                   preload: false, timeout: 300)
        #expect(leak.status == 1, "\(leak.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: leak.stdout) as? [String: Any])
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.count == 1, "\(findings.map { "\($0["file"] ?? "?"):\($0["line"] ?? "?")" })")
        #expect(findings.first?["file"] as? String == path)
        #expect(findings.first?["line"] as? Int == line)
        #expect(findings.first?["size_diff"] as? Int == testCase.sizeDiff)
        #expect(findings.first?["count_diff"] as? Int == 1_000)
        // The program's own two snapshots, not the exit one.
        #expect((json["snapshots"] as? [[String: Any]])?.map { $0["label"] as? String } == ["warm", "loaded"])

        let text = try Harness.run(Harness.cli, arguments: ["check", "--"] + command + ["leak"], preload: false, timeout: 300)
        #expect(text.status == 1)
        let shown = PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath).show(path)
        let size = SizeFormatting.size(Int64(testCase.sizeDiff), signed: true)
        let expected = "\(shown):\(line): grew \(size) (+1000 blocks): "
            + "\(SizeFormatting.size(Int64(testCase.sizeDiff / 10))) → \(SizeFormatting.size(Int64(testCase.sizeDiff * 11 / 10)))"
        #expect(text.stderr.split(separator: "\n").first.map(String.init) == expected, "\(text.stderr.prefix(300))")

        let fixed = try Harness.run(Harness.cli, arguments: ["check", "--"] + command + ["fixed"], preload: false, timeout: 300)
        #expect(fixed.status == 0, "\(fixed.stderr)")
        #expect(fixed.stderr.contains("heapdiff check: passed: no call site grew by more than 4096 B"))
        #expect(fixed.stderr.contains("over 2 snapshots (warm … loaded)"))

        let one = try Harness.run(Harness.cli, arguments: ["check", "--"] + command + ["one"], preload: false, timeout: 300)
        #expect(one.status == 2)
        let lines = one.stderr.split(separator: "\n").filter { !$0.contains("warning:") }
        #expect(lines.count == 1, "\(one.stderr)")
        #expect(lines.first?.hasPrefix("heapdiff: error: ") == true)
        #expect(lines.first?.contains("took 1 snapshot of its own, so no comparison spans its workload") == true)
    }

    /// The old reading of `--warmup-snapshots` with two phases (drop one,
    /// compare the other with the exit snapshot) passed every leak: with two
    /// phases the warm-up count changes nothing; with more it never leaves fewer than two.
    @Test func warmUpNeverLeavesFewerThanTwoPhases() throws {
        let dir = try Harness.temporaryDirectory("plain-warmup")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("plain_leak_c", in: dir)
        for warmup in ["0", "1", "3"] {
            let result = try Harness.run(Harness.cli, arguments: ["check", "--warmup-snapshots", warmup, "--format", "json",
                                                                "--", exe], preload: false)
            #expect(result.status == 1, "--warmup-snapshots \(warmup): \(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
            #expect((json["findings"] as? [[String: Any]])?.first?["size_diff"] as? Int == 256_000)
        }
    }

    /// A runtime's cache of freed objects that fills up over the phases
    /// (libdispatch's continuations, under every Swift async test) is not
    /// the program's growth: check passes it, and still names a real leak
    /// beside it. `top` shows the cache's blocks as they are.
    @Test func aRuntimesCacheOfFreedObjectsIsNoLeak() throws {
        let dir = try Harness.temporaryDirectory("runtime-cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("runtime_cache", in: dir)
        let out = dir.appendingPathComponent("out")
        let quiet = try Harness.run(Harness.cli, arguments: ["check", "--output", out.path, "--", exe], preload: false)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stderr.contains("heapdiff check: passed: no call site grew by more than 4096 B"), "\(quiet.stderr)")
        // The blocks are there: 400 of 64 B at the cache's line, in the last phase's snapshot.
        let last = try Harness.snapshotFiles(in: out).filter { $0.contains(".4.") }
        let top = try Harness.run(Harness.cli, arguments: ["top", "--format", "json"] + last, preload: false)
        let rows = try #require(try JSONSerialization.jsonObject(with: top.stdout) as? [String: Any])["statistics"]
            as? [[String: Any]]
        let cacheLine = try Harness.line(of: "cache", in: "runtime_cache.c")
        let cacheRow = rows?.first { $0["line"] as? Int == cacheLine }
        #expect(cacheRow?["size"] as? Int == 400 * 64 && cacheRow?["count"] as? Int == 400, "\(rows ?? [])")

        let leak = try Harness.run(Harness.cli, arguments: ["check", "--format", "json", "--", exe, "leak"], preload: false)
        #expect(leak.status == 1, "\(leak.stderr)")
        let findings = try #require(try JSONSerialization.jsonObject(with: leak.stdout) as? [String: Any])["findings"]
            as? [[String: Any]]
        // Phases 2 to 4 compared: 200 blocks of 128 B more.
        #expect(findings?.map { "\($0["line"] ?? "?") \($0["size_diff"] ?? "?") \($0["count_diff"] ?? "?")" }
                == ["\(try Harness.line(of: "log", in: "runtime_cache.c")) 25600 200"])
    }
}
