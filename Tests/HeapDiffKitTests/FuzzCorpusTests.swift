import Foundation
import Testing
@testable import HeapDiffKit

/// The fuzz target's seeds (Fuzz/corpus) must stay valid snapshots, or the
/// fuzzer would start from rejected inputs; and the reader's entry point for
/// bytes must behave exactly like loading a file.
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus").path

    @Test func seedsAreValidSnapshots() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).sorted()
        #expect(names == ["edge_cases-exit", "exact_counts-after", "exact_counts-before", "v2-edge_cases-exit",
                          "v2-exact_counts-after", "v2-python-codes", "wide-header-unknown-record"])
        for name in names {
            let bytes = try FileBytes.read(path: Self.corpus + "/" + name)
            let snapshot = try Snapshot.parse(bytes: bytes, name: name)
            #expect(snapshot.path == name)
            #expect(!snapshot.modules.isEmpty)
            #expect(try Snapshot.load(path: Self.corpus + "/" + name).traces == snapshot.traces)
        }
        let after = try Snapshot.parse(bytes: try FileBytes.read(path: Self.corpus + "/exact_counts-after"), name: "a")
        #expect(after.process.label == "after" && after.formatVersion == 1)
        #expect(after.process.liveBytes >= 60_000 + 210)
        // Format 2 seeds: the tables, and Python code objects sharing a file name.
        let v2 = try Snapshot.parse(bytes: try FileBytes.read(path: Self.corpus + "/v2-exact_counts-after"), name: "b")
        #expect(v2.formatVersion == 2 && v2.traces.contains { $0.liveCount == 600 && $0.liveBytes == 60_000 })
        let python = try Snapshot.parse(bytes: try FileBytes.read(path: Self.corpus + "/v2-python-codes"), name: "c")
        #expect(python.python?.codes.mapValues(\.file) == [1: "app.py", 2: "app.py"])
        #expect(python.traces.map(\.frames.count) == [5, 4, 1])
    }

    @Test func parseReportsTheGivenName() {
        #expect(throws: SnapshotError.empty(path: "memory")) { try Snapshot.parse(bytes: [], name: "memory") }
        #expect(throws: SnapshotError.notASnapshot(path: "x")) { try Snapshot.parse(bytes: Array("HEAPSNIP".utf8), name: "x") }
    }

    @Test func readsFilesOfEveryKind() throws {
        let directory = try TemporaryDirectory()
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(try FileBytes.read(path: try directory.write(big, name: "big")) == big)
        #expect(try FileBytes.read(path: try directory.write([], name: "empty")) == [])
        // /proc files report size 0 and are read to their end all the same.
        let cmdline = try FileBytes.read(path: "/proc/self/cmdline")
        #expect(!cmdline.isEmpty && cmdline.last == 0)
        #expect(throws: FileBytes.ReadError.self) { try FileBytes.read(path: directory.path + "/missing") }
    }
}
