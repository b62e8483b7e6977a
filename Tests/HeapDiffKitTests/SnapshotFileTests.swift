import Foundation
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

    /// A launcher that executed the real program (pyenv's shim, a wrapper
    /// script) left its own file under the same pid: the series is the last
    /// program's, whichever name sorts first.
    @Test func afterAnExecOnlyTheLastProgramsSeries() throws {
        let directory = try TemporaryDirectory()
        _ = try directory.write([], name: "bash.7.1.heapsnap")
        usleep(20_000)   // modification times tell which program ran last
        for seq in [1, 2, 3] { _ = try directory.write([], name: "python3.11.7.\(seq).heapsnap") }
        let listed = try SnapshotDirectory.snapshots(in: directory.path, pid: 7)
        #expect(listed.map(\.path) == [1, 2, 3].map { "\(directory.path)/python3.11.7.\($0).heapsnap" })

        let reversed = try TemporaryDirectory()
        for seq in [1, 2] { _ = try reversed.write([], name: "zz-launcher.7.\(seq).heapsnap") }
        usleep(20_000)
        _ = try reversed.write([], name: "app.7.1.heapsnap")
        #expect(try SnapshotDirectory.snapshots(in: reversed.path, pid: 7).map(\.path) == ["\(reversed.path)/app.7.1.heapsnap"])
    }
}
