import Foundation
import Testing
@testable import HeapDiffKit

/// Every command's JSON carries `format_version` and `command`, and shows a
/// frame the same way (docs/JSON.md, "Frame"): top's and diff's statistics
/// and tracebacks, check's findings and tracebacks, trend's sites.
@Suite struct JSONShapeTests {
    static let native = Frame(module: "/usr/lib/x86_64-linux-gnu/libc.so.6", offset: 0x1000, function: "malloc")
    static let python = Frame(module: "/app/store.py", offset: 8, function: "Store.handle", file: "/app/store.py",
                              line: 14, isPython: true)
    static let inlined = Frame(module: "/srv/app", offset: 0x20, function: "helper", file: "/src/a.c", line: 3,
                               inlined: true)

    /// The documented frame, written out by hand.
    static var expected: [String: NSDictionary] { [
        "malloc": ["file": NSNull(), "line": NSNull(), "function": "malloc",
                   "module": "/usr/lib/x86_64-linux-gnu/libc.so.6", "offset": 4096, "inlined": false],
        "Store.handle": ["file": "/app/store.py", "line": 14, "function": "Store.handle", "module": "/app/store.py",
                         "offset": 8, "inlined": false, "python": true],
        "helper": ["file": "/src/a.c", "line": 3, "function": "helper", "module": "/srv/app", "offset": 32,
                   "inlined": true],
    ] }
    static let frameKeys: Set = ["file", "line", "function", "module", "offset", "inlined"]

    static func decode(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The frame keys of an object (a site's, or a traceback frame's).
    static func frame(of object: [String: Any]) -> NSDictionary {
        NSDictionary(dictionary: object.filter { frameKeys.contains($0.key) || $0.key == "python" })
    }

    static func expectFrames(_ objects: [[String: Any]], _ frames: [Frame]) {
        #expect(objects.count == frames.count)
        for (object, shown) in zip(objects, frames) {
            #expect(frame(of: object) == expected[shown.function ?? ""], "\(object)")
        }
    }

    @Test func topShowsTheFrame() throws {
        let statistic = Statistic(key: .line(file: "/app/store.py", line: 14), site: Self.python, size: 64, count: 1,
                                  traceback: [Self.native, Self.python, Self.inlined])
        let snapshot = Snapshot(path: "app.1.1.heapsnap", process: ProcessRecord(pid: 1, seq: 1, trigger: .api))
        let json = try Self.decode(JSONReport.top([statistic], snapshot: snapshot, keyType: .lineno))
        #expect(json["format_version"] as? Int == 2 && json["command"] as? String == "top")
        let row = try #require((json["statistics"] as? [[String: Any]])?.first)
        Self.expectFrames([row], [Self.python])
        Self.expectFrames(try #require(row["traceback"] as? [[String: Any]]), [Self.native, Self.python, Self.inlined])
    }

    @Test func checkShowsTheFrameAsTopDoes() throws {
        let finding = LeakCheck.Finding(key: .line(file: "/app/store.py", line: 14), site: Self.python,
                                        traceback: [Self.native, Self.python, Self.inlined],
                                        sizes: [1000, 2000], counts: [1, 2])
        let result = LeakCheck.Result(compared: [], findings: [finding], totalSizeDiff: 1000, totalCountDiff: 1,
                                      totalExceeded: false)
        let report = CheckReport(result: result, policy: LeakCheck.Policy(maxGrowthPerSite: 512), keyType: .lineno,
                                 limit: 0, directory: "/tmp/s", paths: .unchanged)
        let json = try Self.decode(try report.json())
        #expect(json["format_version"] as? Int == 2 && json["command"] as? String == "check")
        #expect(json["passed"] as? Bool == false && json["max_growth"] is NSNull && json["leak_tests"] == nil)
        let row = try #require((json["findings"] as? [[String: Any]])?.first)
        Self.expectFrames([row], [Self.python])
        #expect(row["size_diff"] as? Int == 1000 && row["sizes"] as? [Int] == [1000, 2000])
        Self.expectFrames(try #require(row["traceback"] as? [[String: Any]]), [Self.native, Self.python, Self.inlined])

        // With leak tests: their verdicts, and `passed` the whole check's.
        let verdicts = LeakTestsReport(verdicts: [LeakTestVerdict(status: .passed, harness: "pytest-heapdiff",
                                                                  test: "test_a", pid: 42)], paths: .unchanged)
        let both = try Self.decode(try CheckReport.json(own: report, leakTests: verdicts))
        #expect(both["format_version"] as? Int == 2 && both["passed"] as? Bool == false)
        #expect((both["findings"] as? [Any])?.count == 1)
        let tests = try #require(both["leak_tests"] as? [[String: Any]])
        #expect(NSDictionary(dictionary: tests[0]) == ["status": "passed", "harness": "pytest-heapdiff",
                                                        "test": "test_a", "pid": 42, "snapshots": "", "summary": ""])
        let alone = try Self.decode(try CheckReport.json(own: nil, leakTests: verdicts))
        #expect(Set(alone.keys) == ["format_version", "command", "passed", "leak_tests"])
        #expect(alone["passed"] as? Bool == true)
    }

    @Test func trendShowsTheFrameAsTopDoes() throws {
        let analysis = try TrendAnalysis.analyze(TrendTests.run(), symbolizer: Symbolizer())
        let report = TrendReport(analysis: analysis, keyType: .lineno, limit: 1, target: nil, paths: .unchanged)
        let json = try Self.decode(try report.json())
        #expect(json["format_version"] as? Int == 2 && json["command"] as? String == "trend")
        #expect(json["extrapolation"] is NSNull)
        let site = try #require((json["sites"] as? [[String: Any]])?.first)
        // An address without a module: no symbol, the runtime address as the offset.
        #expect(Self.frame(of: site) == ["file": NSNull(), "line": NSNull(), "function": NSNull(), "module": "",
                                         "offset": 16, "inlined": false])
        #expect((site["series"] as? [String: Any])?["verdict"] as? String == "steady growth")
    }
}
