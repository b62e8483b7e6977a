import Foundation
import Testing
@testable import HeapDiffKit

/// Files written by the format-1 recorder, kept in Tests/Fixtures/format1
/// (see its README), are still read, diffed and trended; and against files
/// the format-2 recorder wrote from the same binaries (Tests/Fixtures/format2)
/// they give the same answers. The binaries are not kept, so native frames
/// group by module and offset here, alike in both formats; the Python
/// frames carry their own file names and line tables.
@Suite struct FormatCompatibilityTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func load(_ name: String) throws -> Snapshot {
        try Snapshot.load(path: fixtures + "/" + name)
    }

    let symbolizer = Symbolizer()

    /// Rows as numbers and keys: what must agree between formats.
    static func rows(_ diffs: [StatisticDiff]) -> [String] {
        diffs.map { "\($0.key.label()) \($0.sizeDiff) \($0.countDiff) \($0.size) \($0.count)" }
    }

    @Test func format1FilesAreReadWithEveryField() throws {
        let before = try Self.load("format1/exact_counts.15534.1.heapsnap")
        let after = try Self.load("format1/exact_counts.15534.2.heapsnap")
        #expect(before.formatVersion == 1 && after.formatVersion == 1)
        #expect(before.hasEveryStack)
        #expect((before.process.pid, before.process.seq, before.process.label) == (15534, 1, "before"))
        #expect((after.process.pid, after.process.seq, after.process.label, after.process.trigger) == (15534, 2, "after", .api))
        #expect(after.process.program.hasSuffix("/exact_counts"))
        #expect(!after.modules.isEmpty && after.modules[0].path == after.process.program)
        // The program's own two sites, exactly.
        let hundred = after.traces.filter { $0.liveCount == 600 }
        #expect(hundred.map(\.liveBytes) == [60_000])
        #expect(hundred.map(\.allocCount) == [1000])
        let zeroed = after.traces.filter { $0.liveCount == 10 && $0.liveBytes == 210 }
        #expect(zeroed.count == 1)
    }

    @Test func format1DiffsAgainstFormat1AndFormat2Alike() throws {
        let before = try Self.load("format1/exact_counts.15534.1.heapsnap")
        let afterV1 = try Self.load("format1/exact_counts.15534.2.heapsnap")
        let afterV2 = try Self.load("format2/exact_counts.30855.2.heapsnap")
        #expect(afterV2.formatVersion == 2)
        for keyType in [KeyType.lineno, .traceback] {
            let v1 = afterV1.compare(to: before, by: keyType, symbolizer: symbolizer)
            let v2 = afterV2.compare(to: before, by: keyType, symbolizer: symbolizer)
            #expect(Self.rows(v1) == Self.rows(v2), "\(keyType)")
            #expect(v1.prefix(2).map { [$0.sizeDiff, $0.countDiff] } == [[60_000, 600], [210, 10]])
            // And the other way round, format 2 as the older snapshot.
            let back = before.compare(to: afterV2, by: keyType, symbolizer: symbolizer)
            #expect(back.prefix(2).map { [$0.sizeDiff, $0.countDiff] } == [[-60_000, -600], [-210, -10]])
        }
        // Format 2 against format 2 of the same run.
        let beforeV2 = try Self.load("format2/exact_counts.30855.1.heapsnap")
        let v2 = afterV2.compare(to: beforeV2, by: .lineno, symbolizer: symbolizer)
        #expect(Self.rows(v2) == Self.rows(afterV1.compare(to: before, by: .lineno, symbolizer: symbolizer)))
    }

    @Test func pythonFramesOfBothFormats() throws {
        let before = try Self.load("format1/python3.11.15928.1.heapsnap")
        let afterV1 = try Self.load("format1/python3.11.15928.2.heapsnap")
        let afterV2 = try Self.load("format2/python3.11.30859.2.heapsnap")
        #expect(before.python?.version == "3.11.7" && afterV2.python?.version == "3.11.7")
        // Format 2 keeps only the code objects its stacks name.
        #expect(afterV2.python!.codes.count < afterV1.python!.codes.count)
        for after in [afterV1, afterV2] {
            let top = try #require(after.compare(to: before, by: .lineno, symbolizer: symbolizer).first)
            #expect(top.key == .line(file: "/tmp/heapdiff-fixtures/tiny.py", line: 5))
            #expect((top.sizeDiff, top.countDiff, top.count) == (51_275, 50, 60))
            #expect(top.traceback.filter(\.isPython).map(\.function) == ["grow", "<module>"])
        }
    }

    @Test func seriesOfEitherFormatTrendAlike() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures + "/format1")
            .filter { $0.hasPrefix("warmup_and_leak.") }.sorted()
        #expect(names.count == 4)
        let v1 = try names.map { try Self.load("format1/" + $0) }
        let v2 = try ["1", "2", "3", "4"].map { try Self.load("format2/warmup_and_leak.30857.\($0).heapsnap") }
        let verdicts = try [v1, v2].map { series -> [String] in
            let trend = try TrendAnalysis.analyze(series, symbolizer: symbolizer)
            return trend.sites.map { "\($0.key.label()) \($0.series.verdict.rawValue)" }
        }
        #expect(verdicts[0] == verdicts[1])
        #expect(verdicts[0].first?.hasSuffix(" steady growth") == true)
    }

    /// Snapshots someone archived with gzip are read as they are, and a
    /// damaged archive is one line naming the file.
    @Test func gzippedSnapshotsAreReadAsTheyAre() throws {
        let directory = try TemporaryDirectory()
        for name in ["format1/exact_counts.15534.2.heapsnap", "format2/python3.11.30859.2.heapsnap"] {
            let bytes = try FileBytes.read(path: Self.fixtures + "/" + name)
            let packed = try Gzip.compress(bytes)
            #expect(packed.count < bytes.count)
            let path = try directory.write(packed, name: "archived.1.2.heapsnap.gz")
            let original = try Self.load(name)
            let archived = try Snapshot.load(path: path)
            #expect(archived.traces == original.traces && archived.process == original.process)
            #expect(archived.python == original.python)
            // Two members in a row, as `cat a.gz b.gz` makes, are read as gunzip reads them.
            #expect(Gzip.decompress(packed + (try Gzip.compress([1, 2, 3])), limit: .max) == bytes + [1, 2, 3])
            let cut = try directory.write(Array(packed.dropLast(9)), name: "cut.1.2.heapsnap.gz")
            #expect(throws: SnapshotError.corrupt(path: cut, reason: "gzip data damaged, cut short, or over 67108864 bytes unpacked")) {
                try Snapshot.load(path: cut)
            }
        }
        #expect(SnapshotFileName("app.py.42.7.heapsnap.gz") == SnapshotFileName("app.py.42.7.heapsnap"))
        #expect(SnapshotFileName("app.42.7.heapsnap.gz")?.seq == 7)
        #expect(Gzip.decompress(try Gzip.compress(Array(repeating: 0, count: 100_000)), limit: 99_999) == nil)
    }
}
