import Foundation
import Testing
@testable import HeapDiffKit

/// `heapdiff report`'s model and page, from synthetic snapshots: no browser
/// (HTMLReportBrowserTests renders a real one in Chromium).
@Suite struct HTMLReportTests {
    /// A snapshot whose traces are one frame each (unsymbolized: keyed and
    /// named `0xADDRESS`), `sites` mapping that frame to (bytes, blocks).
    static func snapshot(_ seq: UInt32, _ sites: [UInt64: (UInt64, UInt64)], trigger: Trigger = .interval,
                         program: String = "/srv/app", path: String? = nil) -> Snapshot {
        let traces = sites.sorted { $0.key < $1.key }.map { Trace(liveBytes: $1.0, liveCount: $1.1, frames: [$0]) }
        let process = ProcessRecord(
            pid: 42, seq: seq, trigger: trigger, monotonicNs: 10_000_000_000 + UInt64(seq) * 1_000_000_000,
            startMonotonicNs: 10_000_000_000, rss: 1_000_000 + UInt64(seq) * 1_000,
            liveBytes: traces.reduce(0) { $0 + $1.liveBytes }, liveCount: traces.reduce(0) { $0 + $1.liveCount },
            program: program)
        return Snapshot(path: path ?? "/snaps/app.42.\(seq).heapsnap", process: process, traces: traces)
    }

    /// Six snapshots a second apart: 0x10 leaks 1 KiB a second, 0x20 warms
    /// up to 50,000 B and stays, 0x30 is freed away, 0x40 never changes.
    static let run: [Snapshot] = (1...6).map { seq in
        let i = UInt64(seq - 1)
        return snapshot(UInt32(seq), [0x10: (1_024 * (i + 1), i + 1), 0x20: (i == 0 ? 10_000 : 50_000, 5),
                                      0x30: (6_000 - 1_000 * i, 6 - i), 0x40: (700, 7)])
    }

