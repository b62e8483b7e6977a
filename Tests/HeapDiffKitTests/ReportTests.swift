import Testing
@testable import HeapDiffKit

@Suite struct ReportTests {
    /// Expected strings are what tracemalloc's _format_size prints.
    @Test func sizesLikeTracemalloc() {
        #expect(SizeFormatting.size(0 as Int64) == "0 B")
        #expect(SizeFormatting.size(1023 as Int64) == "1023 B")
        #expect(SizeFormatting.size(10_239 as Int64) == "10239 B")
        #expect(SizeFormatting.size(10_240 as Int64) == "10.0 KiB")
        #expect(SizeFormatting.size(102_400 as Int64) == "100 KiB")
        #expect(SizeFormatting.size(12_897_485 as Int64) == "12.3 MiB")
        #expect(SizeFormatting.size(5 * (1 << 50) as Int64) == "5120 TiB")
        #expect(SizeFormatting.size(12_897.485) == "12.6 KiB")
        #expect(SizeFormatting.size(2.5) == "2 B")
        #expect(SizeFormatting.size(0 as Int64, signed: true) == "+0 B")
        #expect(SizeFormatting.size(-300 as Int64, signed: true) == "-300 B")
        #expect(SizeFormatting.size(10_590_617 as Int64, signed: true) == "+10.1 MiB")
        #expect(SizeFormatting.size(-10_590_617 as Int64, signed: true) == "-10.1 MiB")
    }

    @Test func counts() {
        #expect(SizeFormatting.count(900, signed: true) == "+900")
        #expect(SizeFormatting.count(-3, signed: true) == "-3")
        #expect(SizeFormatting.count(1000) == "1000")
        #expect(SizeFormatting.groupedCount(1_234) == "1,234")
        #expect(SizeFormatting.groupedCount(999) == "999")
        #expect(SizeFormatting.groupedCount(1_234_567, signed: true) == "+1,234,567")
        #expect(SizeFormatting.groupedCount(-1_000) == "-1,000")
        #expect(SizeFormatting.groupedCount(.min) == "-9,223,372,036,854,775,808")
    }

    static let serverSite = Frame(module: "/srv/server", offset: 0x1234, function: "handle", file: "/src/server.c", line: 42)
    static let mainFrame = Frame(module: "/srv/server", offset: 0x2000, function: "main", file: "/src/main.c", line: 7)

    @Test func diffRowsInTracemallocStyle() {
        let diff = StatisticDiff(key: .line(file: "/src/server.c", line: 42), site: Self.serverSite,
                                 size: 12_897_485, sizeDiff: 10_590_617, count: 1000, countDiff: 900,
                                 traceback: [Self.serverSite, Self.mainFrame])
        let gone = StatisticDiff(key: .address(module: "/usr/lib/libz.so.1", offset: 0x99), site: Frame(module: "/usr/lib/libz.so.1", offset: 0x99),
                                 size: 0, sizeDiff: -4096, count: 0, countDiff: -2, traceback: [])
        let report = TextReport(keyType: .lineno, paths: PathDisplay(baseDirectory: "/src/"))
        let lines = report.diff([diff, gone], total: HeapTotal(size: 12_897_485, count: 1_234, sizeDiff: 10_590_617, countDiff: 900))
        #expect(lines == [
            "server.c:42:    size=12.3 MiB (+10.1 MiB), count=1000 (+900), average=12.6 KiB",
            "libz.so.1+0x99: size=0 B (-4096 B), count=0 (-2)",
            "total: 12.3 MiB (+10.1 MiB) in 1,234 blocks (+900)",
        ])
    }

    @Test func topRowsWithTracebacks() {
        let statistic = Statistic(key: .traceback([.line(file: "/src/server.c", line: 42), .line(file: "/src/main.c", line: 7)]),
                                  site: Self.serverSite, size: 2048, count: 2,
                                  traceback: [Self.serverSite, Self.mainFrame, Frame(module: "", offset: 0xdead)])
        let report = TextReport(keyType: .traceback, paths: PathDisplay(baseDirectory: "/elsewhere"))
        #expect(report.top([statistic], total: HeapTotal(size: 4096, count: 3)) == [
            "/src/server.c:42: size=2048 B, count=2, average=1024 B",
            "    /src/server.c:42 in handle (server)",
            "    /src/main.c:7 in main (server)",
            "    0xdead",
            "total: 4096 B in 3 blocks",
        ])
    }

    @Test func frameDescriptions() {
        #expect(Self.serverSite.description == "/src/server.c:42 in handle (server)")
        #expect(Frame(module: "/lib/libc.so.6", offset: 0x1f, function: "strdup").description == "strdup (libc.so.6+0x1f)")
        #expect(Frame(module: "/lib/libc.so.6", offset: 0x1f).description == "libc.so.6+0x1f")
        #expect(Frame(module: "", offset: 0x7fff1234).description == "0x7fff1234")
    }

    @Test func keyLabels() {
        let paths = PathDisplay(baseDirectory: "/src")
        #expect(GroupKey.line(file: "/src/a/b.c", line: 3).label(paths: paths) == "a/b.c:3")
        #expect(GroupKey.line(file: "/srcx/b.c", line: 3).label(paths: paths) == "/srcx/b.c:3")
        #expect(GroupKey.function(name: "parse", module: "/srv/app").label() == "parse (app)")
        #expect(GroupKey.file(path: "/src/x.c").label(paths: paths) == "x.c")
        #expect(GroupKey.module(path: "/lib/libc.so.6").label() == "/lib/libc.so.6")
        #expect(GroupKey.address(module: "", offset: 0xff).label() == "0xff")
        #expect(GroupKey.noFrames.label() == "<no frames>")
        #expect(PathDisplay(baseDirectory: "/").show("/etc/x") == "etc/x")
    }
}
