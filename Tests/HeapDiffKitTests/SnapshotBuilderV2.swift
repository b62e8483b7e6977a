import HeapDiffFormat
import HeapDiffKit

/// Writes version-2 snapshot bytes for tests, independently of the reader:
/// the stacks made into a prefix tree here, the tables encoded with the C
/// header's constants and varint helper. Options let tests write what a
/// later minor would (more stack fields, longer payloads, unknown records)
/// and damage on purpose.
struct SnapshotBuilderV2 {
    var process = ProcessRecord()
    var modules: [Module] = []
    var traces: [Trace] = []
    var python: PythonInfo?
    /// Per trace flags beyond `truncated` (e.g. NATIVE_OUTER_OMITTED).
    var stackFlags: [UInt64] = []
    /// From minor 1 the sampling fields are written: PROCESS's tail, and
    /// each stack's sample counts.
    var minor: UInt32 = 0
    /// Fields appended to every STACKS entry, as a later minor might.
    var extraStackFields: [UInt64] = []
    /// Bytes appended to the PROCESS payload, as a later minor might.
    var processTail: [UInt8] = []
    /// Extra records written before END.
    var extraRecords: [[UInt8]] = []
    /// Entries per table record, to test tables split over records.
    var entriesPerRecord = Int.max

    /// The tree, as the recorder builds it: node ids in order of creation.
    struct Tree {
        var frames: [UInt64] = []            // distinct, ascending
        var nodeFrame: [Int] = []            // per node from 1: frame index
        var nodeParent: [Int] = []           // per node from 1
        var stackNode: [Int] = []            // per trace
    }

    func tree() -> Tree {
        var tree = Tree()
        tree.frames = Array(Set(traces.flatMap { Array($0.frames) })).sorted()
        let index = Dictionary(uniqueKeysWithValues: tree.frames.enumerated().map { ($1, $0) })
        var nodes: [[Int]: Int] = [:]  // [parent, frame index] -> node
        for trace in traces {
            var node = 0
            for frame in Array(trace.frames).reversed() {
                let key = [node, index[frame]!]
                if let known = nodes[key] {
                    node = known
                } else {
                    tree.nodeFrame.append(index[frame]!)
                    tree.nodeParent.append(node)
                    node = tree.nodeFrame.count
                    nodes[key] = node
                }
            }
            tree.stackNode.append(node)
        }
        return tree
    }

    func bytes() -> [UInt8] {
        let tree = tree()
        var records = [processRecord()] + modules.map(SnapshotBuilder.moduleRecord)
        if let python {
            var payload: [UInt8] = []
            SnapshotBuilder.append32(python.hexVersion, to: &payload)
            SnapshotBuilder.append32(0, to: &payload)
            records.append(SnapshotBuilder.record(type: UInt32(HD_RECORD_PYTHON), payload: payload))
            var files: [String] = []
            records += Self.table(type: HD_RECORD_CODES, entries: python.codes.keys.sorted().map { id in
                let code = python.codes[id]!
                var entry = Self.varint(UInt64(id)) + Self.varint(hd_zigzag(Int64(code.lineTable.firstLine)))
                if let known = files.firstIndex(of: code.file) {
                    entry += Self.varint(UInt64(known + 1))
                } else {
                    files.append(code.file)
                    entry += Self.varint(0) + Self.string(code.file)
                }
                return entry + Self.string(code.qualifiedName) + Self.varint(UInt64(code.lineTable.bytes.count))
                    + code.lineTable.bytes
            }, perRecord: entriesPerRecord)
        }
        // FRAMES: differences restart from 0 in each record.
        records += chunks(tree.frames.indices).map { range in
            var previous: UInt64 = 0
            let entries = range.flatMap { i -> [UInt8] in
                defer { previous = tree.frames[i] }
                return Self.varint(tree.frames[i] - previous)
            }
            return Self.tableRecord(type: HD_RECORD_FRAMES, count: range.count, entries: entries)
        }
        records += chunks(tree.nodeFrame.indices).map { range in
            let entries = range.flatMap { i in
                Self.varint(UInt64(tree.nodeFrame[i])) + Self.varint(UInt64(i + 1 - tree.nodeParent[i]))
            }
            return Self.tableRecord(type: HD_RECORD_NODES, count: range.count, entries: entries)
        }
        records += chunks(traces.indices).map { range in
            var previous = 0
            let sampling = minor >= 1 ? Int(HD_STACK_FIELDS_SAMPLED) - Int(HD_STACK_FIELDS_MIN) : 0
            var entries = Self.varint(UInt64(Int(HD_STACK_FIELDS_MIN) + sampling + extraStackFields.count))
            for i in range {
                let trace = traces[i]
                let flags = (trace.truncated ? UInt64(HD_TRACE_FLAG_TRUNCATED) : 0) | (i < stackFlags.count ? stackFlags[i] : 0)
                entries += Self.varint(hd_zigzag(Int64(tree.stackNode[i] - previous)))
                entries += [flags, trace.liveBytes, trace.liveCount, trace.allocBytes, trace.allocCount].flatMap(Self.varint)
                if sampling > 0 { entries += [trace.liveSamples, trace.allocSamples].flatMap(Self.varint) }
                entries += extraStackFields.flatMap(Self.varint)
                previous = tree.stackNode[i]
            }
            return Self.tableRecord(type: HD_RECORD_STACKS, count: range.count, entries: entries)
        }
        return SnapshotBuilder.file(records: records + extraRecords, version: UInt32(HD_FORMAT_V2), minor: minor)
    }

    private func chunks(_ indices: Range<Int>) -> [Range<Int>] {
        guard !indices.isEmpty else { return [] }
        let size = min(max(1, entriesPerRecord), indices.count)
        return stride(from: indices.lowerBound, to: indices.upperBound, by: size).map {
            $0..<min($0 + size, indices.upperBound)
        }
    }

    private func processRecord() -> [UInt8] {
        let v1 = SnapshotBuilder.processRecord(process)
        let header = Int(HD_RECORD_HEADER_SIZE)
        var tail: [UInt8] = []
        if minor >= 1 {
            SnapshotBuilder.append64(process.sampleRate, to: &tail)
            SnapshotBuilder.append64(process.liveSamples, to: &tail)
        }
        return SnapshotBuilder.record(type: UInt32(HD_RECORD_PROCESS), payload: Array(v1[header...]) + tail + processTail)
    }

    // MARK: - Encoding

    static func varint(_ value: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(HD_VARINT_MAX))
        let length = bytes.withUnsafeMutableBufferPointer { hd_varint_put($0.baseAddress!, value) }
        return Array(bytes.prefix(length))
    }

    static func string(_ text: String) -> [UInt8] {
        varint(UInt64(text.utf8.count)) + Array(text.utf8)
    }

    /// One table record: entry count, then the entries as given.
    static func tableRecord(type: Int, count: Int, entries: [UInt8]) -> [UInt8] {
        SnapshotBuilder.record(type: UInt32(type), payload: varint(UInt64(count)) + entries)
    }

    private static func table(type: Int, entries: [[UInt8]], perRecord: Int) -> [[UInt8]] {
        guard !entries.isEmpty else { return [] }
        let size = min(max(1, perRecord), entries.count)
        return stride(from: 0, to: entries.count, by: size).map { start in
            let part = entries[start..<min(start + size, entries.count)]
            return tableRecord(type: type, count: part.count, entries: part.flatMap { $0 })
        }
    }
}
