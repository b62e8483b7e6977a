/// The line of an instruction, read from a CPython 3.11+ code object's
/// location table (`co_linetable`, described in CPython's
/// Objects/locations.md): a sequence of entries, each covering 1 to 8
/// two-byte code units and moving the current line by a delta.
///
/// The recorder copies the raw table; the line is only computed here, once
/// per distinct frame, so the allocation hook never parses it.
public struct PythonLineTable: Sendable, Equatable {
    public let bytes: [UInt8]
    public let firstLine: Int

    public init(bytes: [UInt8], firstLine: Int) {
        self.bytes = bytes
        self.firstLine = firstLine
    }

    /// The line of the instruction at `instruction` (an index in code units),
    /// nil when the table gives it no line or does not reach it.
    public func line(atInstruction instruction: Int) -> Int? {
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
