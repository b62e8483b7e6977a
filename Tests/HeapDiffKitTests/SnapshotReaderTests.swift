import HeapDiffFormat
import Testing
@testable import HeapDiffKit

@Suite struct SnapshotReaderTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// Distinct values in every field, so a swapped offset cannot go unnoticed.
    static let fullProcess = ProcessRecord(
        pid: 4242, ppid: 1, seq: 3, trigger: .interval,
        wallTimeNs: 1_700_000_000_123_456_789, monotonicNs: 98_765_432_100, startMonotonicNs: 12_345_678_900,
        rss: 50 << 20, peakRSS: 60 << 20,
        liveBytes: 1_234_567, liveCount: 890,
        allocBytes: 9_999_999, allocCount: 12_345,
        freeBytes: 8_765_432, freeCount: 11_455, peakLiveBytes: 2_000_000,
        depth: 64, flags: UInt32(HD_PROCESS_FLAG_TRACES_DROPPED),
        program: "/usr/local/bin/server", label: "after warm-up ✓",
        commandLine: ["./server", "--port", "8080", ""])

    @Test func roundTripsEveryProcessField() throws {
        let path = try SnapshotBuilder(process: Self.fullProcess).write(in: directory)
        let snapshot = try Snapshot.load(path: path)
        #expect(snapshot.path == path)
        #expect(snapshot.process == Self.fullProcess)
        #expect(snapshot.process.pid == 4242)
        #expect(snapshot.process.trigger == .interval)
        #expect(snapshot.process.commandLine == ["./server", "--port", "8080", ""])
        #expect(snapshot.process.tracesDropped)
        #expect(snapshot.modules.isEmpty)
        #expect(snapshot.traces.isEmpty)
    }

    /// A process whose executable was replaced while it ran (an upgraded
    /// service) recorded /proc's "PATH (deleted)": read as the path it was
    /// loaded from, so the module is named as the file and looked up there.
    @Test func aReplacedExecutableIsReadAsThePathItWasLoadedFrom() throws {
        var process = Self.fullProcess
        process.program = "/usr/sbin/nginx (deleted)"
        let module = Module(index: 0, path: "/usr/sbin/nginx (deleted)", buildID: [1, 2, 3], loadBias: 0x5555_0000_0000,
                            ranges: [0x5555_0000_1000..<0x5555_0000_9000])
        let path = try SnapshotBuilder(process: process, modules: [module]).write(in: directory)
        let snapshot = try Snapshot.load(path: path)
        #expect(snapshot.process.program == "/usr/sbin/nginx")
        #expect(snapshot.modules.map(\.path) == ["/usr/sbin/nginx"])
        #expect(Module.pathAsLoaded("/usr/lib/libfoo.so (deleted) (deleted)") == "/usr/lib/libfoo.so (deleted)")
        #expect(Module.pathAsLoaded("/opt/my (deleted) tool") == "/opt/my (deleted) tool")
    }

    @Test func roundTripsModulesAndTraces() throws {
        let module = Module(index: 0, path: "/usr/lib/libfoo.so.1", buildID: [0x0a, 0xbc, 0xde, 0xf1],
                            loadBias: 0x7f00_0000_0000,
                            ranges: [0x7f00_0000_1000..<0x7f00_0000_5000, 0x7f00_0001_0000..<0x7f00_0001_0800])
        let traces = [
            Trace(liveBytes: 100, liveCount: 2, allocBytes: 300, allocCount: 6,
                  frames: [0x7f00_0000_1234, 0x7f00_0000_2345], truncated: true),
            Trace(liveBytes: 0, liveCount: 0, allocBytes: 16, allocCount: 1, frames: []),
        ]
        let path = try SnapshotBuilder(modules: [module], traces: traces).write(in: directory)
        let snapshot = try Snapshot.load(path: path)
        #expect(snapshot.modules == [module])
        #expect(snapshot.modules[0].buildIDHex == "0abcdef1")
        #expect(snapshot.traces == traces)
    }

    @Test func decodesEveryTrigger() throws {
        let expected: [(UInt32, Trigger)] = [(1, .api), (2, .signal), (3, .interval), (4, .exit), (9, .unknown(9))]
        for (raw, trigger) in expected {
            let path = try SnapshotBuilder(process: ProcessRecord(trigger: Trigger(rawValue: raw)))
                .write(in: directory, name: "trigger\(raw).heapsnap")
            #expect(try Snapshot.load(path: path).process.trigger == trigger)
        }
    }

    @Test func skipsUnknownRecordTypes() throws {
        var builder = SnapshotBuilder(traces: [Trace(liveBytes: 8, liveCount: 1, frames: [0x10])])
        builder.extraRecords = [SnapshotBuilder.record(type: 77, payload: [1, 2, 3])]
        let snapshot = try Snapshot.load(path: try builder.write(in: directory))
        #expect(snapshot.traces.count == 1)
    }

    @Test func acceptsAHeaderLargerThanVersionOnesAndSkipsTheRest() throws {
        var body = Array(HD_MAGIC.utf8)
        SnapshotBuilder.append32(1, to: &body)
        SnapshotBuilder.append32(20, to: &body)
        body += [0xee, 0xee, 0xee, 0xee]
        body += SnapshotBuilder.processRecord(ProcessRecord(pid: 7))
        let path = try directory.write(SnapshotBuilder.withEnd(body, recordCount: 1), name: "wide.heapsnap")
        #expect(try Snapshot.load(path: path).process.pid == 7)
    }

    // MARK: - Errors

    @Test func missingFile() {
        let path = directory.path + "/absent.heapsnap"
        #expect(throws: SnapshotError.cannotOpen(path: path, reason: "No such file or directory")) {
            try Snapshot.load(path: path)
        }
    }

    @Test func emptyFile() throws {
        let path = try directory.write([], name: "empty.heapsnap")
        #expect(throws: SnapshotError.empty(path: path)) { try Snapshot.load(path: path) }
        #expect(SnapshotError.empty(path: "x.heapsnap").description == "x.heapsnap: empty file")
    }

    @Test func lastByteMissing() throws {
        let bytes = SnapshotBuilder().bytes()
        let path = try directory.write(Array(bytes.dropLast()), name: "cut.heapsnap")
        let error = SnapshotError.truncated(path: path, reason: "END record missing", fileSize: bytes.count - 1)
        #expect(throws: error) { try Snapshot.load(path: path) }
        #expect(error.description == "\(path): truncated: END record missing (file is \(bytes.count - 1) bytes)")
    }

    @Test func endRecordMissing() throws {
        let bytes = SnapshotBuilder(traces: [Trace(liveBytes: 1, liveCount: 1, frames: [1])]).bytes()
        let withoutEnd = Array(bytes.dropLast(Int(HD_RECORD_HEADER_SIZE + HD_END_SIZE)))
        let path = try directory.write(withoutEnd, name: "noend.heapsnap")
        #expect(throws: SnapshotError.truncated(path: path, reason: "END record missing", fileSize: withoutEnd.count)) {
            try Snapshot.load(path: path)
        }
    }

    @Test func headerCutShort() throws {
        let path = try directory.write(Array(HD_MAGIC.utf8) + [1, 0], name: "short.heapsnap")
        #expect(throws: SnapshotError.truncated(path: path, reason: "file header incomplete", fileSize: 10)) {
            try Snapshot.load(path: path)
        }
    }

    @Test func badMagic() throws {
        var bytes = SnapshotBuilder().bytes()
        bytes[0] = UInt8(ascii: "X")
        let path = try directory.write(bytes, name: "magic.heapsnap")
        let error = SnapshotError.notASnapshot(path: path)
        #expect(throws: error) { try Snapshot.load(path: path) }
        #expect(error.description == "\(path): not a heapdiff snapshot (bad magic)")

        let text = try directory.write(Array("hello\n".utf8), name: "text.heapsnap")
        #expect(throws: SnapshotError.notASnapshot(path: text)) { try Snapshot.load(path: text) }
    }

    @Test func unsupportedVersion() throws {
        let bytes = SnapshotBuilder.file(records: [SnapshotBuilder.processRecord(ProcessRecord())], version: 3)
        let path = try directory.write(bytes, name: "v3.heapsnap")
        let error = SnapshotError.unsupportedVersion(path: path, version: 3)
        #expect(throws: error) { try Snapshot.load(path: path) }
        #expect(error.description == "\(path): unsupported format version 3 (this heapdiff reads versions 1 to 2)")
        let zero = try directory.write(SnapshotBuilder.file(records: [], version: 0), name: "v0.heapsnap")
        #expect(throws: SnapshotError.unsupportedVersion(path: zero, version: 0)) { try Snapshot.load(path: zero) }
    }

    @Test func flippedByteFailsTheChecksum() throws {
        var bytes = SnapshotBuilder(traces: [Trace(liveBytes: 4096, liveCount: 1, frames: [0x1234])]).bytes()
        // The trace's live bytes: the last record before END starts with them.
        let traceLiveBytes = bytes.count - Int(HD_RECORD_HEADER_SIZE + HD_END_SIZE) - (Int(HD_TRACE_FIXED_SIZE) + 8)
        bytes[traceLiveBytes + 1] ^= 0x01
        let path = try directory.write(bytes, name: "flip.heapsnap")
        let error = SnapshotError.corrupt(path: path, reason: "checksum mismatch")
        #expect(throws: error) { try Snapshot.load(path: path) }
        #expect(error.description == "\(path): corrupt: checksum mismatch")
    }

    /// A file whose PROCESS record claims a program path of `length` bytes
    /// but holds an empty one; the record's own length and the CRC are right.
    private func fileWithProgramPathLength(_ length: UInt32, name: String) throws -> String {
        var payload = Array(SnapshotBuilder.processRecord(ProcessRecord()).dropFirst(Int(HD_RECORD_HEADER_SIZE)))
        // The program path's length field comes right after the fixed part.
        SnapshotBuilder.put32(length, at: Int(HD_PROCESS_FIXED_SIZE), in: &payload)
        let bytes = SnapshotBuilder.file(records: [SnapshotBuilder.record(type: UInt32(HD_RECORD_PROCESS), payload: payload)])
        return try directory.write(bytes, name: name)
    }

    @Test func stringLongerThanItsRecord() throws {
        let path = try fileWithProgramPathLength(4096, name: "string.heapsnap")
        #expect(throws: SnapshotError.corrupt(
            path: path, reason: "record 1 (PROCESS): program path of 4096 bytes runs past the record's end")) {
            try Snapshot.load(path: path)
        }
    }

    @Test func stringOverTheLimit() throws {
        let path = try fileWithProgramPathLength(.max, name: "huge.heapsnap")
        #expect(throws: SnapshotError.corrupt(
            path: path, reason: "record 1 (PROCESS): program path of 4294967295 bytes, more than the 1048576 allowed")) {
            try Snapshot.load(path: path)
        }
    }

    @Test func recordLengthBeyondEndOfFile() throws {
        var body = Array(SnapshotBuilder().bytes().prefix(Int(HD_FILE_HEADER_SIZE_V1)))
        body += SnapshotBuilder.processRecord(ProcessRecord())
        SnapshotBuilder.append32(UInt32(HD_RECORD_TRACE), to: &body)
        SnapshotBuilder.append32(0x7fff_ffff, to: &body)
        let path = try directory.write(body, name: "length.heapsnap")
        #expect(throws: SnapshotError.truncated(path: path, reason: "END record missing", fileSize: body.count)) {
            try Snapshot.load(path: path)
        }
    }

    @Test func billionFrames() throws {
        let trace = SnapshotBuilder.traceRecord(Trace(liveBytes: 1, liveCount: 1, frames: [0x1]), frameCount: 1_000_000_000)
        let bytes = SnapshotBuilder.file(records: [SnapshotBuilder.processRecord(ProcessRecord()), trace])
        let path = try directory.write(bytes, name: "frames.heapsnap")
        #expect(throws: SnapshotError.corrupt(path: path, reason: "record 2 (TRACE): frame count 1000000000 exceeds 256")) {
            try Snapshot.load(path: path)
        }
    }

    @Test func frameCountDisagreeingWithTheLength() throws {
        let trace = SnapshotBuilder.traceRecord(Trace(liveBytes: 1, liveCount: 1, frames: [0x1, 0x2]), frameCount: 3)
        let bytes = SnapshotBuilder.file(records: [SnapshotBuilder.processRecord(ProcessRecord()), trace])
        let path = try directory.write(bytes, name: "count.heapsnap")
        #expect(throws: SnapshotError.corrupt(path: path, reason: "record 2 (TRACE): 16 bytes left for 3 frames of 8 bytes")) {
            try Snapshot.load(path: path)
        }
    }

    @Test func moduleLimits() throws {
        let cases: [(Module, String)] = [
            (Module(index: 0, path: "/a", buildID: Array(repeating: 1, count: 65)),
             "record 2 (MODULE): build-id of 65 bytes, more than the 64 allowed"),
            (Module(index: 0, path: "/a", ranges: Array(repeating: 0..<1, count: 65)),
             "record 2 (MODULE): 65 ranges, more than the 64 allowed"),
        ]
        for (index, (module, reason)) in cases.enumerated() {
            let bytes = SnapshotBuilder(modules: [module]).bytes()
            let path = try directory.write(bytes, name: "module\(index).heapsnap")
            #expect(throws: SnapshotError.corrupt(path: path, reason: reason)) { try Snapshot.load(path: path) }
        }
    }

    @Test func rangeEndingBeforeItStarts() throws {
        var payload: [UInt8] = []
        SnapshotBuilder.append32(0, to: &payload)
        SnapshotBuilder.append32(1, to: &payload)
        SnapshotBuilder.append64(0, to: &payload)
        payload += SnapshotBuilder.string("/a")
        SnapshotBuilder.append32(0, to: &payload)
        SnapshotBuilder.append64(0x2000, to: &payload)
        SnapshotBuilder.append64(0x1000, to: &payload)
        let bytes = SnapshotBuilder.file(records: [
            SnapshotBuilder.processRecord(ProcessRecord()),
            SnapshotBuilder.record(type: UInt32(HD_RECORD_MODULE), payload: payload),
        ])
        let path = try directory.write(bytes, name: "range.heapsnap")
        #expect(throws: SnapshotError.corrupt(path: path, reason: "record 2 (MODULE): range 0x2000-0x1000 ends before it starts")) {
            try Snapshot.load(path: path)
        }
    }

    @Test func processRecordMustComeFirstAndOnce() throws {
        let process = SnapshotBuilder.processRecord(ProcessRecord())
        let trace = SnapshotBuilder.traceRecord(Trace(liveBytes: 1, liveCount: 1, frames: []))
        let noProcess = try directory.write(SnapshotBuilder.file(records: [trace]), name: "first.heapsnap")
        #expect(throws: SnapshotError.corrupt(path: noProcess, reason: "the first record is not PROCESS")) {
            try Snapshot.load(path: noProcess)
        }
        let nothing = try directory.write(SnapshotBuilder.file(records: []), name: "nothing.heapsnap")
        #expect(throws: SnapshotError.corrupt(path: nothing, reason: "the first record is not PROCESS")) {
            try Snapshot.load(path: nothing)
        }
        let twice = try directory.write(SnapshotBuilder.file(records: [process, trace, process]), name: "twice.heapsnap")
        #expect(throws: SnapshotError.corrupt(path: twice, reason: "record 3 is a second PROCESS record")) {
            try Snapshot.load(path: twice)
        }
    }

    @Test func wrongRecordCount() throws {
        var body = Array(SnapshotBuilder().bytes().prefix(Int(HD_FILE_HEADER_SIZE_V1)))
        body += SnapshotBuilder.processRecord(ProcessRecord())
        let path = try directory.write(SnapshotBuilder.withEnd(body, recordCount: 5), name: "records.heapsnap")
        #expect(throws: SnapshotError.corrupt(path: path, reason: "END record counts 5 records, the file has 1")) {
            try Snapshot.load(path: path)
        }
    }

    @Test func bytesAfterTheEndRecord() throws {
        let bytes = SnapshotBuilder().bytes() + [0]
        let path = try directory.write(bytes, name: "trailing.heapsnap")
        #expect(throws: SnapshotError.corrupt(path: path, reason: "1 bytes after the END record")) {
            try Snapshot.load(path: path)
        }
    }

    @Test func headerSizeTooSmall() throws {
        var bytes = SnapshotBuilder().bytes()
        bytes[Int(HD_FILE_HEADER_SIZE_OFFSET)] = 8
        let path = try directory.write(bytes, name: "header.heapsnap")
        #expect(throws: SnapshotError.corrupt(path: path, reason: "header size 8 is smaller than 16")) {
            try Snapshot.load(path: path)
        }
    }

    // MARK: - Hostile input never traps

    /// Every prefix of a valid file, and many random corruptions with the
    /// checksum recomputed so that they reach the payload decoders.
    @Test func damagedFilesThrowInsteadOfTrapping() throws {
        let module = Module(index: 0, path: "/lib/libc.so.6", buildID: [1, 2, 3], loadBias: 0x1000, ranges: [0x1000..<0x9000])
        let bytes = SnapshotBuilder(process: Self.fullProcess, modules: [module],
                                    traces: [Trace(liveBytes: 64, liveCount: 2, frames: [0x1100, 0x1200, 0x1300])]).bytes()
        for length in 0..<bytes.count {
            let reader = SnapshotReader(path: "prefix", bytes: Array(bytes.prefix(length)))
            #expect(throws: SnapshotError.self) { try reader.read() }
        }

        var random = SplitMix64(seed: 42)
        let endLength = Int(HD_RECORD_HEADER_SIZE + HD_END_SIZE)
        let body = Array(bytes.dropLast(endLength))
        for _ in 0..<5_000 {
            var damaged = body
            for _ in 0..<(1 + random.next() % 4) {
                let offset = Int(HD_FILE_HEADER_SIZE_V1) + Int(random.next() % UInt64(body.count - Int(HD_FILE_HEADER_SIZE_V1)))
                damaged[offset] = UInt8(truncatingIfNeeded: random.next())
            }
            let file = SnapshotBuilder.withEnd(damaged, recordCount: 3)
            _ = try? SnapshotReader(path: "random", bytes: file).read()  // must return or throw, never trap
        }
    }
}

/// A small deterministic generator, so a failing corruption can be replayed.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }
}
