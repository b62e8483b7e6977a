import Foundation
import HeapDiffKit
import Testing

/// `heapdiff check --snapshots FILE…`: check's rule, report and exit status on
/// snapshot files taken by something else (the test integrations).
@Suite struct CheckSnapshotFilesTests {
    /// Runs leaky_service under the recorder: snapshots "warm", "later", exit.
    static func leakyServiceSnapshots(in dir: URL, tag: String) throws -> [String] {
        let exe = try Harness.build("leaky_service", in: dir)
        let out = dir.appendingPathComponent("out-\(tag)")
        let run = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(run.status == 0, "\(run.stderr)")
        return try Harness.snapshotFiles(in: out)
    }

    @Test func judgesTheGivenFilesLikeCheck() throws {
        let dir = try Harness.temporaryDirectory("check-files")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try Self.leakyServiceSnapshots(in: dir, tag: "a")
        let source = Harness.programsDirectory.appendingPathComponent("leaky_service.c").path
        let cacheLine = try Harness.line(of: "cache", in: "leaky_service.c")

        let json = try Harness.run(Harness.cli, arguments: ["check", "--warmup-snapshots", "0", "--format", "json",
                                                          "--snapshots", files[0], files[1]], preload: false)
        #expect(json.status == 1, "\(json.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let findings = try #require(report["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        #expect(findings.first?["line"] as? Int == cacheLine)
        #expect(findings.first?["size_diff"] as? Int == 1_000 * 504)
        #expect(findings.first?["count_diff"] as? Int == 1_000)

        // A short stack: the site and its caller main, not libc's start-up code.
        let text = try Harness.run(Harness.cli, arguments: ["check", "--warmup-snapshots", "0", "--stack-frames", "5",
                                                          "--snapshots", files[1], files[0]], preload: false)
        #expect(text.status == 1)
        let shown = PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath).show(source)
        let lines = text.stderr.split(separator: "\n").map(String.init)
        #expect(lines.prefix(3) == [
            "\(shown):\(cacheLine): grew +492 KiB (+1000 blocks): 49.2 KiB → 541 KiB",
            "    \(shown):\(cacheLine) in handle_request (leaky_service)",
            "    \(shown):\(try Harness.line(of: "second batch", in: "leaky_service.c")) in main (leaky_service)",
        ], "\(text.stderr)")
        #expect(lines.last?.hasPrefix("heapdiff check: FAILED: 1 call site kept growing past 4096 B;") == true)

        // Under the limit: passed, exit 0.
        let pass = try Harness.run(Harness.cli, arguments: ["check", "--warmup-snapshots", "0",
                                                          "--max-growth-per-site", "1MiB", "--snapshots"] + files,
                                   preload: false)
        #expect(pass.status == 0, "\(pass.stderr)")
        #expect(pass.stderr.hasPrefix("heapdiff check: passed: no call site grew by more than 1024 KiB;"))
    }

    @Test func filesItCannotJudgeAreOneLineErrors() throws {
        let dir = try Harness.temporaryDirectory("check-files-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try Self.leakyServiceSnapshots(in: dir, tag: "a")
        let second = try Self.leakyServiceSnapshots(in: dir, tag: "b")
        let cases: [([String], String)] = [
            // The same words as trend's and report's (SnapshotSeries.ofOneProcess).
            (["--snapshots", first[0], second[1]], "heapdiff: error: \(second[1]) is of process "),
            (["--snapshots", first[0], second[1]], "\(first[0]) of process "),
            (["--snapshots", first[0], second[1]], "; a leak check follows one process"),
            (["--snapshots", first[0], first[0]], "are the same snapshot (#1 of process"),
            (["--snapshots", first[0]], "took 1 snapshot of its own, so no comparison spans its workload"),
            (["--snapshots", first[0], first[1], "--", "/bin/true"], "give either --snapshots FILE… or a program"),
            (["--output", dir.path, "--snapshots", first[0], first[1]], "apply only when check runs a program"),
            (["--snapshots", first[0], dir.appendingPathComponent("missing.1.1.heapsnap").path], "missing.1.1.heapsnap"),
        ]
        for (arguments, expected) in cases {
            let result = try Harness.run(Harness.cli, arguments: ["check"] + arguments, preload: false)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(expected), "\(arguments): \(result.stderr)")
        }
    }
}
