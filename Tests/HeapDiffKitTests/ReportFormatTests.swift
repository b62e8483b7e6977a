import Testing
@testable import HeapDiffKit

/// The three output formats, byte for byte, from snapshots written with
/// SnapshotBuilder and read back: what `heapdiff top` and `diff` print.
@Suite struct ReportFormatTests {
    static let server = "/opt/app/bin/server"
    static let module = Module(index: 0, path: server, buildID: [0xab, 0xcd], loadBias: 0x1000,
                               ranges: [0x2000..<0x3000])

    /// Two snapshots of one process. Its module cannot be opened, so frames
    /// stay module+offset (0x2100 - bias 0x1000 = 0x1100 = 4352).
    static func snapshots() throws -> (old: Snapshot, new: Snapshot) {
        let oldBytes = SnapshotBuilder(
            process: ProcessRecord(pid: 100, seq: 1, trigger: .api, wallTimeNs: 1_700_000_000_000_000_000,
                                   liveBytes: 150, liveCount: 3, program: server, label: "before"),
            modules: [module],
            traces: [Trace(liveBytes: 100, liveCount: 1, frames: [0x2100, 0x2200]),
                     Trace(liveBytes: 50, liveCount: 2, frames: [0x2300])]
        ).bytes()
        let newBytes = SnapshotBuilder(
            process: ProcessRecord(pid: 100, seq: 2, trigger: .signal, wallTimeNs: 1_700_000_001_000_000_000,
                                   liveBytes: 310, liveCount: 4, program: server, label: "after"),
            modules: [module],
            traces: [Trace(liveBytes: 300, liveCount: 3, frames: [0x2100, 0x2200]),
                     Trace(liveBytes: 10, liveCount: 1, frames: [0x9999])]
        ).bytes()
        return (try Snapshot.parse(bytes: oldBytes, name: "old.heapsnap"),
                try Snapshot.parse(bytes: newBytes, name: "new.heapsnap"))
    }

    static let options = StatisticsOptions(keyType: .lineno, rule: .innermostFrame)

    // MARK: - CSV

