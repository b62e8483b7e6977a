import Testing
@testable import HeapDiffKit

/// `CheckReport`'s stacks: whole, or short as the test integrations show them.
@Suite struct CheckReportTests {
    static func python(_ file: String, _ line: Int, _ function: String) -> Frame {
        Frame(module: file, offset: 0, function: function, file: file, line: line, isPython: true)
    }

    /// malloc ← the site in the program ← two callers of its own ← pytest
    /// (an installed package) ← the test file again, called by pytest.
    static let traceback = [
        Frame(module: "/usr/lib/x86_64-linux-gnu/libc.so.6", offset: 0x1000, function: "malloc"),
        python("/app/store.py", 14, "Store.handle"),
        python("/app/test_store.py", 22, "test_store"),
        python("/app/test_store.py", 30, "helper"),
        python("/venv/lib/python3.11/site-packages/_pytest/python.py", 166, "pytest_pyfunc_call"),
        python("/app/conftest.py", 5, "outer"),
    ]

    static func report(stackFrames: Int?) -> [String] {
        let site = traceback[1]
        let finding = LeakCheck.Finding(key: .line(file: "/app/store.py", line: 14), site: site, traceback: traceback,
                                        sizes: [1000, 2000, 3000], counts: [1, 2, 3])
        let result = LeakCheck.Result(compared: [], findings: [finding], totalSizeDiff: 2000, totalCountDiff: 2,
                                      totalExceeded: false)
        return CheckReport(result: result, policy: LeakCheck.Policy(maxGrowthPerSite: 1024), keyType: .lineno,
                           limit: 0, directory: "/tmp/s", paths: PathDisplay(baseDirectory: "/app"),
                           stackFrames: stackFrames).text()
    }

    @Test func wholeStackByDefault() {
        let lines = Self.report(stackFrames: nil)
        #expect(lines.first == "store.py:14: grew +2000 B (+2 blocks): 1000 B → 2000 B → 3000 B")
        #expect(lines.dropFirst().prefix(Self.traceback.count).count == Self.traceback.count)
        #expect(lines[1] == "    malloc (libc.so.6+0x1000)")
    }

    @Test func shortStackIsTheSiteAndItsOwnCallersUpToPlumbing() {
        #expect(Array(Self.report(stackFrames: 5).dropFirst().dropLast()) == [
            "    store.py:14 in Store.handle (Python)",
            "    test_store.py:22 in test_store (Python)",
            "    test_store.py:30 in helper (Python)",
        ])
        #expect(Array(Self.report(stackFrames: 2).dropFirst().dropLast()) == [
            "    store.py:14 in Store.handle (Python)",
            "    test_store.py:22 in test_store (Python)",
        ])
    }

    /// A sampled pass says how large a leak the rate could have missed,
    /// when that is above the limit; a pass of every allocation does not.
    @Test func aSampledPassSaysWhatItCannotSee() {
        func verdict(rate: UInt64, limit: Int64) -> String? {
            var result = LeakCheck.Result(compared: [], findings: [], totalSizeDiff: 145_408, totalCountDiff: 5957,
                                          totalExceeded: false)
            result.totalSizeDiffStandardError = rate > 0 ? 113_664 : 0
            result.sampleRate = rate
            return CheckReport(result: result, policy: LeakCheck.Policy(maxGrowthPerSite: limit), keyType: .lineno,
                               limit: 0, directory: "/tmp/s", paths: PathDisplay(baseDirectory: "/app")).text().last
        }
        #expect(verdict(rate: 65_536, limit: 4096) == "heapdiff check: passed: no call site grew by more than 4096 B and "
            + "beyond 3 standard errors; the traced heap grew ~+142 KiB ±111 KiB (~+5957 blocks) over 0 snapshots ( … ), "
            + "sampled every 64.0 KiB; at this rate a site must grow by about 576 KiB to be told from sampling noise, "
            + "so a smaller leak passes: a lower --sample, or none, sees it")
        #expect(verdict(rate: 65_536, limit: 1 << 20)?.hasSuffix("sampled every 64.0 KiB") == true)
        #expect(verdict(rate: 0, limit: 4096)?.hasSuffix("over 0 snapshots ( … )") == true)
    }

    /// The one line a harness records for `heapdiff check`: the first three
    /// grown sites, how many more, and the heap's growth past --max-growth.
    @Test func summaryNamesTheGrownSitesInOneLine() {
        func finding(_ line: Int, _ sizes: [Int64]) -> LeakCheck.Finding {
            LeakCheck.Finding(key: .line(file: "/app/store.py", line: line), site: Self.traceback[1],
                              traceback: Self.traceback, sizes: sizes, counts: [1, 3])
        }
        let findings = [finding(14, [0, 2048]), finding(15, [0, 1024]), finding(16, [0, 512]), finding(17, [0, 256])]
        func summary(_ findings: [LeakCheck.Finding], exceeded: Bool) -> String {
            CheckReport(result: LeakCheck.Result(compared: [], findings: findings, totalSizeDiff: 4096, totalCountDiff: 8,
                                                 totalExceeded: exceeded),
                        policy: LeakCheck.Policy(maxGrowthPerSite: 100, maxTotalGrowth: 1000), keyType: .lineno,
                        limit: 0, directory: "/tmp/s", paths: PathDisplay(baseDirectory: "/app")).summary()
        }
        #expect(summary(Array(findings.prefix(1)), exceeded: false) == "store.py:14: grew +2048 B (+2 blocks)")
        #expect(summary(findings, exceeded: true) == "store.py:14: grew +2048 B (+2 blocks); "
            + "store.py:15: grew +1024 B (+2 blocks); store.py:16: grew +512 B (+2 blocks); and 1 more call sites; "
            + "the heap grew +4096 B, past 1000 B")
        #expect(summary([], exceeded: false) == "")
    }
}
