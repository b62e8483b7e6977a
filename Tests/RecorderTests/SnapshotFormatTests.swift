import HeapDiffFormat
import Foundation
import HeapDiffKit
import Testing

/// The recorder's two formats: the same program recorded as format 1
/// (`HEAPDIFF_FORMAT=1`) and as format 2 (the default) gives the same
/// tables, the formats diff against each other, and format 2 carries the
/// freed-out stacks only in the exit snapshot.
@Suite struct SnapshotFormatTests {
    let symbolizer = Symbolizer()

    func record(_ exe: String, format: String?, in dir: URL) throws -> [Snapshot] {
        let out = dir.appendingPathComponent("out-\(format ?? "default")")
        var environment = ["HEAPDIFF_OUTPUT": out.path]
        if let format { environment["HEAPDIFF_FORMAT"] = format }
        let result = try Harness.run(exe, environment: environment)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty)
        return try Harness.snapshotFiles(in: out).map(Snapshot.load(path:))
    }

    static func rows(_ statistics: [Statistic]) -> [String] {
        statistics.map { "\($0.key.label()) \($0.size) \($0.count)" }
    }

    @Test func bothFormatsOfOneProgramGiveTheSameTables() throws {
        let dir = try Harness.temporaryDirectory("formats")
        let exe = try Harness.build("exact_counts", in: dir)
        let v1 = try record(exe, format: "1", in: dir)
        let v2 = try record(exe, format: nil, in: dir)
        #expect(v1.map(\.formatVersion) == [1, 1, 1])
        #expect(v2.map(\.formatVersion) == [2, 2, 2])
        for keyType in [KeyType.lineno, .traceback, .function] {
            #expect(Self.rows(v1[1].statistics(by: keyType, symbolizer: symbolizer))
                    == Self.rows(v2[1].statistics(by: keyType, symbolizer: symbolizer)), "\(keyType)")
        }
        // Across formats, either way round.
        let hundred = try Harness.line(of: "hundred", in: "exact_counts.c")
        for (before, after) in [(v1[0], v2[1]), (v2[0], v1[1])] {
            let top = try #require(after.compare(to: before, by: .lineno, symbolizer: symbolizer).first)
            #expect(top.site.line == hundred && top.sizeDiff == 60_000 && top.countDiff == 600)
        }
        // Format 2 is the smaller file of the two.
        let sizes = try [v1[1], v2[1]].map { try FileManager.default.attributesOfItem(atPath: $0.path)[.size] as! Int }
        #expect(sizes[1] < sizes[0])
    }

    @Test func onlyTheExitSnapshotCarriesFreedOutStacks() throws {
        let dir = try Harness.temporaryDirectory("exitstacks")
        let exe = try Harness.build("leaky_service", in: dir)
        let v2 = try record(exe, format: nil, in: dir)
        let exit = try #require(v2.last)
        #expect(exit.process.trigger == .exit && exit.hasEveryStack)
        // Every stack ever allocated from: their totals are the process's.
        #expect(exit.traces.reduce(0) { $0 + $1.allocBytes } == exit.process.allocBytes)
        #expect(exit.traces.reduce(0) { $0 + $1.allocCount } == exit.process.allocCount)
        #expect(exit.traces.contains { $0.liveCount == 0 })
        for snapshot in v2.dropLast() {
            #expect(!snapshot.hasEveryStack)
            #expect(snapshot.traces.allSatisfy { $0.liveCount > 0 })
            #expect(snapshot.traces.reduce(0) { $0 + $1.liveBytes } == snapshot.process.liveBytes)
        }
    }

    @Test func aBadFormatSettingWarnsAndWritesTheCurrentFormat() throws {
        let dir = try Harness.temporaryDirectory("badformat")
        let exe = try Harness.build("exact_counts", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_FORMAT": "7"])
        #expect(result.status == 0)
        #expect(result.stderr == "heapdiff: warning: HEAPDIFF_FORMAT=7 is not 1 or 2; using 2\n")
        let files = try Harness.snapshotFiles(in: out)
        #expect(try files.map { try Snapshot.load(path: $0).formatVersion } == [2, 2, 2])
    }
}
