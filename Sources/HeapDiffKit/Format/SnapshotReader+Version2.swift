import HeapDiffFormat

/// Decoding of a version-2 file's records: PROCESS, MODULE and PYTHON as in
/// version 1 (later minors may append fields, which are skipped), then the
/// tables CODES, FRAMES, NODES and STACKS (heapdiff_format.h).
///
/// Every id is checked before it is used: a node's frame index against the
/// frames read so far, its parent against the nodes before it, a stack's
/// node against the nodes read so far, a file reference against the file
/// names given so far; depths stay within the recorder's limit. Counts are
/// checked against the bytes that could hold them before anything is
/// reserved for them.
extension SnapshotReader {
    func decodeVersion2(_ records: [RecordSpan]) throws -> Snapshot {
        let process = try decodeProcess(records, exact: false)
        var modules: [Module] = []
        var python: PythonInfo?
        var tables = Tables()
        for record in records.dropFirst() {
            switch record.type {
            case FormatLayout.RecordType.process:
                throw corrupt("record \(record.ordinal) is a second PROCESS record")
            case FormatLayout.RecordType.module:
                modules.append(try decodePayload(record, as: "MODULE") { try Module(payload: &$0, exact: false) })
            case FormatLayout.RecordType.python:
                python = try decodePayload(record, as: "PYTHON") { try PythonInfo(payload: &$0, exact: false) }
            case FormatLayout.RecordType.codes:
                guard python != nil else { throw corrupt("record \(record.ordinal) (CODES) comes before PYTHON") }
                try decodePayload(record, as: "CODES") { try tables.readCodes(&$0, into: &python!) }
            case FormatLayout.RecordType.frames:
                try decodePayload(record, as: "FRAMES") { try tables.readFrames(&$0) }
            case FormatLayout.RecordType.nodes:
                try decodePayload(record, as: "NODES") { try tables.readNodes(&$0) }
            case FormatLayout.RecordType.stacks:
                try decodePayload(record, as: "STACKS") { try tables.readStacks(&$0) }
            case FormatLayout.RecordType.trace, FormatLayout.RecordType.pythonCode:
                throw corrupt("record \(record.ordinal) is a version-1 record (type \(record.type)) in a version-2 file")
            default:
                continue  // a newer minor's record type: its length let us step over it
            }
        }
        var snapshot = Snapshot(path: path, process: process, modules: modules, traces: tables.traces())
        snapshot.python = python
        return snapshot
    }
}

/// The tables of a version-2 file as they are read, numbering continuing
/// from one record of a table to the next.
private struct Tables {
    struct Stack {
        var node: Int32
        var flags: UInt64
        var liveBytes, liveCount, allocBytes, allocCount: UInt64
        var liveSamples, allocSamples: UInt64
    }

    var frames: [UInt64] = []
    /// Per node, node 0 the root.
    var nodeFrames: [UInt64] = [0]
    var parents: [Int32] = [0]
    var depths: [UInt16] = [0]
    var stacks: [Stack] = []
    var files: [String] = []

    /// A table's entry count, no larger than `minimumEntrySize`-byte entries
    /// in what is left of the record could hold.
    private static func entryCount(_ reader: inout VarintReader, remaining: Int, minimumEntrySize: Int,
                                   name: String) throws -> Int {
        let count = try reader.next()
        guard count <= UInt64(max(0, remaining - reader.offset) / minimumEntrySize) else {
            throw DecodingProblem(message: "\(count) \(name) cannot fit in \(remaining) bytes")
        }
        return Int(count)
    }

    private static func requireEnd(_ reader: VarintReader, _ what: String) throws {
        guard reader.isAtEnd else {
            throw DecodingProblem(message: "unexpected bytes after the last \(what)")
        }
    }

    mutating func readFrames(_ cursor: inout ByteCursor) throws {
        let size = cursor.remaining
        try cursor.readVarints { reader in
            let count = try Self.entryCount(&reader, remaining: size, minimumEntrySize: 1, name: "frames")
            frames.reserveCapacity(frames.count + count)
            var previous: UInt64 = 0
            for _ in 0..<count {
                let (frame, overflow) = previous.addingReportingOverflow(try reader.next())
                guard !overflow else { throw DecodingProblem(message: "frame \(frames.count) exceeds 64 bits") }
                frames.append(frame)
                previous = frame
            }
            try Self.requireEnd(reader, "frame")
        }
    }

    mutating func readNodes(_ cursor: inout ByteCursor) throws {
        let size = cursor.remaining
        let maxDepth = UInt16(FormatLayout.Trace.maxFrames)
        try cursor.readVarints { reader in
            let count = try Self.entryCount(&reader, remaining: size, minimumEntrySize: 2, name: "nodes")
            guard count <= Int(Int32.max) - nodeFrames.count else {
                throw DecodingProblem(message: "more than \(Int32.max) nodes")
            }
            nodeFrames.reserveCapacity(nodeFrames.count + count)
            parents.reserveCapacity(parents.count + count)
            depths.reserveCapacity(depths.count + count)
            for _ in 0..<count {
                let node = nodeFrames.count
                let frame = try reader.next()
                guard frame < UInt64(frames.count) else {
                    throw DecodingProblem(message: "node \(node) names frame \(frame), but the file has \(frames.count) frames before it")
                }
                let back = try reader.next()
                guard back >= 1, back <= UInt64(node) else {
                    throw DecodingProblem(message: "node \(node) names a parent \(back) nodes back, outside nodes 0 to \(node - 1)")
                }
                let parent = node - Int(back)
                guard depths[parent] < maxDepth else {
                    throw DecodingProblem(message: "node \(node) is deeper than the \(maxDepth) frames a stack may have")
                }
                nodeFrames.append(frames[Int(frame)])
                parents.append(Int32(parent))
                depths.append(depths[parent] + 1)
            }
            try Self.requireEnd(reader, "node")
        }
    }

