import Foundation
import Testing

/// HeapDiffTesting as a user's package gets it: Examples/leak-tests/swift
/// depends on this package by path, with a leaking and a bounded test in
/// XCTest and in Swift Testing, and runs under `heapdiff run -- swift test`
/// and `heapdiff check -- swift test`.
/// The example is built once (tests only), into build/leak-tests-swift.
@Suite struct HeapDiffTestingTests {
    static let example = Harness.packageRoot.appendingPathComponent("Examples/leak-tests/swift")
    static let scratch = Harness.packageRoot.appendingPathComponent("build/leak-tests-swift")

    /// Built on first use, shared by the tests of this suite.
    static let build: Result<Void, Harness.Failure> = {
        do {
            let result = try Harness.run("/usr/bin/env", arguments: ["swift", "build", "--build-tests",
                                                                     "--package-path", example.path,
                                                                     "--scratch-path", scratch.path],
                                         preload: false, timeout: 1200)
            guard result.status == 0 else {
                return .failure(Harness.Failure(description: "building \(example.path): \(result.stdoutText)\(result.stderr)"))
            }
            return .success(())
        } catch {
            return .failure(Harness.Failure(description: "building \(example.path): \(error)"))
        }
    }()

    static func swiftTest(under heapdiff: [String], arguments: [String] = []) throws -> Harness.Result {
        try build.get()
        let swiftTest = ["swift", "test", "--skip-build", "--package-path", example.path, "--scratch-path", scratch.path]
            + arguments
        return heapdiff.isEmpty
            ? try Harness.run("/usr/bin/env", arguments: swiftTest, preload: false, timeout: 600)
            : try Harness.run(Harness.cli, arguments: heapdiff + ["--", "/usr/bin/env"] + swiftTest, preload: false,
                              timeout: 600)
    }

