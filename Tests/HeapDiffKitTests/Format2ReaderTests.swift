import HeapDiffFormat
import Foundation
import Testing
@testable import HeapDiffKit

/// Version 2 files, written by `SnapshotBuilderV2` independently of the
/// reader: what they hold comes back exactly, what a later minor adds is
/// skipped, and every id that points outside its table is one clear error.
@Suite struct Format2ReaderTests {
    let directory = try! TemporaryDirectory()

    static let module = Module(index: 0, path: "/usr/bin/server", buildID: [0xAB, 0xCD], loadBias: 0x1000,
                               ranges: [0x1000..<0x9000])
    /// Shared outer frames (0x1300, 0x1200), a stack that is another's
    /// prefix, an empty stack, a freed-out one, a truncated one.
    static let traces = [
        Trace(liveBytes: 4096, liveCount: 4, allocBytes: 8192, allocCount: 8, frames: [0x1100, 0x1200, 0x1300]),
        Trace(liveBytes: 100, liveCount: 1, allocBytes: 100, allocCount: 1, frames: [0x1150, 0x1200, 0x1300]),
        Trace(liveBytes: 7, liveCount: 7, allocBytes: 70, allocCount: 70, frames: [0x1200, 0x1300], truncated: true),
        Trace(liveBytes: 0, liveCount: 0, allocBytes: 5, allocCount: 1, frames: [0x1400]),
        Trace(liveBytes: 33, liveCount: 3, allocBytes: 33, allocCount: 3, frames: []),
    ]

    func read(_ builder: SnapshotBuilderV2, _ name: String = "v2.heapsnap") throws -> Snapshot {
        try Snapshot.load(path: try directory.write(builder.bytes(), name: name))
    }

    @Test func roundTripsStacksThroughTheTree() throws {
        let process = ProcessRecord(pid: 42, seq: 3, trigger: .interval, liveBytes: 4236, liveCount: 15, program: "/usr/bin/server",
                                    label: "after", commandLine: ["server", "--port", "80"])
        let builder = SnapshotBuilderV2(process: process, modules: [Self.module], traces: Self.traces)
        let tree = builder.tree()
        #expect(tree.frames == [0x1100, 0x1150, 0x1200, 0x1300, 0x1400])
        #expect(tree.nodeFrame.count == 5)  // 1300, 1200, 1100, 1150, 1400: shared prefixes once
        let snapshot = try read(builder)
        #expect(snapshot.formatVersion == 2)
        #expect(snapshot.process == process)
        #expect(snapshot.modules == [Self.module])
        #expect(snapshot.traces == Self.traces)
        #expect(snapshot.traces.map { $0.frames.count } == [3, 3, 2, 1, 0])
        #expect(!snapshot.hasEveryStack)
        // Every trace keeps its node; equal prefixes are one node.
        let (stackTree, nodes) = snapshot.stackTree()
        #expect(stackTree.count == 6)
        #expect(nodes[2] == stackTree.parents[Int(nodes[0])])
        #expect(nodes[4] == 0)
        #expect(stackTree.stack(of: nodes[1]) == [0x1150, 0x1200, 0x1300])
    }

    @Test func theExitSnapshotSaysItHasEveryStack() throws {
        let builder = SnapshotBuilderV2(process: ProcessRecord(trigger: .exit, flags: UInt32(HD_PROCESS_FLAG_EVERY_STACK)),
                                        traces: Self.traces)
        #expect(try read(builder).hasEveryStack)
        // Format 1 always had every stack.
        let v1 = try Snapshot.load(path: try SnapshotBuilder(traces: Self.traces).write(in: directory))
        #expect(v1.hasEveryStack && v1.formatVersion == 1)
    }

    @Test func tablesSplitOverRecordsNumberOnFromOneToTheNext() throws {
        var builder = SnapshotBuilderV2(modules: [Self.module], traces: Self.traces)
        builder.entriesPerRecord = 1
        #expect(try read(builder).traces == Self.traces)
        builder.entriesPerRecord = 2
        #expect(try read(builder).traces == Self.traces)
    }

    @Test func readsWhatALaterMinorAddsAndSkipsIt() throws {
        var builder = SnapshotBuilderV2(process: ProcessRecord(pid: 7, label: "x"), modules: [Self.module], traces: Self.traces)
        builder.minor = 9
        builder.extraStackFields = [1, 300, 1 << 40]
        builder.processTail = [1, 2, 3, 4]
        builder.extraRecords = [SnapshotBuilder.record(type: 0x7777, payload: [9, 9, 9])]
        let snapshot = try read(builder)
        #expect(snapshot.traces == Self.traces)
        #expect(snapshot.process.pid == 7 && snapshot.process.label == "x")
    }

