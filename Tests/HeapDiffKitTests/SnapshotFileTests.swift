import Testing
import HeapDiffKit

/// The recorder's file naming, `PROGRAM.PID.SEQ.heapsnap`, and listing a run's files.
@Suite struct SnapshotFileTests {
    @Test func snapshotFileNames() {
        let parsed = SnapshotFileName("my.app.4242.10.heapsnap")
        #expect(parsed?.program == "my.app")
        #expect(parsed?.pid == 4242)
        #expect(parsed?.seq == 10)
        #expect(SnapshotFileName(".server.1.2.heapsnap.tmp") == nil)
        #expect(SnapshotFileName(".server.1.2.heapsnap") == nil)
        #expect(SnapshotFileName("server.x.2.heapsnap") == nil)
        #expect(SnapshotFileName("server.1.2.heapsnap")?.program == "server")
    }

    @Test func listsOneProcessInNumericOrder() throws {
        let directory = try TemporaryDirectory()
        for name in ["app.7.10.heapsnap", "app.7.9.heapsnap", "app.7.1.heapsnap", "app.8.2.heapsnap",
                     ".app.7.11.heapsnap.tmp", "notes.txt"] {
            _ = try directory.write([], name: name)
        }
        let listed = try SnapshotDirectory.snapshots(in: directory.path, pid: 7)
        #expect(listed.map(\.seq) == [1, 9, 10])
        #expect(listed.map(\.path) == [1, 9, 10].map { "\(directory.path)/app.7.\($0).heapsnap" })
    }
}