    /// The line of the first line of FILE (under the example) containing TEXT.
    static func line(containing text: String, in file: String) throws -> Int {
        let source = try String(contentsOf: example.appendingPathComponent(file), encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard let index = lines.firstIndex(where: { $0.contains(text) }) else {
            throw Harness.Failure(description: "no '\(text)' in \(file)")
        }
        return index + 1
    }

    @Test func leakingTestsFailNamingTheLineUnderHeapdiffRun() throws {
        let dir = try Harness.temporaryDirectory("hdtesting")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("snapshots")
        let run = try Self.swiftTest(under: ["run", "--quiet", "--output", out.path])
        let output = run.stdoutText
        #expect(run.status == 1, "\(output)\(run.stderr)")

        let leak = "Sources/SessionStore/SessionStore.swift:\(try Self.line(containing: "// never removed", in: "Sources/SessionStore/SessionStore.swift"))"
        let xctestFile = "Tests/SessionStoreLeakTests/SessionStoreLeakTests.swift"
        let swiftTestingFile = "Tests/SessionStoreLeakTests/SessionStoreSwiftTestingLeakTests.swift"
        // XCTest: 5 rounds of 1,000 logins, rounds 2 to 5 compared: 3 × 2,000 blocks (the audit array and its string).
        let lines = output.split(separator: "\n")
        let xctestFailure = lines.first { $0.contains("SessionStoreLeakTests.testLoginLogoutCycleDoesNotGrow : threw error") }
        #expect(xctestFailure?.contains("threw error \"\(leak): grew +486 KiB (+6000 blocks): ") == true, "\(output)")
        #expect(output.contains("""
                \(leak) in SessionStore.SessionStore.login(user: Swift.String) -> Swift.Int (SessionStoreLeakTestPackageTests.xctest)
                \(xctestFile):\(try Self.line(containing: "store.logout(store.login(", in: xctestFile)) in closure #1
            """), "\(output)")
        #expect(output.contains("Test Case 'SessionStoreLeakTests.testTokenRefreshStaysBounded' passed"))
        // Swift Testing: 4 rounds, 2 × 2,000 blocks, and 2 × 1,000 in the second case.
        let swiftTestingFailure = lines.first {
            $0.contains("✘ Test loginLogoutCycleDoesNotGrow(users:) recorded an issue with 1 argument users → 1000")
        }
        #expect(swiftTestingFailure?.contains("Caught error: \(leak): grew +346 KiB (+4000 blocks): ") == true, "\(output)")
        let secondCase = lines.first {
            $0.contains("✘ Test loginLogoutCycleDoesNotGrow(users:) recorded an issue with 1 argument users → 500")
        }
        #expect(secondCase?.contains("Caught error: \(leak): grew +173 KiB (+2000 blocks): ") == true, "\(output)")
        #expect(output.contains("    \(swiftTestingFile):\(try Self.line(containing: "store.logout(store.login(", in: swiftTestingFile)) in closure #1"))
        #expect(output.contains("✔ Test tokenRefreshStaysBounded() passed"), "\(output)")
        // Two warm-up rounds leave a cache filling over the first three out.
        #expect(output.contains("✔ Test fillingCacheStaysBoundedAfterWarmUp() passed"), "\(output)")
        // Async bodies: the leak reached from child tasks is named through their frames; the bounded one passes.
        let concurrentFailure = lines.first {
            $0.contains("✘ Test concurrentLoginLogoutDoesNotGrow() recorded an issue")
        }
        #expect(concurrentFailure?.contains("Caught error: \(leak): grew +346 KiB (+4000 blocks): ") == true, "\(output)")
        #expect(output.contains("    Sources/SessionStore/SessionService.swift:\(try Self.line(containing: "func login(", in: "Sources/SessionStore/SessionService.swift")) in SessionStore.SessionService.login(user: Swift.String) -> Swift.Int"), "\(output)")
        #expect(output.contains("Test Case 'SessionStoreLeakTests.testConcurrentTokenRefreshStaysBounded' passed"), "\(output)")

        // The failed expectations keep their rounds' snapshots, where the failure says; the passed ones do not.
        let kept = out.appendingPathComponent("HeapDiffTesting")
        let folders = try FileManager.default.contentsOfDirectory(atPath: kept.path).sorted()
        let xctestLine = try Self.line(containing: "try expectNoHeapGrowth {", in: xctestFile)
        let swiftTestingLine = try Self.line(containing: "try expectNoHeapGrowth(rounds: 4)", in: swiftTestingFile)
        let asyncLine = try Self.line(containing: "try await expectNoHeapGrowth(rounds: 4)", in: swiftTestingFile)
        // The parameterized test's second case keeps its own folder, not the first case's.
        #expect(folders == ["SessionStoreLeakTests.swift-\(xctestLine)",
                            "SessionStoreSwiftTestingLeakTests.swift-\(swiftTestingLine)",
                            "SessionStoreSwiftTestingLeakTests.swift-\(swiftTestingLine)-2",
                            "SessionStoreSwiftTestingLeakTests.swift-\(asyncLine)"])
        #expect(try Harness.snapshotFiles(in: kept.appendingPathComponent(folders[0])).count == 5)
        #expect(try folders.dropFirst().map { try Harness.snapshotFiles(in: kept.appendingPathComponent($0)).count }
                == [4, 4, 4])
        #expect(output.contains("snapshots in \(kept.path)/\(folders[0])\""))

        // Each process (XCTest's, Swift Testing's) recorded its verdicts in a file of its own.
        let records = try FileManager.default.contentsOfDirectory(atPath: out.path)
            .filter { $0.hasPrefix("leak-tests.") && $0.hasSuffix(".verdicts") }
            .map { try String(contentsOf: out.appendingPathComponent($0), encoding: .utf8) }
        let statuses = records.map { $0.split(separator: "\n").map { $0.split(separator: "\t")[0] } }
        #expect(statuses.map { $0.sorted() }.sorted { $0.count < $1.count }
                == [["leaked", "passed", "passed"], ["leaked", "leaked", "leaked", "passed", "passed"]],
                "\(records)")
    }

    /// `heapdiff check -- swift test` with the ARGUMENTS after `swift test`:
    /// the result, and check's own lines (standard error) with pids as "N".
    static func check(_ arguments: [String], output: URL? = nil) throws -> (result: Harness.Result, lines: [String]) {
        let result = try swiftTest(under: ["check"] + (output.map { ["--output", $0.path] } ?? []), arguments: arguments)
        let lines = result.stderr.split(separator: "\n").map { String($0.replacing(/pid \d+\)/, with: "pid N)")) }
        return (result, lines)
    }

    @Test func underHeapdiffCheckLeakingTestsFailTheCheckNamingTheLine() throws {
        let dir = try Harness.temporaryDirectory("hdtesting-check")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("snapshots")
        let (check, lines) = try Self.check([], output: out)
        // swift test failed because its leak tests did: the verdict is the leak (1), not "the program failed" (3).
        #expect(check.status == 1, "\(check.stdoutText)\(check.stderr)")
        let source = "Sources/SessionStore/SessionStore.swift"
        let leak = "\(source):\(try Self.line(containing: "// never removed", in: source))"
        let xctestLine = try Self.line(containing: "try expectNoHeapGrowth {",
                                       in: "Tests/SessionStoreLeakTests/SessionStoreLeakTests.swift")
        let swiftTestingLine = try Self.line(containing: "try expectNoHeapGrowth(rounds: 4)",
                                             in: "Tests/SessionStoreLeakTests/SessionStoreSwiftTestingLeakTests.swift")
        let kept = out.appendingPathComponent("HeapDiffTesting").path
        #expect(lines.contains("leak test SessionStoreLeakTests/SessionStoreLeakTests.swift:\(xctestLine) in "
            + "testLoginLogoutCycleDoesNotGrow() (HeapDiffTesting, pid N) kept growing: \(leak): grew +486 KiB "
            + "(+6000 blocks); snapshots in \(kept)/SessionStoreLeakTests.swift-\(xctestLine)"), "\(check.stderr)")
        #expect(lines.contains("leak test SessionStoreLeakTests/SessionStoreSwiftTestingLeakTests.swift:\(swiftTestingLine) "
            + "in loginLogoutCycleDoesNotGrow(users:) (HeapDiffTesting, pid N) kept growing: \(leak): grew +346 KiB "
            + "(+4000 blocks); snapshots in \(kept)/SessionStoreSwiftTestingLeakTests.swift-\(swiftTestingLine)"),
                "\(check.stderr)")
        #expect(lines.contains("leak test SessionStoreLeakTests/SessionStoreSwiftTestingLeakTests.swift:\(swiftTestingLine) "
            + "in loginLogoutCycleDoesNotGrow(users:), run 2 there (HeapDiffTesting, pid N) kept growing: \(leak): grew "
            + "+173 KiB (+2000 blocks); snapshots in \(kept)/SessionStoreSwiftTestingLeakTests.swift-\(swiftTestingLine)-2"),
                "\(check.stderr)")
        let asyncLine = try Self.line(containing: "try await expectNoHeapGrowth(rounds: 4)",
                                      in: "Tests/SessionStoreLeakTests/SessionStoreSwiftTestingLeakTests.swift")
        #expect(lines.contains("leak test SessionStoreLeakTests/SessionStoreSwiftTestingLeakTests.swift:\(asyncLine) "
            + "in concurrentLoginLogoutDoesNotGrow() (HeapDiffTesting, pid N) kept growing: \(leak): grew +346 KiB "
            + "(+4000 blocks); snapshots in \(kept)/SessionStoreSwiftTestingLeakTests.swift-\(asyncLine)"), "\(check.stderr)")
        #expect(lines.last == "heapdiff check: FAILED: 4 of 8 leak tests judged by HeapDiffTesting in 2 processes kept growing")
        #expect(lines.contains("heapdiff: /usr/bin/env exited with status 1"))
    }

    @Test func underHeapdiffCheckBoundedTestsPassTheCheck() throws {
        let (check, lines) = try Self.check(["--filter", "StaysBounded"])
        #expect(check.status == 0, "\(check.stdoutText)\(check.stderr)")
        #expect(check.stdoutText.contains("Test Case 'SessionStoreLeakTests.testTokenRefreshStaysBounded' passed"))
        #expect(check.stdoutText.contains("Test Case 'SessionStoreLeakTests.testConcurrentTokenRefreshStaysBounded' passed"))
        #expect(lines.last == "heapdiff check: passed: 4 leak tests judged by HeapDiffTesting in 2 processes; "
            + "none kept growing", "\(check.stderr)")
    }

    @Test func underHeapdiffCheckWithoutLeakTestsNothingSpansTheWorkload() throws {
        let (check, lines) = try Self.check(["--filter", "NoSuchTest"])
        #expect(check.status == 2, "\(check.stdoutText)\(check.stderr)")
        #expect(lines.last?.hasPrefix("heapdiff: error: ") == true)
        #expect(lines.last?.contains("took no snapshot of its own, so no comparison spans its workload") == true,
                "\(check.stderr)")
    }

    @Test func withoutTheRecorderBodiesRunOnceAndEachProcessSaysSo() throws {
        let run = try Self.swiftTest(under: [])
        #expect(run.status == 0, "\(run.stdoutText)\(run.stderr)")
        let notice = "HeapDiffTesting: the heapdiff recorder is not loaded, so expectNoHeapGrowth runs each body once "
            + "and judges nothing; run the tests under heapdiff (`heapdiff run -- swift test`)"
        // swift test runs the XCTest and the Swift Testing tests in two processes: once in each.
        let said = (run.stdoutText + run.stderr).split(separator: "\n").filter { $0 == notice }
        #expect(said.count == 2, "\(run.stdoutText)\(run.stderr)")
    }

    /// The user's test binary links HeapDiffTesting, not the CLI's ArgumentParser.
    @Test func testTargetDoesNotLinkArgumentParser() throws {
        try Self.build.get()
        let binary = Self.scratch.appendingPathComponent("debug/SessionStoreLeakTestPackageTests.xctest").path
        let symbols = try Harness.run("/usr/bin/nm", arguments: [binary], preload: false).stdoutText
        #expect(symbols.contains(" T $s15HeapDiffTesting"))
        #expect(!symbols.contains("14ArgumentParser"))
    }
}