    @Test func everySiteHasItsExactSeriesAndTheTrendItsRanking() throws {
        let model = try HTMLReport.model(Self.run, symbolizer: Symbolizer())
        #expect(model.title == "heapdiff report: app (pid 42)")
        #expect(model.snapshots.map(\.seconds) == [1, 2, 3, 4, 5, 6])
        #expect(model.snapshots.map(\.rss) == [1_001_000, 1_002_000, 1_003_000, 1_004_000, 1_005_000, 1_006_000])
        #expect(model.snapshots.map(\.name) == (1...6).map { "app.42.\($0).heapsnap" })
        #expect(model.snapshots.map(\.liveBytes) == model.snapshots.map(\.totalSize))
        // Embedded largest peak first.
        let site = { (label: String) in model.sites.first { $0.label == label } }
        #expect(model.sites.map(\.label) == ["0x20", "0x10", "0x30", "0x40"])
        #expect(site("0x10")?.sizes == [1_024, 2_048, 3_072, 4_096, 5_120, 6_144])
        #expect(site("0x10")?.counts == [1, 2, 3, 4, 5, 6])
        #expect(site("0x20")?.sizes == [10_000, 50_000, 50_000, 50_000, 50_000, 50_000])
        #expect(site("0x30")?.sizes == [6_000, 5_000, 4_000, 3_000, 2_000, 1_000])
        #expect(site("0x30")?.counts == [6, 5, 4, 3, 2, 1])
        #expect(site("0x40")?.sizes == Array(repeating: 700, count: 6))
        #expect(model.otherSites == HTMLReportModel.OtherSites(sites: 0, sizes: Array(repeating: 0, count: 6),
                                                               counts: Array(repeating: 0, count: 6)))
        // The trend as `heapdiff trend` ranks it; the unchanged site is no row.
        let trend = try #require(model.trend)
        #expect(trend.rows.map(\.label) == ["0x10", "0x20", "0x30"])
        #expect(trend.rows.map(\.series.verdict) == ["steady growth", "plateau", "shrinking"])
        #expect(trend.rows[0].series.bytesPerSecond == 1_024 && trend.rows[0].series.bytesPerSnapshot == 1_024)
        #expect(trend.rows[0].series.r2 == 1 && trend.rows[0].series.last == 6_144)
        #expect(trend.seqs == [1, 2, 3, 4, 5, 6] && trend.more == 0 && trend.axis == "time")
        #expect(model.trendUnavailable == nil)
        // Charted in the trend's order, then by growth: the flat site last.
        #expect(model.stacked.sites.map { model.sites[$0].label } == ["0x10", "0x20", "0x30", "0x40"])
        #expect(model.stacked.other == Array(repeating: 0, count: 6))
    }

    @Test func topSitesAndTheRestAsOther() throws {
        let options = HTMLReport.Options(top: 2, limit: 1, maxSites: 3)
        let model = try HTMLReport.model(Self.run, options: options, symbolizer: Symbolizer())
        #expect(model.stacked.sites.map { model.sites[$0].label } == ["0x10", "0x20"])
        // other = 0x30 + 0x40 in each snapshot.
        #expect(model.stacked.other == [6_700, 5_700, 4_700, 3_700, 2_700, 1_700])
        // Three sites embedded by peak; 0x40 (peak 700) is summed into the rest.
        #expect(model.sites.map(\.label) == ["0x20", "0x10", "0x30"])
        #expect(model.otherSites == HTMLReportModel.OtherSites(sites: 1, sizes: Array(repeating: 700, count: 6),
                                                               counts: Array(repeating: 7, count: 6)))
        #expect(model.trend?.rows.count == 1 && model.trend?.more == 2)
        #expect(model.limit == 1)
    }

    @Test func chartedSitesAreAlwaysEmbedded() throws {
        // The steadily leaking site is small: it must be charted and embedded even past maxSites.
        let options = HTMLReport.Options(top: 1, maxSites: 1)
        let model = try HTMLReport.model(Self.run, options: options, symbolizer: Symbolizer())
        #expect(Set(model.sites.map(\.label)) == ["0x10", "0x20"])
        #expect(model.stacked.sites.map { model.sites[$0].label } == ["0x10"])
        #expect(model.otherSites.sites == 2)
    }

    @Test func twoSnapshotsHaveChartsDiffAndFlameButNoTrend() throws {
        let model = try HTMLReport.model(Array(Self.run.prefix(2)), symbolizer: Symbolizer())
        #expect(model.trend == nil)
        #expect(model.trendUnavailable == "a trend needs at least 3 snapshots of one process, not 2")
        #expect(model.snapshots.count == 2 && model.sites.count == 4)
        // Without a trend, charted by growth: 0x20 grew by 40,000 B, 0x10 by 1,024.
        #expect(model.stacked.sites.map { model.sites[$0].label } == ["0x20", "0x10", "0x40", "0x30"])
    }

    @Test func flameGraphsOfLiveBytesAndOfGrowth() throws {
        let model = try HTMLReport.model(Self.run, symbolizer: Symbolizer())
        let flame = model.flame
        #expect(flame.liveSnapshot == 5 && flame.baseSnapshot == 0)
        #expect(flame.names[flame.live.name] == "all")
        #expect(flame.live.value == 6_144 + 50_000 + 1_000 + 700)
        #expect(flame.live.children.map { flame.names[$0.name] } == ["0x20", "0x10", "0x30", "0x40"])
        #expect(flame.live.children.map(\.value) == [50_000, 6_144, 1_000, 700])
        // Growth: only what grew, by how much.
        #expect(flame.growth.value == 40_000 + 5_120)
        #expect(flame.growth.children.map { flame.names[$0.name] } == ["0x20", "0x10"])
    }

    @Test func flameTreeMergesPrefixesAndDropsInvisibleFrames() throws {
        let live: [String: UInt64] = ["main;serve;cache_put": 600_000, "main;serve;log": 399_000, "main;tiny": 1,
                                      "start;other": 999]
        let data = FlameGraphData(live: live, base: ["main;serve;log": 400_000], liveSnapshot: 1, baseSnapshot: 0)
        let name = { (node: FlameNode) in data.names[node.name] }
        #expect(data.live.value == 1_000_000)
        let main = try #require(data.live.children.first)
        #expect(name(main) == "main" && main.value == 999_001)
        // main;tiny is 1 byte of 1,000,000: under the minimum fraction, left in main's own width.
        #expect(main.children.map(name) == ["serve"])
        #expect(main.children[0].children.map(name) == ["cache_put", "log"])
        #expect(data.live.children.map(name) == ["main", "start"])
        // log shrank: no growth; the rest is new.
        #expect(data.growth.value == 600_000 + 1 + 999)
        #expect(data.growth.children.first.map(name) == "main")
        #expect(data.growth.children.first?.children.first?.children.map(name) == ["cache_put"])
        // Encoded compactly: [name, value] for a leaf.
        let json = String(decoding: try JSONEncoder().encode(data.growth.children[1]), as: UTF8.self)
        #expect(json == "[\(data.names.firstIndex(of: "start")!),999,[[\(data.names.firstIndex(of: "other")!),999]]]")
    }

    // MARK: - The page

    /// The JSON element's text.
    static func embeddedJSON(_ page: String) throws -> String {
        let open = #"<script type="application/json" id="heapdiff-data">"#
        let start = try #require(page.range(of: open)).upperBound
        let end = try #require(page.range(of: "</script>", range: start..<page.endIndex)).lowerBound
        return String(page[start..<end])
    }

    @Test func userTextCannotBreakThePage() throws {
        let hostile = "/srv/</script><script>alert(1)</script><!--&\"'"
        let snapshots = (1...3).map { seq in
            Self.snapshot(UInt32(seq), [0x10: (UInt64(seq) * 100, 1)], program: hostile,
                          path: "/tmp/</script>/app.42.\(seq).heapsnap")
        }
        let options = HTMLReport.Options(title: "<b>leak</b> & </script>")
        let model = try HTMLReport.model(snapshots, options: options, symbolizer: Symbolizer())
        let page = try HTMLPage.render(model, chartJS: "window.Chart = {};")
        // Only the page's own four script elements are opened and closed.
        #expect(page.components(separatedBy: "</script>").count - 1 == 4)
        #expect(page.components(separatedBy: "<script").count - 1 == 4)
        #expect(!page.contains("<!--"))
        #expect(page.contains("<title>&lt;b&gt;leak&lt;/b&gt; &amp; &lt;/script&gt;</title>"))
        #expect(page.contains("<h1>&lt;b&gt;leak&lt;/b&gt; &amp; &lt;/script&gt;</h1>"))
        #expect(page.contains("/srv/&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--&amp;&quot;&#39; (pid 42)"))
        // The JSON has no '<' at all, and reads back to the very same strings.
        let json = try Self.embeddedJSON(page)
        #expect(!json.contains("<") && json.contains(#"\u003c/script>"#))
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(decoded["title"] as? String == "<b>leak</b> & </script>")
        #expect(decoded["program"] as? String == hostile)
        let names = (decoded["snapshots"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["app.42.1.heapsnap", "app.42.2.heapsnap", "app.42.3.heapsnap"])
        #expect((decoded["sites"] as? [[String: Any]])?.first?["sizes"] as? [Int] == [100, 200, 300])
    }

    @Test func theLibraryIsInlinedSafelyOrRefused() throws {
        #expect(try HTMLPage.inlineScript(#"var a = "</script>", b = /<\/SCRIPT/;"#)
            == #"var a = "<\/script>", b = /<\/SCRIPT/;"#)
        #expect(try HTMLPage.inlineScript(#"x = "</Script ";"#) == #"x = "<\/Script ";"#)
        #expect(throws: HTMLPage.UnsafeScript.self) { try HTMLPage.inlineScript("s = '<!--';") }
        #expect(HTMLPage.escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;")
        #expect(HTMLPage.scriptSafeJSON(#"{"a":"</script><!--"}"#) == #"{"a":"\u003c/script>\u003c!--"}"#)
    }

    @Test func chartJSIsFoundOrNamedWhenMissing() throws {
        let debian = ChartJSLibrary.debianPaths[0]
        #expect(try ChartJSLibrary.path(environment: [:], exists: { $0 == debian }) == debian)
        #expect(try ChartJSLibrary.path(environment: ["HEAPDIFF_CHARTJS": "/opt/chart.umd.js"],
                                        exists: { $0 == "/opt/chart.umd.js" }) == "/opt/chart.umd.js")
        do {
            _ = try ChartJSLibrary.path(environment: [:], exists: { _ in false })
            Issue.record("found a library that is not there")
        } catch let missing as ChartJSLibrary.Missing {
            #expect(missing.description.contains(debian))
            #expect(missing.description.contains("apt install libjs-chart.js"))
            #expect(!missing.description.contains("\n"))
        }
        #expect(throws: ChartJSLibrary.Missing(description:
            "Chart.js not found: HEAPDIFF_CHARTJS names /nowhere/chart.js, which cannot be read")) {
            try ChartJSLibrary.path(environment: ["HEAPDIFF_CHARTJS": "/nowhere/chart.js"], exists: { _ in false })
        }
    }

    @Test func noSnapshotsIsAnError() {
        #expect(throws: HTMLReport.Failure.noSnapshots) { try HTMLReport.model([], symbolizer: Symbolizer()) }
    }
}
