import Foundation
import HeapDiffFormat
import HeapDiffKit
import Testing

/// The recorder keeps every interned stack as a node of one prefix tree
/// (trace_tree.c), and a Python stack deeper than 16 frames as nothing but
/// its node. A mid-run snapshot picks out and numbers anew the part of the
/// tree its live stacks use, the exit snapshot writes the whole tree as it
/// is numbered, and format 1 walks up the tree from each stack's node: all
/// of them must give each stack the same frames, in both formats.
@Suite struct TraceTreeTests {
    @Test(arguments: ["2", "1"])
    func everySnapshotGivesDeepPythonStacksTheSameFrames(_ format: String) throws {
        let python = try PythonVersions.pyenv(11).requirePath()
        let script = PythonTests.programs.appendingPathComponent("stack_cache.py").path
        let dir = try Harness.temporaryDirectory("trace-tree")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(python, arguments: [script, "30", "200"],
                                  environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_FORMAT": format], timeout: 300)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        let snapshots = try Harness.snapshotFiles(in: out).map(Snapshot.load(path:))
        try #require(snapshots.count == 3, "before, after, exit: \(snapshots.count)")
        let exit = snapshots[2]
        #expect(exit.process.trigger == .exit && exit.hasEveryStack)
        #expect(snapshots.allSatisfy { $0.formatVersion == UInt32(format) })
        struct Key: Hashable { var frames: TraceFrames; var truncated: Bool }
        var atExit: [Key: Trace] = [:]
        for trace in exit.traces {
            let key = Key(frames: trace.frames, truncated: trace.truncated)
            #expect(atExit[key] == nil, "a stack interned twice: \(trace.frames.count) frames")
            atExit[key] = trace
        }
        for mid in snapshots[..<2] {
            // Stacks beyond the flat copy are there to be checked.
            #expect(mid.traces.contains { $0.frames.count > 16 && $0.frames.contains { hd_pyframe_is($0) != 0 } })
            for trace in mid.traces {
                let later = try #require(atExit[Key(frames: trace.frames, truncated: trace.truncated)],
                                         "a stack of \(mid.process.label) missing at exit")
                #expect(later.allocCount >= trace.allocCount && later.allocBytes >= trace.allocBytes)
            }
        }
        // The exit snapshot's totals are every stack's.
        #expect(exit.traces.reduce(0) { $0 + $1.allocCount } == exit.process.allocCount)
    }
    /// Half a million distinct stacks (about 2.6 million tree nodes): the
    /// tree's table grows four times at a time, then twice past 2^20 slots,
    /// rehashing every node each time; every stack stays its own, with its
    /// own frames, in the exit snapshot.
    @Test func halfAMillionStacksStayDistinctAcrossTheTablesGrowth() throws {
        let dir = try Harness.temporaryDirectory("many-stacks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("many_stacks", in: dir, flags: ["-g", "-O1"])
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).first))
        let leaves = snapshot.traces.filter { $0.liveCount > 0 }
        #expect(leaves.count == 1 << 19)
        #expect(leaves.allSatisfy { $0.liveCount == 1 && $0.liveBytes == 64 })
        #expect(Set(leaves.map(\.frames)).count == 1 << 19)
        let leaf = try Harness.statistic("leaf", in: "many_stacks.c", of: snapshot, symbolizer: Symbolizer())
        #expect(leaf?.count == 1 << 19 && leaf?.size == 64 << 19)
    }
}