    @Test func csvOfADiff() throws {
        let (old, new) = try Self.snapshots()
        let diffs = new.compare(to: old, Self.options, symbolizer: Symbolizer())
        #expect(CSVReport.diff(diffs) == """
            size,size_diff,count,count_diff,file,line,function,module
            300,200,3,2,,,,/opt/app/bin/server
            0,-50,0,-2,,,,/opt/app/bin/server
            10,10,1,1,,,,

            """)
    }

    @Test func csvOfTopHasNoDiffColumns() throws {
        let (_, new) = try Self.snapshots()
        let statistics = new.statistics(Self.options, symbolizer: Symbolizer())
        #expect(CSVReport.top(statistics) == """
            size,count,file,line,function,module
            300,3,,,,/opt/app/bin/server
            10,1,,,,

            """)
    }

    @Test func csvQuotesLikeRFC4180() {
        let site = Frame(module: "/srv/app,v2/server", offset: 0x10, function: "std::map<int, int>::insert",
                         file: "/src/\"odd\".cc", line: 7)
        let weird = Frame(module: "/srv/two\nlines\r", offset: 0x20, function: "plain", file: "/src/plain.c", line: 1)
        let statistics = [
            Statistic(key: .line(file: "/src/\"odd\".cc", line: 7), site: site, size: -0, count: 1, traceback: []),
            Statistic(key: .line(file: "/src/plain.c", line: 1), site: weird, size: 5, count: 2, traceback: []),
        ]
        #expect(CSVReport.top(statistics) == "size,count,file,line,function,module\n"
            + "0,1,\"/src/\"\"odd\"\".cc\",7,\"std::map<int, int>::insert\",\"/srv/app,v2/server\"\n"
            + "5,2,/src/plain.c,1,plain,\"/srv/two\nlines\r\"\n")
        #expect(CSVReport.quoted("") == "")
        #expect(CSVReport.quoted("\"") == "\"\"\"\"")
    }

    // MARK: - JSON

    @Test func jsonOfADiff() throws {
        let (old, new) = try Self.snapshots()
        let symbolizer = Symbolizer()
        let diffs = new.compare(to: old, Self.options, symbolizer: symbolizer)
        let total = new.total(comparedTo: old, Self.options, symbolizer: symbolizer)
        #expect(JSONReport.diff(diffs, old: old, new: new, keyType: .lineno, total: total) == """
            {
              "format_version": 2,
              "command": "diff",
              "key_type": "lineno",
              "sampled": false,
              "old": {"path": "old.heapsnap", "program": "/opt/app/bin/server", "pid": 100, "seq": 1, "label": "before", "trigger": "api", "wall_time_ns": 1700000000000000000, "sample_rate": 0},
              "new": {"path": "new.heapsnap", "program": "/opt/app/bin/server", "pid": 100, "seq": 2, "label": "after", "trigger": "signal", "wall_time_ns": 1700000001000000000, "sample_rate": 0},
              "total": {"size": 310, "size_diff": 160, "count": 4, "count_diff": 1, "size_stderr": 0, "size_diff_stderr": 0},
              "statistics": [
                {
                  "size": 300,
                  "size_diff": 200,
                  "count": 3,
                  "count_diff": 2,
                  "size_stderr": 0,
                  "size_diff_stderr": 0,
                  "file": null,
                  "line": null,
                  "function": null,
                  "module": "/opt/app/bin/server",
                  "offset": 4352,
                  "inlined": false,
                  "traceback": [
                    {"file": null, "line": null, "function": null, "module": "/opt/app/bin/server", "offset": 4352, "inlined": false},
                    {"file": null, "line": null, "function": null, "module": "/opt/app/bin/server", "offset": 4608, "inlined": false}
                  ]
                },
                {
                  "size": 0,
                  "size_diff": -50,
                  "count": 0,
                  "count_diff": -2,
                  "size_stderr": 0,
                  "size_diff_stderr": 0,
                  "file": null,
                  "line": null,
                  "function": null,
                  "module": "/opt/app/bin/server",
                  "offset": 4864,
                  "inlined": false,
                  "traceback": [
                    {"file": null, "line": null, "function": null, "module": "/opt/app/bin/server", "offset": 4864, "inlined": false}
                  ]
                },
                {
                  "size": 10,
                  "size_diff": 10,
                  "count": 1,
                  "count_diff": 1,
                  "size_stderr": 0,
                  "size_diff_stderr": 0,
                  "file": null,
                  "line": null,
                  "function": null,
                  "module": "",
                  "offset": 39321,
                  "inlined": false,
                  "traceback": [
                    {"file": null, "line": null, "function": null, "module": "", "offset": 39321, "inlined": false}
                  ]
                }
              ]
            }
            """)
    }

    @Test func jsonOfTopWithSymbolsAndNoRows() throws {
        let snapshot = Snapshot(path: "a.heapsnap", process: ProcessRecord(pid: 7, seq: 3, trigger: .unknown(9),
                                                                         liveBytes: 100, liveCount: 2))
        let site = Frame(module: "/srv/server", offset: 0x1234, function: "handle", file: "/src/server.c", line: 42)
        let inlined = Frame(module: "/srv/server", offset: 0x1234, function: "grow", file: "/src/vec.h", line: 9,
                            inlined: true)
        let statistic = Statistic(key: .line(file: "/src/server.c", line: 42), site: site, size: 64, count: 1,
                                  traceback: [inlined, site])
        #expect(JSONReport.top([statistic], snapshot: snapshot, keyType: .traceback) == """
            {
              "format_version": 2,
              "command": "top",
              "key_type": "traceback",
              "sampled": false,
              "snapshot": {"path": "a.heapsnap", "program": "", "pid": 7, "seq": 3, "label": "", "trigger": "unknown(9)", "wall_time_ns": 0, "sample_rate": 0},
              "total": {"size": 100, "count": 2, "size_stderr": 0},
              "statistics": [
                {
                  "size": 64,
                  "count": 1,
                  "size_stderr": 0,
                  "file": "/src/server.c",
                  "line": 42,
                  "function": "handle",
                  "module": "/srv/server",
                  "offset": 4660,
                  "inlined": false,
                  "traceback": [
                    {"file": "/src/vec.h", "line": 9, "function": "grow", "module": "/srv/server", "offset": 4660, "inlined": true},
                    {"file": "/src/server.c", "line": 42, "function": "handle", "module": "/srv/server", "offset": 4660, "inlined": false}
                  ]
                }
              ]
            }
            """)
        #expect(JSONReport.top([], snapshot: snapshot, keyType: .file, total: HeapTotal(size: 1, count: 1))
            .hasSuffix("""
              "total": {"size": 1, "count": 1, "size_stderr": 0},
              "statistics": []
            }
            """))
    }

    @Test func jsonEscapesStrings() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a\"b"); writer.value("line\nbreak\ttab\\ \u{01}\u{1F} é ✓ /")
        writer.key("none"); writer.value(nil as String?)
        writer.key("list"); writer.beginArray(empty: false); writer.value(-3); writer.value(true); writer.endArray()
        writer.endObject()
        #expect(writer.text == """
            {
              "a\\"b": "line\\nbreak\\ttab\\\\ \\u0001\\u001f é ✓ /",
              "none": null,
              "list": [
                -3,
                true
              ]
            }
            """)
    }

    // MARK: - Text

    static let row = Frame(module: "/srv/server", offset: 0x1234, function: "handle", file: "/src/server.c", line: 42)

    @Test func alignsTheSizeColumnUpToACap() {
        let long = String(repeating: "x", count: 60) + ".c"
        let statistics = [
            Statistic(key: .line(file: "/src/a.c", line: 1), site: Self.row, size: 2048, count: 2, traceback: []),
            Statistic(key: .line(file: "/src/" + long, line: 12345), site: Self.row, size: 1024, count: 1, traceback: []),
            Statistic(key: .function(name: "parse", module: "/srv/app"), site: Self.row, size: 10, count: 0, traceback: []),
        ]
        let report = TextReport(keyType: .lineno, paths: PathDisplay(baseDirectory: "/src"))
        #expect(report.top(statistics, total: HeapTotal(size: 4096, count: 3)) == [
            "a.c:1:       size=2048 B, count=2, average=1024 B",
            long + ":12345: size=1024 B, count=1, average=1024 B",
            "parse (app): size=10 B, count=0",
            "total: 4096 B in 3 blocks",
        ])
    }

    @Test func colouredDiffRows() {
        let grew = StatisticDiff(key: .line(file: "/src/server.c", line: 42), site: Self.row,
                                 size: 3072, sizeDiff: 1024, count: 3, countDiff: 1, traceback: [Self.row])
        let shrank = StatisticDiff(key: .line(file: "/src/b.c", line: 2), site: Self.row,
                                   size: 0, sizeDiff: -8, count: 0, countDiff: 0, traceback: [])
        let report = TextReport(keyType: .traceback, paths: PathDisplay(baseDirectory: "/src"), style: .colored)
        let lines = report.diff([grew, shrank], total: HeapTotal(size: 3072, count: 3, sizeDiff: 0, countDiff: 1))
        let bold = "\u{1B}[1m", red = "\u{1B}[31m", green = "\u{1B}[32m", dim = "\u{1B}[2m", reset = "\u{1B}[0m"
        #expect(lines == [
            "\(bold)server.c:42:\(reset) size=3072 B \(red)(+1024 B)\(reset), count=3 \(red)(+1)\(reset), average=1024 B",
            "\(dim)    server.c:42 in handle (server)\(reset)",
            "\(bold)server.c:42:\(reset) size=0 B \(green)(-8 B)\(reset), count=0 (+0)",
            "\(bold)total:\(reset) 3072 B (+0 B) in 3 blocks \(red)(+1)\(reset)",
        ])
        let plain = TextReport(keyType: .traceback, paths: PathDisplay(baseDirectory: "/src"), style: .plain)
        #expect(plain.diff([grew], total: HeapTotal(size: 1, count: 1)) == [
            "server.c:42: size=3072 B (+1024 B), count=3 (+1), average=1024 B",
            "    server.c:42 in handle (server)",
            "total: 1 B in 1 blocks",
        ])
    }

    @Test(arguments: [
        (ColorMode.auto, true, [String: String](), true),
        (.auto, false, [:], false),
        (.auto, true, ["NO_COLOR": "1"], false),
        (.auto, true, ["NO_COLOR": ""], true),  // no-color.org: only a non-empty value counts
        (.auto, true, ["TERM": "dumb"], false),
        (.always, false, ["NO_COLOR": "1"], true),  // an explicit flag wins
        (.never, true, [:], false),
    ])
    func colourFollowsTheTerminalAndNoColor(mode: ColorMode, isTerminal: Bool, environment: [String: String],
                                            expected: Bool) {
        #expect(mode.isEnabled(isTerminal: isTerminal, environment: environment) == expected)
    }
}
