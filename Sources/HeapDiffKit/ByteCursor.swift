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

    /// `count` consecutive u64s from the current position, in one pass.
    mutating func readU64s(_ count: Int) throws -> [UInt64] {
        guard count >= 0, count <= remaining / 8 else {
            throw DecodingProblem(message: "needs \(count) values of 8 bytes at offset \(position), only \(remaining) bytes remain")
        }
        let start = window.lowerBound + position
        position += count * 8
        return bytes.withUnsafeBytes { raw in
            [UInt64](unsafeUninitializedCapacity: count) { values, initialized in
                let source = UnsafeRawBufferPointer(rebasing: raw[start..<(start + 8 * count)])
                #if _endian(little)
                UnsafeMutableRawBufferPointer(values).copyMemory(from: source)
                #else
                for index in 0..<count {
                    values[index] = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))
                }
                #endif
                initialized = count
            }
        }
    }

    /// `count` consecutive u64s from the current position, copied into
    /// `arena`: a trace's frames, without an array of their own.
    mutating func readU64s(_ count: Int, into arena: inout FrameArena) throws -> TraceFrames {
        guard count >= 0, count <= remaining / 8 else {
            throw DecodingProblem(message: "needs \(count) values of 8 bytes at offset \(position), only \(remaining) bytes remain")
        }
        guard count > 0 else { return [] }
        let start = window.lowerBound + position
        position += count * 8
        return bytes.withUnsafeBytes { raw in arena.append(count, from: raw.baseAddress! + start) }
    }

    /// A u32 (`width` 4) or a u64 (`width` 8): the only widths in the format.
    @inline(__always)
    private func unsigned(at offset: Int, width: Int) throws -> UInt64 {
        try requireBytes(width, at: offset)
        let start = window.lowerBound + offset
        return bytes.withUnsafeBytes { raw in
            width == 8
                ? UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self))
                : UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
        }
    }

    /// Inlined into every read (a snapshot has a few reads per stack); the
    /// message is made out of line, only for a file that is damaged.
    @inline(__always)
    private func requireBytes(_ length: Int, at offset: Int) throws {
        // Written as subtractions so huge lengths from the file cannot overflow.
        guard length >= 0, offset >= 0, offset <= count, length <= count - offset else {
            throw outOfRange(length, at: offset)
        }
    }

    @inline(never)
    private func outOfRange(_ length: Int, at offset: Int) -> DecodingProblem {
        DecodingProblem(message: "needs \(length) bytes at offset \(offset), only \(max(0, count - max(0, offset))) remain")
    }
}
