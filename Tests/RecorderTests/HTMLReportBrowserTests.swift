import Foundation
import HeapDiffKit
import Testing

/// `heapdiff report` on a real traced program, its page rendered by headless
/// Chromium (Debian's, installed by `scripts/setup.sh test`): the page's
/// script records on #render-status what it drew, and `--dump-dom` shows it.
@Suite struct HTMLReportBrowserTests {
    static let chromium = "/usr/bin/chromium"
    static let hasChromium = FileManager.default.isExecutableFile(atPath: chromium)
    static let screenshot = Harness.packageRoot.appendingPathComponent("build/artifacts/report.png")

    /// warmup_and_leak under `run --interval`: a log that leaks steadily and a
    /// cache that warms up; returns the snapshot directory.
    static func recordRun(in dir: URL) throws -> URL {
        let exe = try Harness.build("warmup_and_leak", in: dir)
        let out = dir.appendingPathComponent("snapshots")
        let run = try Harness.run(Harness.cli, arguments: ["run", "--interval", "0.1", "--output", out.path, "--", exe],
                                  preload: false)
        try #require(run.status == 0, "\(run.stderr)")
        return out
    }

    /// Chromium, headless, on `page` (a file URL with an optional #fragment).
    static func chromium(_ arguments: [String], page: String, in dir: URL) throws -> Harness.Result {
        let profile = dir.appendingPathComponent("chromium-profile-\(UUID().uuidString.prefix(8))")
        return try Harness.run(chromium, arguments: ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                                     "--hide-scrollbars", "--user-data-dir=\(profile.path)",
                                                     "--window-size=1280,2400"] + arguments + [page],
                               environment: ["HOME": dir.path], preload: false, timeout: 60)
    }

    /// The data-* attributes of #render-status in the DOM Chromium dumped.
    static func renderStatus(_ dom: String) throws -> [String: String] {
        let tag = try #require(dom.firstMatch(of: /<div id="render-status"[^>]*>/), "no #render-status in \(dom.prefix(500))")
        var attributes: [String: String] = [:]
        for match in String(tag.output).matches(of: /data-([a-z-]+)="([^"]*)"/) {
            attributes[String(match.output.1)] = String(match.output.2)
        }
        return attributes
    }

    static func number(_ status: [String: String], _ key: String) -> Double {
        status[key].flatMap(Double.init) ?? -1
    }

    @Test(.enabled(if: hasChromium, "chromium is not installed (scripts/setup.sh test installs it)"))
    func reportDrawsChartsTablesAndFlameGraphInChromium() throws {
        let dir = try Harness.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let snapshots = try Self.recordRun(in: dir)
        let files = try Harness.snapshotFiles(in: snapshots)
        // The page charts the interval snapshots; the exit snapshot, taken after destructors ran, is left out.
        let charted = try files.filter { try SnapshotFile(path: $0).process.trigger != .exit }
        let count = charted.count
        try #require(count >= 5 && files.count == count + 1, "\(count) of \(files.count) snapshots charted")
        let page = dir.appendingPathComponent("report.html")
        let report = try Harness.run(Harness.cli, arguments: ["report", snapshots.path, "-o", page.path,
                                                              "--title", "leak </script> & <b>report</b>"], preload: false)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stderr.contains("wrote \(page.path) (\(count) snapshots, "), "\(report.stderr)")
        #expect(report.stderr.contains("; the exit snapshot, taken after destructors ran, is left out"), "\(report.stderr)")

        let dump = try Self.chromium(["--dump-dom"], page: page.absoluteString, in: dir)
        try #require(dump.status == 0, "chromium: \(dump.stderr.suffix(2_000))")
        let dom = dump.stdoutText
        let status = try Self.renderStatus(dom)
        #expect(status["status"] == "rendered", "\(status)")
        #expect(status["chartjs"]?.first?.isNumber == true, "\(status)")
        // RSS and live bytes: one point per snapshot each.
        #expect(Self.number(status, "memory-width") > 200 && Self.number(status, "memory-height") > 200, "\(status)")
        #expect(status["memory-datasets"] == "2" && Self.number(status, "memory-points") == Double(2 * count), "\(status)")
        // The log and the cache (nothing else is live at a line of the program).
        #expect(Self.number(status, "sites-width") > 200 && Self.number(status, "sites-height") > 200, "\(status)")
        let siteSets = Self.number(status, "sites-datasets")
        #expect(siteSets >= 2 && Self.number(status, "sites-points") == siteSets * Double(count), "\(status)")
        #expect(Self.number(status, "flame-width") > 800 && Self.number(status, "flame-height") >= 18 * 3, "\(status)")
        #expect(Self.number(status, "flame-rects") >= 3 && status["flame-mode"] == "live", "\(status)")
        #expect(status["trend-rows"] == "2" && status["diff-rows"] == "2", "\(status)")

        // The leak is the trend's first row, as the script rendered it; the diff has it too.
        let log = try Harness.line(of: "log", in: "warmup_and_leak.c")
        let cache = try Harness.line(of: "cache", in: "warmup_and_leak.c")
        let trendTable = try #require(dom.firstMatch(of: /<table id="trend-table".*?<\/table>/.dotMatchesNewlines()))
        let rows = String(trendTable.output).matches(of: /<tr>.*?<\/tr>/.dotMatchesNewlines()).map { String($0.output) }
        try #require(rows.count == 3, "\(trendTable.output)")
        #expect(rows[1].contains("steady growth") && rows[1].contains("warmup_and_leak.c:\(log)</td>"), "\(rows[1])")
        #expect(rows[2].contains("plateau") && rows[2].contains("warmup_and_leak.c:\(cache)</td>"), "\(rows[2])")
        let diffTable = try #require(dom.firstMatch(of: /<table id="diff-table".*?<\/table>/.dotMatchesNewlines()))
        #expect(String(diffTable.output).contains("warmup_and_leak.c:\(log)</td>"))
        // The hostile title is text, and did not stop the scripts (status says rendered).
        #expect(dom.contains("<h1>leak &lt;/script&gt; &amp; &lt;b&gt;report&lt;/b&gt;</h1>"))

        // The growth view with a search: the matched total is exactly the
        // growth of the stacks through `handle`, as `export --base` counts it.
        let searched = try Self.chromium(["--dump-dom"], page: page.absoluteString + "#mode=growth&search=handle", in: dir)
        let searchStatus = try Self.renderStatus(searched.stdoutText)
        #expect(searchStatus["status"] == "rendered" && searchStatus["flame-mode"] == "growth", "\(searchStatus)")
        let folded = try Harness.run(Harness.cli, arguments: ["export", charted[count - 1], "--base", charted[0],
                                                              "--format", "folded"], preload: false)
        let throughHandle = folded.stdoutText.split(separator: "\n")
            .filter { $0.split(separator: " ").dropLast().joined(separator: " ").split(separator: ";").contains("handle") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        #expect(throughHandle > 0)
        #expect(Self.number(searchStatus, "flame-matched-bytes") == throughHandle, "\(searchStatus)")
        #expect(Self.number(searchStatus, "flame-matched-frames") >= 1, "\(searchStatus)")

        // The screenshot CI keeps as an artifact.
        try FileManager.default.createDirectory(at: Self.screenshot.deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: Self.screenshot)
        let shot = try Self.chromium(["--screenshot=\(Self.screenshot.path)"], page: page.absoluteString, in: dir)
        #expect(shot.status == 0, "\(shot.stderr.suffix(2_000))")
        let png = try Data(contentsOf: Self.screenshot)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let size = png.count >= 24 ? (png[16...19].reduce(0) { $0 << 8 | Int($1) }, png[20...23].reduce(0) { $0 << 8 | Int($1) }) : (0, 0)
        #expect(size == (1280, 2400), "\(size)")
        // A blank page compresses to a few KiB; charts, tables and text do not.
        #expect(png.count > 60_000, "\(png.count) bytes")
    }

    /// The check above can fail: with a script that is not Chart.js inlined,
    /// the page says so instead of "rendered", and still draws the rest.
    @Test(.enabled(if: hasChromium, "chromium is not installed (scripts/setup.sh test installs it)"))
    func aPageWhoseChartJSFailsSaysSo() throws {
        let dir = try Harness.temporaryDirectory("report-nochart")
        defer { try? FileManager.default.removeItem(at: dir) }
        let snapshots = try Self.recordRun(in: dir)
        let fake = dir.appendingPathComponent("chart.js")
        try Data("/* not Chart.js */ window.NotChart = 1;".utf8).write(to: fake)
        let page = dir.appendingPathComponent("report.html")
        let report = try Harness.run(Harness.cli, arguments: ["report", snapshots.path, "-o", page.path],
                                     environment: ["HEAPDIFF_CHARTJS": fake.path], preload: false)
        try #require(report.status == 0, "\(report.stderr)")
        let dump = try Self.chromium(["--dump-dom"], page: page.absoluteString, in: dir)
        let status = try Self.renderStatus(dump.stdoutText)
        #expect(status["status"] == "error: Chart.js did not load", "\(status)")
        #expect(status["chartjs"] == "missing" && status["memory-points"] == nil)
        #expect(Self.number(status, "flame-rects") >= 3 && status["trend-rows"] == "2", "\(status)")
    }

    // MARK: - The command's failures (no browser)

    @Test func missingChartJSIsOneLineNamingTheFile() throws {
        let dir = try Harness.temporaryDirectory("report-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("report.html")
        let result = try Harness.run(Harness.cli, arguments: ["report", dir.path, "-o", page.path],
                                     environment: ["HEAPDIFF_CHARTJS": "/nonexistent/chart.min.js"], preload: false)
        #expect(result.status == 1)
        #expect(result.stderr == "heapdiff: error: Chart.js not found: HEAPDIFF_CHARTJS names /nonexistent/chart.min.js, "
            + "which cannot be read\n")
        #expect(!FileManager.default.fileExists(atPath: page.path))
    }

    /// A page that cannot be written is one line with the system's reason,
    /// and leaves no temporary file behind.
    @Test func anUnwritablePageGetsTheSystemsReason() throws {
        let dir = try Harness.temporaryDirectory("report-unwritable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("exact_counts", in: dir)
        let out = dir.appendingPathComponent("out")
        _ = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        let missing = dir.appendingPathComponent("no/such/dir/report.html").path
        let unwritable = try Harness.run(Harness.cli, arguments: ["report", out.path, "-o", missing], preload: false)
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr == "heapdiff: error: cannot write \(missing): No such file or directory\n")
        let onDirectory = try Harness.run(Harness.cli, arguments: ["report", out.path, "-o", out.path], preload: false)
        #expect(onDirectory.status == 1)
        #expect(onDirectory.stderr == "heapdiff: error: cannot write \(out.path): Is a directory\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["exact_counts", "out"])
    }

    @Test func aPageOfOneSnapshotSaysSo() throws {
        let dir = try Harness.temporaryDirectory("report-one")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("exact_counts", in: dir)
        let out = dir.appendingPathComponent("out")
        _ = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        let first = try #require(try Harness.snapshotFiles(in: out).first)
        let page = dir.appendingPathComponent("one.html")
        let one = try Harness.run(Harness.cli, arguments: ["report", first, "-o", page.path], preload: false)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stderr.hasPrefix("heapdiff: wrote \(page.path) (1 snapshot, "), "\(one.stderr)")
    }

    @Test func aBadSnapshotIsOneLineNamingIt() throws {
        let dir = try Harness.temporaryDirectory("report-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("app.7.1.heapsnap")
        try Data("not a snapshot".utf8).write(to: bad)
        let page = dir.appendingPathComponent("report.html")
        let result = try Harness.run(Harness.cli, arguments: ["report", bad.path, "-o", page.path], preload: false)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("heapdiff: error: \(bad.path): ") && result.stderr.filter { $0 == "\n" }.count == 1,
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: page.path))
        let empty = try Harness.run(Harness.cli, arguments: ["report", dir.appendingPathComponent("none").path, "-o", page.path],
                                    preload: false)
        #expect(empty.status == 2 && empty.stderr.contains("none"), "\(empty.stderr)")
    }

    @Test func helpExplainsTheReport() throws {
        let help = try Harness.run(Harness.cli, arguments: ["help", "report"], preload: false)
        #expect(help.status == 0)
        #expect(help.stdoutText.contains("heapdiff report snaps -o server.html"))
        #expect(help.stdoutText.contains("libjs-chart.js") && help.stdoutText.contains("--top"))
        #expect(help.stdoutText.contains("--group-by"))
    }
}
