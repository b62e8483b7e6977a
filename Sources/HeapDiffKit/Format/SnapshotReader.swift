/// Checks a snapshot file's structure and decodes its records.
///
/// The order of checks gives the most useful message for each kind of damage:
/// the header first (is it a snapshot at all, which version), then the record
/// chain up to END (is it complete), then the checksum (is it intact), and
/// only then the payloads, whose lengths are checked before any is trusted.
struct SnapshotReader {
    let path: String
    let bytes: [UInt8]

    func read() throws -> Snapshot {
        let header = try checkFileHeader()
        let (records, end) = try walkRecords(from: header.recordsStart)
        try checkEnd(end, recordCount: records.count)
        return header.version == FormatLayout.version1 ? try decodeVersion1(records) : try decodeVersion2(records)
    }

    // MARK: - File header

    /// Returns the version and where the first record starts. Every minor
    /// of a known version is read: minors only add what a reader may skip.
    private func checkFileHeader() throws -> (version: UInt32, recordsStart: Int) {
        let magic = FormatLayout.magic
        guard !bytes.isEmpty else { throw SnapshotError.empty(path: path) }
        guard magic.starts(with: bytes.prefix(magic.count)) else {
            throw SnapshotError.notASnapshot(path: path)
        }
        let file = ByteCursor(bytes, window: bytes.indices)
        guard let version = try? file.u32(at: FormatLayout.versionOffset) else {
            throw truncated("file header incomplete")
        }
        guard FormatLayout.versions.contains(version) else {
            throw SnapshotError.unsupportedVersion(path: path, version: version)
        }
        guard let headerSize = try? file.u32(at: FormatLayout.headerSizeOffset) else {
            throw truncated("file header incomplete")
        }
        let smallest = version == FormatLayout.version1 ? FormatLayout.fileHeaderSizeV1 : FormatLayout.fileHeaderSize
        guard headerSize >= smallest else {
            throw corrupt("header size \(headerSize) is smaller than \(smallest)")
        }
        // Larger headers come from newer writers; their extra bytes are skipped.
        guard headerSize <= bytes.count else { throw truncated("file header incomplete") }
        return (version, Int(headerSize))
    }

    // MARK: - Record chain

    struct RecordSpan {
        var type: UInt32
        /// 1-based position in the file, for messages.
        var ordinal: Int
        var headerOffset: Int
        var payload: Range<Int>
    }

    /// Follows record lengths to the END record, which must end exactly at EOF.
    private func walkRecords(from start: Int) throws -> (records: [RecordSpan], end: RecordSpan) {
        let file = ByteCursor(bytes, window: bytes.indices)
        var records: [RecordSpan] = []
        var offset = start
        while true {
            guard bytes.count - offset >= FormatLayout.recordHeaderSize,
                  let type = try? file.u32(at: offset),
                  let length = try? file.u32(at: offset + 4)
            else { throw truncated("END record missing") }

            let payloadStart = offset + FormatLayout.recordHeaderSize
            guard Int(length) <= bytes.count - payloadStart else {
                throw truncated("END record missing")
            }
            let span = RecordSpan(type: type, ordinal: records.count + 1, headerOffset: offset,
                                  payload: payloadStart..<(payloadStart + Int(length)))
            if type == FormatLayout.RecordType.end {
                guard span.payload.count == FormatLayout.End.size else {
                    throw corrupt("END record is \(length) bytes, expected \(FormatLayout.End.size)")
                }
                guard span.payload.upperBound == bytes.count else {
                    throw corrupt("\(bytes.count - span.payload.upperBound) bytes after the END record")
                }
                return (records, span)
            }
            records.append(span)
            offset = span.payload.upperBound
        }
    }

    private func checkEnd(_ end: RecordSpan, recordCount: Int) throws {
        let payload = ByteCursor(bytes, window: end.payload)
        let storedCRC = try payload.u32(at: FormatLayout.End.crc32)
        guard storedCRC == FormatLayout.crc32(bytes[0..<end.headerOffset]) else {
            throw corrupt("checksum mismatch")
        }
        let storedCount = try payload.u64(at: FormatLayout.End.recordCount)
        guard storedCount == UInt64(recordCount) else {
            throw corrupt("END record counts \(storedCount) records, the file has \(recordCount)")
        }
    }

    // MARK: - Payloads

