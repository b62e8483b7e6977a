import HeapDiffFormat

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

    /// A LEB128 varint (format 2), decoded by the format header's own
    /// `hd_varint_get`, so writer and reader share one definition.
    mutating func readVarint() throws -> UInt64 {
        guard remaining > 0 else {
            throw DecodingProblem(message: "a variable-length integer is missing at offset \(position)")
        }
        let start = window.lowerBound + position
        var value: UInt64 = 0
        let length = bytes.withUnsafeBufferPointer { buffer in
            hd_varint_get(buffer.baseAddress! + start, remaining, &value)
        }
        guard length > 0 else {
            throw DecodingProblem(message: "a variable-length integer at offset \(position) is malformed or runs past the record's end")
        }
        position += length
        return value
    }

    /// A varint that must fit in an `Int` no larger than `limit`.
    mutating func readVarint(atMost limit: Int, named name: String) throws -> Int {
        let value = try readVarint()
        guard value <= UInt64(limit) else {
            throw DecodingProblem(message: "\(name) \(value) exceeds \(limit)")
        }
        return Int(value)
    }

    /// The rest of the window as a `VarintReader`, for decoding a whole table
    /// without a bounds-checked call per value; the cursor moves past what
    /// `body` read.
    mutating func readVarints<R>(_ body: (inout VarintReader) throws -> R) throws -> R {
        let start = window.lowerBound + position, available = remaining
        let (result, used) = try bytes.withUnsafeBufferPointer { buffer -> (R, Int) in
            var reader = VarintReader(UnsafeBufferPointer(rebasing: buffer[start..<(start + available)]))
            let result = try body(&reader)
            return (result, reader.offset)
        }
        position += used
        return result
    }

    /// A u32 (`width` 4) or a u64 (`width` 8): the only fixed widths in the format.
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

/// Varints from a byte range already known to be inside a record, read
/// without copying: how format 2's tables are decoded (each value still
/// checked against the range's end).
struct VarintReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private(set) var offset = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset == bytes.count }

    @inline(__always)
    mutating func next() throws -> UInt64 {
        // One byte is the common case: counts, deltas, small sizes.
        if offset < bytes.count, bytes[offset] < 0x80 {
            offset += 1
            return UInt64(bytes[offset - 1])
        }
        return try nextLong()
    }

    @inline(never)
    private mutating func nextLong() throws -> UInt64 {
        var value: UInt64 = 0
        let length = offset < bytes.count ? hd_varint_get(bytes.baseAddress! + offset, bytes.count - offset, &value) : 0
        guard length > 0 else {
            throw DecodingProblem(message: "a variable-length integer at offset \(offset) is malformed or runs past the record's end")
        }
        offset += length
        return value
    }

    /// The next `length` bytes.
    mutating func take(_ length: Int) throws -> UnsafeBufferPointer<UInt8> {
        guard length >= 0, length <= bytes.count - offset else {
            throw DecodingProblem(message: "\(length) bytes needed at offset \(offset), only \(bytes.count - offset) remain")
        }
        defer { offset += length }
        return UnsafeBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }
}
