/// The line of an instruction, read from a code object's line table as the
/// recorder copied it. Its format depends on the CPython version:
/// - 3.11+: the location table (`co_linetable`, described in CPython's
///   Objects/locations.md): entries each covering 1 to 8 two-byte code units
///   and moving the current line by a delta;
/// - 3.10: `co_linetable` of (byte delta, signed line delta) pairs, a line
///   delta of -128 meaning no line (Objects/lnotab_notes.txt);
/// - 3.8 and 3.9: `co_lnotab`, (byte increment, signed line increment) pairs.
///
/// The recorder copies the raw table; the line is only computed here, once
/// per distinct frame, so the allocation hook never parses it.
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
    public func line(atInstruction instruction: Int) -> Int? {
        switch format {
        case .locationTable: locationTableLine(atInstruction: instruction)
        case .lineTable310: lineTable310Line(atOffset: 2 * instruction)
        case .lineNumberTable: lineNumberTableLine(atOffset: 2 * instruction)
        }
    }

    /// 3.8 and 3.9: the line grows by each increment whose byte offset has
    /// been reached; the table has no way to say "no line".
    private func lineNumberTableLine(atOffset offset: Int) -> Int? {
        guard offset >= 0, bytes.count % 2 == 0 else { return nil }
        var line = firstLine, address = 0
        for pair in stride(from: 0, to: bytes.count, by: 2) {
            address += Int(bytes[pair])
            if address > offset { break }
            line += Int(Int8(bitPattern: bytes[pair + 1]))
        }
        return line
    }

    /// 3.10: each pair is a range of bytes and the line it starts (the line
    /// so far plus the delta), or no line for a delta of -128.
    private func lineTable310Line(atOffset offset: Int) -> Int? {
        guard offset >= 0, bytes.count % 2 == 0 else { return nil }
        var line = firstLine, end = 0
        for pair in stride(from: 0, to: bytes.count, by: 2) {
            let start = end
            end += Int(bytes[pair])
            let delta = Int8(bitPattern: bytes[pair + 1])
            if delta != -128 { line += Int(delta) }
            if offset >= start && offset < end { return delta == -128 ? nil : line }
        }
        return nil
    }

    private func locationTableLine(atInstruction instruction: Int) -> Int? {
        var reader = Reader(bytes: bytes)
        var line = firstLine
        var unit = 0
        while let head = reader.next() {
            guard head & 0x80 != 0 else { return nil }   // lost sync: a damaged table
            let code = Int(head >> 3) & 0x0F
            let length = Int(head & 0x07) + 1
            var hasLine = true
            switch code {
            case 15:
                hasLine = false
            case 14:   // long form: line delta, end-line delta, columns
                guard let delta = reader.signedVarint(), reader.skipVarints(3) else { return nil }
                line += delta
            case 13:   // no column information
                guard let delta = reader.signedVarint() else { return nil }
                line += delta
            case 10...12:   // one-line form: delta 0 to 2, then two column bytes
                line += code - 10
                guard reader.skip(2) else { return nil }
            default:   // short form: same line, one column byte
                guard reader.skip(1) else { return nil }
            }
            if instruction < unit + length { return hasLine ? line : nil }
            unit += length
        }
        return nil
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