    mutating func readStacks(_ cursor: inout ByteCursor) throws {
        let size = cursor.remaining
        try cursor.readVarints { reader in
            let count = try reader.next()
            let fields = try reader.next()
            guard fields >= UInt64(FormatLayout.StackField.minimumCount), fields <= 64 else {
                throw DecodingProblem(message: "\(fields) fields per stack, expected \(FormatLayout.StackField.minimumCount) to 64")
            }
            guard count <= UInt64(max(0, size - reader.offset)) / fields else {
                throw DecodingProblem(message: "\(count) stacks of \(fields) fields cannot fit in \(size) bytes")
            }
            stacks.reserveCapacity(stacks.count + Int(count))
            var previous: Int64 = 0
            for _ in 0..<count {
                let (node, overflow) = previous.addingReportingOverflow(hd_unzigzag(try reader.next()))
                guard !overflow, node >= 0, node < Int64(nodeFrames.count) else {
                    throw DecodingProblem(message: "stack \(stacks.count) names node \(overflow ? "beyond 64 bits" : String(node)), but the file has \(nodeFrames.count) nodes before it")
                }
                previous = node
                let flags = try reader.next()
                let liveBytes = try reader.next(), liveCount = try reader.next()
                let allocBytes = try reader.next(), allocCount = try reader.next()
                // Minor 1's sample counts, when written (0 in an exact recording).
                var liveSamples: UInt64 = 0, allocSamples: UInt64 = 0
                for field in FormatLayout.StackField.minimumCount..<Int(fields) {
                    let value = try reader.next()   // beyond these two: a later minor's, skipped
                    if field == FormatLayout.StackField.liveSamples { liveSamples = value }
                    if field == FormatLayout.StackField.allocSamples { allocSamples = value }
                }
                stacks.append(Stack(node: Int32(node), flags: flags, liveBytes: liveBytes, liveCount: liveCount,
                                    allocBytes: allocBytes, allocCount: allocCount,
                                    liveSamples: liveSamples, allocSamples: allocSamples))
            }
            try Self.requireEnd(reader, "stack")
        }
    }

    mutating func readCodes(_ cursor: inout ByteCursor, into python: inout PythonInfo) throws {
        let size = cursor.remaining
        let maxString = FormatLayout.Limits.maxString
        try cursor.readVarints { reader in
            let count = try Self.entryCount(&reader, remaining: size, minimumEntrySize: 6, name: "code objects")
            for _ in 0..<count {
                let id = try reader.next()
                guard id <= UInt64(HD_PYCODE_MAX_ID) else {
                    throw DecodingProblem(message: "code id \(id) exceeds \(HD_PYCODE_MAX_ID)")
                }
                let firstLine = hd_unzigzag(try reader.next())
                guard let line = Int32(exactly: firstLine) else {
                    throw DecodingProblem(message: "first line \(firstLine) of code \(id) exceeds 32 bits")
                }
                let file: String
                let reference = try reader.next()
                if reference == 0 {
                    let length = try reader.next()
                    guard length <= UInt64(maxString) else {
                        throw DecodingProblem(message: "file name of \(length) bytes, more than the \(maxString) allowed")
                    }
                    file = String(decoding: try reader.take(Int(length)), as: UTF8.self)
                    files.append(file)
                } else {
                    guard reference <= UInt64(files.count) else {
                        throw DecodingProblem(message: "code \(id) names file \(reference), but only \(files.count) were given before it")
                    }
                    file = files[Int(reference) - 1]
                }
                let nameLength = try reader.next()
                guard nameLength <= UInt64(maxString) else {
                    throw DecodingProblem(message: "function name of \(nameLength) bytes, more than the \(maxString) allowed")
                }
                let name = String(decoding: try reader.take(Int(nameLength)), as: UTF8.self)
                let tableLength = try reader.next()
                guard tableLength <= UInt64(maxString) else {
                    throw DecodingProblem(message: "line table of \(tableLength) bytes, more than the \(maxString) allowed")
                }
                let table = Array(try reader.take(Int(tableLength)))
                python.codes[UInt32(id)] = PythonCode(
                    id: UInt32(id), file: file, qualifiedName: name,
                    lineTable: PythonLineTable(bytes: table, firstLine: Int(line),
                                               format: PythonLineTable.Format(hexVersion: python.hexVersion)))
            }
            try Self.requireEnd(reader, "code object")
        }
    }

    /// The stacks as traces: each one's frames walked up from its node into
    /// one arena, and its node kept for analyses that work per node.
    func traces() -> [Trace] {
        let tree = StackTree(frames: nodeFrames, parents: parents, depths: depths)
        var capacity = 0
        for stack in stacks { capacity += Int(depths[Int(stack.node)]) }
        var arena = FrameArena(capacity: capacity)
        return stacks.map { stack in
            let frames = arena.append(Int(depths[Int(stack.node)])) { buffer in
                var node = Int(stack.node)
                for index in buffer.indices {
                    buffer[index] = nodeFrames[node]
                    node = Int(parents[node])
                }
            }
            var trace = Trace(liveBytes: stack.liveBytes, liveCount: stack.liveCount, allocBytes: stack.allocBytes,
                              allocCount: stack.allocCount, frames: frames,
                              truncated: stack.flags & UInt64(FormatLayout.Trace.flagTruncated) != 0)
            trace.stack = StackNode(tree: tree, id: stack.node)
            trace.liveSamples = stack.liveSamples
            trace.allocSamples = stack.allocSamples
            return trace
        }
    }
}