    @Test func pythonCodesWithSharedFileNames() throws {
        let table: [UInt8] = [0x80 | (13 << 3) | 0, 2]   // one code unit, one line on
        var python = PythonInfo(hexVersion: 0x030b07f0)
        python.codes[1] = PythonCode(id: 1, file: "app.py", qualifiedName: "main",
                                     lineTable: PythonLineTable(bytes: table, firstLine: 10))
        python.codes[2] = PythonCode(id: 2, file: "app.py", qualifiedName: "Handler.serve",
                                     lineTable: PythonLineTable(bytes: table, firstLine: 20))
        python.codes[5] = PythonCode(id: 5, file: "<frozen runpy>", qualifiedName: "_run_code",
                                     lineTable: PythonLineTable(bytes: [], firstLine: -3))
        let frames = [PythonFrameAddress.make(codeID: 2, instruction: 0), PythonFrameAddress.make(codeID: 1, instruction: 0)]
        var builder = SnapshotBuilderV2(traces: [Trace(liveBytes: 1, liveCount: 1, frames: TraceFrames(frames))])
        builder.python = python
        let snapshot = try read(builder)
        #expect(snapshot.python == python)
        let top = snapshot.statistics(by: .lineno, symbolizer: Symbolizer())
        #expect(top.first?.key == .line(file: "app.py", line: 21))
    }

    // MARK: - Every id is checked

    /// A file with the given records after PROCESS (and FRAMES 0x10, 0x20).
    func damaged(_ records: [[UInt8]], frames: Bool = true, name: String) throws -> String {
        var all = [SnapshotBuilder.processRecord(ProcessRecord())]
        if frames { all.append(SnapshotBuilderV2.tableRecord(type: HD_RECORD_FRAMES, count: 2, entries: [0x10, 0x10])) }
        let bytes = SnapshotBuilder.file(records: all + records, version: UInt32(HD_FORMAT_V2))
        return try directory.write(bytes, name: name)
    }

