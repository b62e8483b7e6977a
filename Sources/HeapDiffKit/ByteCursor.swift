/// Why a byte range could not be decoded; the reader adds the file name and
/// the record it was in.
struct DecodingProblem: Error, Equatable {
    var message: String
}

/// Bounds-checked little-endian reads from a window of a byte array.
///
/// Snapshot files are untrusted input (a fuzzer is run on the reader), so
/// every read checks its length against the window first and throws instead
/// of trapping. Offsets are relative to the window's start.
struct ByteCursor {
    private let bytes: [UInt8]
    private let window: Range<Int>
    /// Offset of the next sequential read, relative to the window.
    private(set) var position = 0

    init(_ bytes: [UInt8], window: Range<Int>) {
        self.bytes = bytes
        // Clamp so that a caller's mistake cannot widen the window past the array.
        self.window = window.clamped(to: bytes.indices)
    }

    var count: Int { window.count }
    var remaining: Int { count - position }
    var isAtEnd: Bool { remaining == 0 }

    func u32(at offset: Int) throws -> UInt32 {
        UInt32(truncatingIfNeeded: try unsigned(at: offset, width: 4))
    }

    func u64(at offset: Int) throws -> UInt64 {
        try unsigned(at: offset, width: 8)
    }

    mutating func seek(to offset: Int) throws {
        guard offset >= 0, offset <= count else {
            throw DecodingProblem(message: "offset \(offset) is beyond the \(count) bytes available")
        }
        position = offset
    }

    mutating func readU32() throws -> UInt32 {
        let value = try u32(at: position)
        position += 4
        return value
    }

    mutating func readU64() throws -> UInt64 {
        let value = try u64(at: position)
        position += 8
        return value
    }

    mutating func readBytes(_ length: Int) throws -> ArraySlice<UInt8> {
        try requireBytes(length, at: position)
        let start = window.lowerBound + position
        position += length
        return bytes[start..<(start + length)]
    }

    private func unsigned(at offset: Int, width: Int) throws -> UInt64 {
        try requireBytes(width, at: offset)
        let start = window.lowerBound + offset
        var value: UInt64 = 0
        for index in 0..<width {
            value |= UInt64(bytes[start + index]) << (8 * index)
        }
        return value
    }

    private func requireBytes(_ length: Int, at offset: Int) throws {
        // Written as subtractions so huge lengths from the file cannot overflow.
        guard length >= 0, offset >= 0, offset <= count, length <= count - offset else {
            throw DecodingProblem(
                message: "needs \(length) bytes at offset \(offset), only \(max(0, count - max(0, offset))) remain")
        }
    }
}
