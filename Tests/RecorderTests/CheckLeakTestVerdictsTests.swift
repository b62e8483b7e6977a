import Foundation
import Testing

/// `heapdiff check` and `run` counting the verdicts that test harnesses
/// record (leak-tests.PID.verdicts): every exit status, with a shell script
/// standing in for pytest-heapdiff or HeapDiffTesting so that each case takes
/// a fraction of a second. The harnesses themselves are driven for real in
/// HeapDiffTestingTests and pytest-heapdiff's own suite.
@Suite struct CheckLeakTestVerdictsTests {
    /// A shell script that records verdicts as a harness does (STATUS TEST
    /// SNAPSHOTS SUMMARY each), then runs `then`.
    static func script(_ verdicts: [[String]], then: String = "exit 0") -> [String] {
        let records = verdicts.map { fields in
            #"printf '%s\tfake-harness\t%s\t%s\t%s\n' "# + fields.map { "'\($0)'" }.joined(separator: " ")
                + #" >> "$HEAPDIFF_OUTPUT/leak-tests.$$.verdicts""#
        }
        return ["/bin/sh", "-c", (records + [then]).joined(separator: "\n")]
    }

    static let leaked = ["leaked", "test_leaks", "/tmp/kept/test_leaks", "store.py:11: grew +620 KiB (+600 blocks)"]
    static let passed = ["passed", "test_bounded", "", ""]

    static func check(_ command: [String], options: [String] = []) throws -> (status: Int32, lines: [String], stdout: Data) {
        let result = try Harness.run(Harness.cli, arguments: ["check"] + options + ["--"] + command, preload: false)
        // Pids as "N": the script's pid is known only to it.
        let lines = result.stderr.split(separator: "\n").filter { !$0.contains("warning:") }
            .map { String($0.replacing(/pid \d+\)/, with: "pid N)")) }
        return (result.status, lines, result.stdout)
    }

    @Test func aRecordedLeakFailsTheCheckEvenWhenTheRunnerFailedBecauseOfIt() throws {
        for runner in ["exit 0", "exit 1"] {
            let (status, lines, _) = try Self.check(Self.script([Self.passed, Self.leaked], then: runner))
            #expect(status == 1, "\(runner): \(lines)")
            #expect(lines.suffix(2) == [
                "leak test test_leaks (fake-harness, pid N) kept growing: "
                    + "store.py:11: grew +620 KiB (+600 blocks); snapshots in /tmp/kept/test_leaks",
                "heapdiff check: FAILED: 1 of 2 leak tests judged by fake-harness in 1 process kept growing",
            ], "\(runner): \(lines)")
        }
    }

    @Test func passedLeakTestsPassUnlessTheRunnerFailed() throws {
        let passing = try Self.check(Self.script([Self.passed, Self.passed]))
        #expect(passing.status == 0, "\(passing.lines)")
        #expect(passing.lines == ["heapdiff check: passed: 2 leak tests judged by fake-harness in 1 process; none kept growing"])

        let failing = try Self.check(Self.script([Self.passed], then: "exit 4"))
        #expect(failing.status == 3, "\(failing.lines)")
        #expect(failing.lines.first == "heapdiff: 1 leak test judged by fake-harness: 1 passed")
        #expect(failing.lines.last?.hasPrefix("heapdiff: error: /bin/sh exited with status 4; snapshots are in ") == true)
    }

    @Test func aTestThatCouldNotBeJudgedIsNoPass() throws {
        let (status, lines, _) = try Self.check(Self.script([Self.passed, ["error", "test_x", "", "no snapshot written"]]))
        #expect(status == 2, "\(lines)")
        #expect(lines.first == "leak test test_x (fake-harness, pid N) could not be judged: no snapshot written")
        #expect(lines.last?.hasPrefix("heapdiff: error: 1 leak test could not be judged; snapshots are in ") == true)
    }

    @Test func neitherAComparisonNorAVerdictCannotCheck() throws {
        let (status, lines, _) = try Self.check(Self.script([]))
        #expect(status == 2)
        #expect(lines.count == 1 && lines[0].contains("took no snapshot of its own, so no comparison spans its workload"),
                "\(lines)")
    }

    /// The program's own series is judged as well: its leak fails the check
    /// though every leak test passed, and its pass leaves the leak tests' verdict.
    @Test func theOwnSeriesIsJudgedBesideTheVerdicts() throws {
        let dir = try Harness.temporaryDirectory("verdicts-own")
        defer { try? FileManager.default.removeItem(at: dir) }
        let program = try Harness.build("plain_leak_c", in: dir)
        let ownLeak = try Self.check(Self.script([Self.passed], then: "exec '\(program)' leak"))
        #expect(ownLeak.status == 1, "\(ownLeak.lines)")
        #expect(ownLeak.lines.contains { $0.hasPrefix("heapdiff check: FAILED: 1 call site kept growing past 4096 B") })
        #expect(ownLeak.lines.last == "heapdiff check: passed: 1 leak test judged by fake-harness in 1 process; none kept growing")

        let testLeak = try Self.check(Self.script([Self.leaked], then: "exec '\(program)' fixed"))
        #expect(testLeak.status == 1, "\(testLeak.lines)")
        #expect(testLeak.lines.contains { $0.hasPrefix("heapdiff check: passed: no call site grew by more than 4096 B") })
        #expect(testLeak.lines.last == "heapdiff check: FAILED: 1 of 1 leak test judged by fake-harness in 1 process kept growing")
    }

    @Test func jsonAddsTheLeakTestsAndTheWholeVerdict() throws {
        let (status, lines, stdout) = try Self.check(Self.script([Self.leaked]), options: ["--format", "json"])
        #expect(status == 1, "\(lines)")
        let json = try #require(try JSONSerialization.jsonObject(with: stdout) as? [String: Any])
        #expect(json["passed"] as? Bool == false)
        let tests = try #require(json["leak_tests"] as? [[String: Any]])
        #expect(tests.count == 1)
        #expect(tests.first?["status"] as? String == "leaked")
        #expect(tests.first?["harness"] as? String == "fake-harness")
        #expect(tests.first?["test"] as? String == "test_leaks")
        #expect(tests.first?["snapshots"] as? String == "/tmp/kept/test_leaks")
        #expect(tests.first?["summary"] as? String == "store.py:11: grew +620 KiB (+600 blocks)")
        #expect((tests.first?["pid"] as? Int ?? 0) > 0)
    }

    /// An --output directory used again holds the last run's records: only
    /// what this run added counts.
    @Test func anEarlierRunsVerdictsInTheSameOutputDoNotCount() throws {
        let dir = try Harness.temporaryDirectory("verdicts-again")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = ["--output", dir.appendingPathComponent("out").path]
        #expect(try Self.check(Self.script([Self.leaked]), options: output).status == 1)
        let again = try Self.check(Self.script([]), options: output)
        #expect(again.status == 2, "\(again.lines)")
    }

    @Test func runSaysHowManyLeakTestsWereJudgedInOneLine() throws {
        let dir = try Harness.temporaryDirectory("verdicts-run")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Harness.run(Harness.cli, arguments: ["run", "--output", dir.path, "--"]
                                        + Self.script([Self.leaked, Self.passed, Self.leaked]), preload: false)
        #expect(result.status == 0)
        let said = result.stderr.split(separator: "\n").filter { $0.contains("leak test") }
        #expect(said == ["heapdiff: 3 leak tests judged by fake-harness: 2 kept growing (test_leaks: store.py:11: grew "
            + "+620 KiB (+600 blocks), snapshots in /tmp/kept/test_leaks; and 1 more), 1 passed"], "\(result.stderr)")
    }
}