    func expectCorrupt(_ reason: String, _ records: [[UInt8]], frames: Bool = true,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = try damaged(records, frames: frames, name: "damaged-\(UUID().uuidString).heapsnap")
        #expect(throws: SnapshotError.corrupt(path: path, reason: reason), sourceLocation: sourceLocation) {
            try Snapshot.load(path: path)
        }
    }

    static func nodes(_ entries: [UInt8], count: Int) -> [UInt8] {
        SnapshotBuilderV2.tableRecord(type: HD_RECORD_NODES, count: count, entries: entries)
    }

    static func stacks(_ entries: [UInt8], count: Int, fields: UInt8 = UInt8(HD_STACK_FIELDS_MIN)) -> [UInt8] {
        SnapshotBuilderV2.tableRecord(type: HD_RECORD_STACKS, count: count, entries: [fields] + entries)
    }

    @Test func aNodeMayNameOnlyFramesAndParentsBeforeIt() throws {
        try expectCorrupt("record 3 (NODES): node 1 names frame 2, but the file has 2 frames before it",
                          [Self.nodes([2, 1], count: 1)])
        try expectCorrupt("record 3 (NODES): node 2 names a parent 3 nodes back, outside nodes 0 to 1",
                          [Self.nodes([0, 1, 1, 3], count: 2)])
        try expectCorrupt("record 3 (NODES): node 1 names a parent 0 nodes back, outside nodes 0 to 0",
                          [Self.nodes([0, 0], count: 1)])
        try expectCorrupt("record 2 (NODES): node 1 names frame 0, but the file has 0 frames before it",
                          [Self.nodes([0, 1], count: 1)], frames: false)
    }

    @Test func aStackMayNameOnlyNodesBeforeIt() throws {
        try expectCorrupt("record 4 (STACKS): stack 0 names node 2, but the file has 2 nodes before it",
                          [Self.nodes([0, 1], count: 1), Self.stacks([4, 0, 1, 1, 1, 1], count: 1)])
        try expectCorrupt("record 4 (STACKS): stack 1 names node -1, but the file has 2 nodes before it",
                          [Self.nodes([0, 1], count: 1), Self.stacks([2, 0, 1, 1, 1, 1, 3, 0, 1, 1, 1, 1], count: 2)])
        try expectCorrupt("record 4 (STACKS): 5 fields per stack, expected 6 to 64",
                          [Self.nodes([0, 1], count: 1), Self.stacks([2, 0, 1, 1, 1], count: 1, fields: 5)])
        try expectCorrupt("record 4 (STACKS): 1000 stacks of 6 fields cannot fit in 9 bytes",
                          [Self.nodes([0, 1], count: 1),
                           SnapshotBuilderV2.tableRecord(type: HD_RECORD_STACKS, count: 1000, entries: [6, 2, 0, 1, 1, 1, 1])])
    }

    @Test func stacksAreNoDeeperThanTheRecorderAllows() throws {
        let deepest = Int(HD_TRACE_MAX_FRAMES)
        var entries: [UInt8] = []
        for _ in 0...deepest { entries += [0, 1] }  // each node the child of the one before
        try expectCorrupt("record 3 (NODES): node \(deepest + 1) is deeper than the \(deepest) frames a stack may have",
                          [Self.nodes(entries, count: deepest + 1)])
        let deepestStack = SnapshotBuilderV2.varint(hd_zigzag(Int64(deepest))) + [0, 1, 1, 1, 1]
        let fine = try damaged([Self.nodes(Array(entries.dropLast(2)), count: deepest), Self.stacks(deepestStack, count: 1)],
                               name: "deepest.heapsnap")
        let frames = try #require(try Snapshot.load(path: fine).traces.first).frames
        #expect(frames.count == deepest && frames.allSatisfy { $0 == 0x10 })
    }

    @Test func malformedTablesAndMisplacedRecords() throws {
        try expectCorrupt("record 3 (NODES): a variable-length integer at offset 1 is malformed or runs past the record's end",
                          [Self.nodes([0x80, 0x80], count: 1)])
        try expectCorrupt("record 3 (NODES): 5 nodes cannot fit in 4 bytes", [Self.nodes([0, 1, 0], count: 5)])
        try expectCorrupt("record 3 (NODES): unexpected bytes after the last node", [Self.nodes([0, 1, 0], count: 1)])
        try expectCorrupt("record 2 (FRAMES): frame 1 exceeds 64 bits",
                          [SnapshotBuilderV2.tableRecord(type: HD_RECORD_FRAMES, count: 2,
                                                         entries: SnapshotBuilderV2.varint(.max) + [1])], frames: false)
        try expectCorrupt("record 3 (CODES) comes before PYTHON",
                          [SnapshotBuilderV2.tableRecord(type: HD_RECORD_CODES, count: 0, entries: [])])
        try expectCorrupt("record 3 is a version-1 record (type 3) in a version-2 file",
                          [SnapshotBuilder.traceRecord(Trace(liveBytes: 1, liveCount: 1, frames: [1]))])
        var python: [UInt8] = []
        SnapshotBuilder.append32(0x030b07f0, to: &python)
        SnapshotBuilder.append32(0, to: &python)
        let pythonRecord = SnapshotBuilder.record(type: UInt32(HD_RECORD_PYTHON), payload: python)
        try expectCorrupt("record 4 (CODES): code 1 names file 1, but only 0 were given before it",
                          [pythonRecord, SnapshotBuilderV2.tableRecord(type: HD_RECORD_CODES, count: 1,
                                                                       entries: [1, 0, 1, 0, 0, 0])])
    }

    /// Every prefix, and random corruption with the checksum made right so
    /// that it reaches the table decoders: an error, never a trap.
    @Test func damagedFilesThrowInsteadOfTrapping() throws {
        var python = PythonInfo(hexVersion: 0x030b07f0)
        python.codes[1] = PythonCode(id: 1, file: "a.py", qualifiedName: "f", lineTable: PythonLineTable(bytes: [0x80, 2], firstLine: 1))
        var builder = SnapshotBuilderV2(modules: [Self.module], traces: Self.traces + [
            Trace(liveBytes: 1, liveCount: 1, frames: [PythonFrameAddress.make(codeID: 1, instruction: 0), 0x1300])])
        builder.python = python
        let bytes = builder.bytes()
        #expect(try Snapshot.parse(bytes: bytes, name: "whole").traces.count == 6)
        for length in 0..<bytes.count {
            #expect(throws: SnapshotError.self) { try Snapshot.parse(bytes: Array(bytes.prefix(length)), name: "prefix") }
        }
        var random = SplitMix64(seed: 7)
        let endLength = Int(HD_RECORD_HEADER_SIZE + HD_END_SIZE)
        let body = Array(bytes.dropLast(endLength))
        let records: UInt64 = 7  // PROCESS, MODULE, PYTHON, CODES, FRAMES, NODES, STACKS
        #expect(try Snapshot.parse(bytes: SnapshotBuilder.withEnd(body, recordCount: records), name: "again").traces.count == 6)
        for _ in 0..<5_000 {
            var damaged = body
            for _ in 0..<(1 + random.next() % 4) {
                let offset = Int(HD_FILE_HEADER_SIZE) + Int(random.next() % UInt64(body.count - Int(HD_FILE_HEADER_SIZE)))
                damaged[offset] = UInt8(truncatingIfNeeded: random.next())
            }
            _ = try? Snapshot.parse(bytes: SnapshotBuilder.withEnd(damaged, recordCount: records), name: "random")
        }
    }
}