    /// Version 1: flat TRACE records, every stack in every file.
    private func decodeVersion1(_ records: [RecordSpan]) throws -> Snapshot {
        let process = try decodeProcess(records)

        var modules: [Module] = []
        var traces: [Trace] = []
        traces.reserveCapacity(records.count)
        var frames = FrameArena(capacity: Self.frameCapacity(records))
        var python: PythonInfo?
        for record in records.dropFirst() {
            switch record.type {
            case FormatLayout.RecordType.process:
                throw corrupt("record \(record.ordinal) is a second PROCESS record")
            case FormatLayout.RecordType.module:
                modules.append(try decodePayload(record, as: "MODULE") { try Module(payload: &$0) })
            case FormatLayout.RecordType.trace:
                traces.append(try decodePayload(record, as: "TRACE") { try Trace(payload: &$0, frames: &frames) })
            case FormatLayout.RecordType.python:
                python = try decodePayload(record, as: "PYTHON") { try PythonInfo(payload: &$0) }
            case FormatLayout.RecordType.pythonCode:
                guard let version = python?.hexVersion else {
                    throw corrupt("record \(record.ordinal) (PYCODE) comes before PYTHON")
                }
                let code = try decodePayload(record, as: "PYCODE") {
                    try PythonCode(payload: &$0, format: PythonLineTable.Format(hexVersion: version))
                }
                python?.codes[code.id] = code
            default:
                continue  // a newer writer's record type: its length let us step over it
            }
        }
        var snapshot = Snapshot(path: path, process: process, modules: modules, traces: traces)
        snapshot.python = python
        snapshot.formatVersion = FormatLayout.version1
        return snapshot
    }

    func decodeProcess(_ records: [RecordSpan], exact: Bool = true) throws -> ProcessRecord {
        guard let first = records.first, first.type == FormatLayout.RecordType.process else {
            throw corrupt("the first record is not PROCESS")
        }
        return try decodePayload(first, as: "PROCESS") { try ProcessRecord(payload: &$0, exact: exact) }
    }

    /// Room for the frames of every TRACE record: at most what follows
    /// each one's fixed part (its length is checked when it is decoded).
    private static func frameCapacity(_ records: [RecordSpan]) -> Int {
        var capacity = 0
        for record in records where record.type == FormatLayout.RecordType.trace {
            capacity += max(0, record.payload.count - FormatLayout.Trace.fixedSize) / FormatLayout.Trace.frameSize
        }
        return capacity
    }

    func decodePayload<T>(_ record: RecordSpan, as name: String,
                                  _ decode: (inout ByteCursor) throws -> T) throws -> T {
        var cursor = ByteCursor(bytes, window: record.payload)
        do {
            return try decode(&cursor)
        } catch let problem as DecodingProblem {
            throw corrupt("record \(record.ordinal) (\(name)): \(problem.message)")
        }
    }

    // MARK: - Errors

    func truncated(_ reason: String) -> SnapshotError {
        .truncated(path: path, reason: reason, fileSize: bytes.count)
    }

    func corrupt(_ reason: String) -> SnapshotError {
        .corrupt(path: path, reason: reason)
    }
}

extension ProcessRecord {
    /// The PROCESS record of a snapshot file, read from the start of the file
    /// alone: enough to choose among a series' files (trigger, SEQ, flags)
    /// without reading their traces. The rest of the file is not checked
    /// here; anything wrong in the part read is reported exactly as
    /// `Snapshot.load(path:)` reports it.
    public static func load(path: String) throws -> ProcessRecord {
        if let process = try? peek(path: path) { return process }
        return try Snapshot.load(path: path).process
    }

    private static func peek(path: String) throws -> ProcessRecord {
        // The fixed part and three short strings; a longer record is read again in full.
        var bytes = try FileBytes.read(path: path, limit: 1 << 14)
        let file = ByteCursor(bytes, window: bytes.indices)
        guard FormatLayout.magic.starts(with: bytes.prefix(FormatLayout.magic.count)),
              try file.u32(at: FormatLayout.versionOffset) == FormatLayout.version else {
            throw DecodingProblem(message: "not a version \(FormatLayout.version) snapshot")
        }
        let start = Int(try file.u32(at: FormatLayout.headerSizeOffset))
        guard start >= FormatLayout.fileHeaderSize,
              try file.u32(at: start) == FormatLayout.RecordType.process else {
            throw DecodingProblem(message: "no PROCESS record first")
        }
        let payloadStart = start + FormatLayout.recordHeaderSize
        let end = payloadStart + Int(try file.u32(at: start + 4))
        if end > bytes.count {
            guard end <= 4 << 20 else { throw DecodingProblem(message: "PROCESS record too long") }
            bytes = try FileBytes.read(path: path, limit: end)
            guard end <= bytes.count else { throw DecodingProblem(message: "PROCESS record cut short") }
        }
        var cursor = ByteCursor(bytes, window: payloadStart..<end)
        return try ProcessRecord(payload: &cursor, exact: false)   // a later minor may append fields
    }
}

extension Snapshot {
    /// Validates and decodes snapshot bytes already in memory, exactly as
    /// `load(path:)` does a file's; `name` stands for the path in errors and
    /// becomes the snapshot's `path`. The entry point of the fuzz target.
    public static func parse(bytes: [UInt8], name: String) throws(SnapshotError) -> Snapshot {
        do {
            return try SnapshotReader(path: name, bytes: try uncompressed(bytes, path: name)).read()
        } catch let error as SnapshotError {
            throw error
        } catch {
            // Every problem is mapped to a SnapshotError inside the reader.
            throw .corrupt(path: name, reason: "\(error)")
        }
    }
}
