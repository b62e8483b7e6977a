/// The line of an instruction, read from a code object's line table as the
/// recorder copied it. Its format depends on the CPython version:
/// - 3.11+: the location table (`co_linetable`, described in CPython's
///   Objects/locations.md): entries each covering 1 to 8 two-byte code units
///   and moving the current line by a delta;
/// - 3.10: `co_linetable` of (byte delta, signed line delta) pairs, a line
///   delta of -128 meaning no line (Objects/lnotab_notes.txt);
/// - 3.8 and 3.9: `co_lnotab`, (byte increment, signed line increment) pairs.
///
/// The recorder copies the raw table; the line is only computed here, from
/// the table decoded once per code object, so the allocation hook never
/// parses it.
public struct PythonLineTable: Sendable, Equatable {
    public enum Format: Sendable, Equatable {
        /// 3.8 and 3.9: `co_lnotab`.
        case lineNumberTable
        /// 3.10: `co_linetable` of byte and line deltas.
        case lineTable310
        /// 3.11 and later: the location table.
        case locationTable

        /// The format of the interpreter whose `PY_VERSION_HEX` this is.
        public init(hexVersion: UInt32) {
            switch hexVersion >> 16 {
            case ..<0x030A: self = .lineNumberTable
            case 0x030A: self = .lineTable310
            default: self = .locationTable
            }
        }
    }

    public let bytes: [UInt8]
    public let firstLine: Int
    public let format: Format

    public init(bytes: [UInt8], firstLine: Int, format: Format = .locationTable) {
        self.bytes = bytes
        self.firstLine = firstLine
        self.format = format
    }

    /// The line of the instruction at `instruction` (an index in 2-byte code
    /// units), nil when the table gives it no line or does not reach it.
    /// (Decodes the whole table: for many questions about one code object,
    /// ask its `lines()` instead.)
    public func line(atInstruction instruction: Int) -> Int? {
        lines().line(atInstruction: instruction)
    }

    /// The table decoded once, each instruction's line then found by a binary
    /// search: a module's `<module>` code, run once at import, can be asked
    /// about thousands of instructions, each a walk through the whole table.
    public func lines() -> Lines {
        switch format {
        case .locationTable: locationTableLines()
        case .lineTable310: lineTable310Lines()
        case .lineNumberTable: lineNumberTableLines()
        }
    }

    /// A decoded table: runs of the table's unit (bytes before 3.11, code
    /// units after) that start at `starts` and have `lines`, up to `end`.
    public struct Lines: Sendable {
        fileprivate var starts: [Int] = []
        fileprivate var lines: [Int?] = []
        /// Past the last run no instruction has a line.
        fileprivate var end = 0
        /// Bytes per unit of `starts`: 2 when the table counts bytes.
        fileprivate var unitsPerInstruction: Int

        fileprivate init(unitsPerInstruction: Int) {
            self.unitsPerInstruction = unitsPerInstruction
        }

        fileprivate mutating func run(from start: Int, line: Int?) {
            starts.append(start)
            lines.append(line)
        }

        /// The line of the instruction at `instruction` (in 2-byte code units).
        public func line(atInstruction instruction: Int) -> Int? {
            let unit = instruction * unitsPerInstruction
            guard unit >= 0, unit < end else { return nil }
            // The last run starting at or before it (of runs that start
            // together, the last: those before it are empty).
            var low = 0, high = starts.count
            while low < high {
                let middle = (low + high) / 2
                if starts[middle] <= unit { low = middle + 1 } else { high = middle }
            }
            return low == 0 ? nil : lines[low - 1]
        }
    }

    /// 3.8 and 3.9: the line grows by each increment whose byte offset has
    /// been reached; the table has no way to say "no line".
    private func lineNumberTableLines() -> Lines {
        var result = Lines(unitsPerInstruction: 2)
        guard bytes.count % 2 == 0 else { return result }
        var line = firstLine, address = 0
        result.run(from: 0, line: line)
        for pair in stride(from: 0, to: bytes.count, by: 2) {
            address += Int(bytes[pair])
            line += Int(Int8(bitPattern: bytes[pair + 1]))
            result.run(from: address, line: line)
        }
        result.end = Int.max
        return result
    }

    /// 3.10: each pair is a range of bytes and the line it starts (the line
    /// so far plus the delta), or no line for a delta of -128.
    private func lineTable310Lines() -> Lines {
        var result = Lines(unitsPerInstruction: 2)
        guard bytes.count % 2 == 0 else { return result }
        var line = firstLine, end = 0
        for pair in stride(from: 0, to: bytes.count, by: 2) {
            let start = end
            end += Int(bytes[pair])
            let delta = Int8(bitPattern: bytes[pair + 1])
            if delta != -128 { line += Int(delta) }
            result.run(from: start, line: delta == -128 ? nil : line)
        }
        result.end = end
        return result
    }

    /// 3.11 and later: entries of 1 to 8 code units; a damaged entry ends the
    /// table where it starts.
    private func locationTableLines() -> Lines {
        var result = Lines(unitsPerInstruction: 1)
        var reader = Reader(bytes: bytes)
        var line = firstLine
        var unit = 0
        entries: while let head = reader.next() {
            guard head & 0x80 != 0 else { break }   // lost sync: a damaged table
            let code = Int(head >> 3) & 0x0F
            let length = Int(head & 0x07) + 1
            var hasLine = true
            switch code {
            case 15:
                hasLine = false
            case 14:   // long form: line delta, end-line delta, columns
                guard let delta = reader.signedVarint(), reader.skipVarints(3) else { break entries }
                line += delta
            case 13:   // no column information
                guard let delta = reader.signedVarint() else { break entries }
                line += delta
            case 10...12:   // one-line form: delta 0 to 2, then two column bytes
                line += code - 10
                guard reader.skip(2) else { break entries }
            default:   // short form: same line, one column byte
                guard reader.skip(1) else { break entries }
            }
            result.run(from: unit, line: hasLine ? line : nil)
            unit += length
        }
        result.end = unit
        return result
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        mutating func next() -> UInt8? {
            guard position < bytes.count else { return nil }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func skip(_ count: Int) -> Bool {
            guard bytes.count - position >= count else { return false }
            position += count
            return true
        }

        /// 6 bits a byte, least significant first; bit 6 says more follow.
        mutating func varint() -> Int? {
            var value = 0, shift = 0
            while let byte = next() {
                guard shift < 56 else { return nil }
                value |= Int(byte & 0x3F) << shift
                if byte & 0x40 == 0 { return value }
                shift += 6
            }
            return nil
        }

        /// The sign in the lowest bit.
        mutating func signedVarint() -> Int? {
            guard let raw = varint() else { return nil }
            return raw & 1 != 0 ? -(raw >> 1) : raw >> 1
        }

        mutating func skipVarints(_ count: Int) -> Bool {
            for _ in 0..<count where varint() == nil { return false }
            return true
        }
    }
}
