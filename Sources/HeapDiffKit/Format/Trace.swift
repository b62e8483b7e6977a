#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The heap attributed to one distinct call stack (a STACKS entry of a
/// format-2 file, a TRACE record of a format-1 file).
public struct Trace: Equatable, Sendable {
    public var liveBytes: UInt64
    public var liveCount: UInt64
    /// Everything allocated from this stack since recording began, freed or not.
    public var allocBytes: UInt64
    public var allocCount: UInt64
    /// In a sampled snapshot, the sample points of the stack's live blocks
    /// recorded by sampling (those under the rate), and of all it allocated
    /// so since start; 0 in an exact one. See `ProcessRecord.sampleRate`.
    public var liveSamples: UInt64 = 0
    public var allocSamples: UInt64 = 0
    /// Return addresses, innermost first; frame 0 called the allocator.
    public var frames: TraceFrames {
        get { storedFrames }
        set {
            storedFrames = newValue
            stack = nil   // no longer that node's frames
        }
    }
    /// The stack was deeper than the recorder's depth limit.
    public var truncated: Bool
    /// The stack's node in its snapshot's tree, when read from a format-2
    /// file: the same frames as `frames`, for analyses that work per node.
    public internal(set) var stack: StackNode?
    private var storedFrames: TraceFrames

    public init(liveBytes: UInt64, liveCount: UInt64, allocBytes: UInt64 = 0, allocCount: UInt64 = 0,
                frames: [UInt64], truncated: Bool = false) {
        self.init(liveBytes: liveBytes, liveCount: liveCount, allocBytes: allocBytes, allocCount: allocCount,
                  frames: TraceFrames(frames), truncated: truncated)
    }

    public init(liveBytes: UInt64, liveCount: UInt64, allocBytes: UInt64 = 0, allocCount: UInt64 = 0,
                frames: TraceFrames, truncated: Bool = false) {
        self.liveBytes = liveBytes
        self.liveCount = liveCount
        self.allocBytes = allocBytes
        self.allocCount = allocCount
        self.storedFrames = frames
        self.truncated = truncated
    }

    /// Equal counters and frames; where in which tree the frames were read
    /// does not matter.
    public static func == (lhs: Trace, rhs: Trace) -> Bool {
        lhs.liveBytes == rhs.liveBytes && lhs.liveCount == rhs.liveCount && lhs.allocBytes == rhs.allocBytes
            && lhs.allocCount == rhs.allocCount && lhs.liveSamples == rhs.liveSamples
            && lhs.allocSamples == rhs.allocSamples && lhs.truncated == rhs.truncated && lhs.frames == rhs.frames
    }
}

/// A trace's return addresses: a read-only, zero-based view into storage
/// that the reader shares between all traces of a snapshot, so that reading
/// a snapshot of many thousand stacks makes one allocation for their frames
/// rather than one per stack. Behaves like an `[UInt64]` for reading (index
/// from 0, `count`, `map`, `==`); `Array(frames)` makes a copy of its own.
public struct TraceFrames: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral,
    CustomStringConvertible {
    /// Frames of one or many traces, written once before any view of it is
    /// handed out, and never changed after.
    final class Storage: @unchecked Sendable {
        let base: UnsafeMutablePointer<UInt64>
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            base = UnsafeMutablePointer<UInt64>.allocate(capacity: Swift.max(capacity, 1))
        }

        deinit { base.deallocate() }

        static let empty = Storage(capacity: 0)
    }

    private let storage: Storage
    private let offset: Int
    public let count: Int

    /// A view of `count` frames at `offset` in `storage`, which holds them already.
    init(storage: Storage, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && count <= storage.capacity - offset, "frames outside their storage")
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    public init(_ frames: [UInt64]) {
        guard !frames.isEmpty else {
            self.init(storage: .empty, offset: 0, count: 0)
            return
        }
        let storage = Storage(capacity: frames.count)
        frames.withUnsafeBufferPointer { storage.base.initialize(from: $0.baseAddress!, count: $0.count) }
        self.init(storage: storage, offset: 0, count: frames.count)
    }

    public init(arrayLiteral frames: UInt64...) {
        self.init(frames)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> UInt64 {
        precondition(position >= 0 && position < count, "frame index out of range")
        return storage.base[offset + position]
    }

    /// The frames as contiguous memory, valid only inside `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt64>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(UnsafeBufferPointer(start: storage.base + offset, count: count)) }
    }

    public static func == (lhs: TraceFrames, rhs: TraceFrames) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.storage === rhs.storage && lhs.offset == rhs.offset { return true }
        return lhs.withUnsafeBufferPointer { left in
            rhs.withUnsafeBufferPointer { right in
                memcmp(left.baseAddress!, right.baseAddress!, left.count * MemoryLayout<UInt64>.stride) == 0
            }
        }
    }

    /// Hashes as an `[UInt64]` of the same frames does.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for frame in self { hasher.combine(frame) }
    }

    public var description: String { Array(self).description }
}

/// Where the reader puts the frames of a snapshot's traces, one after
/// another in storage sized for all of them, each trace getting a view.
struct FrameArena {
    private let storage: TraceFrames.Storage
    private var used = 0

    /// Room for `capacity` frames in all.
    init(capacity: Int) {
        storage = capacity > 0 ? TraceFrames.Storage(capacity: capacity) : .empty
    }

    /// Copies `count` little-endian u64s from `source` (at least `8 * count`
    /// bytes) into the arena; the caller sized the arena for every trace.
    mutating func append(_ count: Int, from source: UnsafeRawPointer) -> TraceFrames {
        precondition(count >= 0 && count <= storage.capacity - used, "frame arena too small")
        let destination = storage.base + used
        #if _endian(little)
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<UInt64>.size)
        #else
        for index in 0..<count {
            destination[index] = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))
        }
        #endif
        let frames = TraceFrames(storage: storage, offset: used, count: count)
        used += count
        return frames
    }

    /// `count` frames written by `fill` into the arena.
    mutating func append(_ count: Int, fill: (UnsafeMutableBufferPointer<UInt64>) -> Void) -> TraceFrames {
        precondition(count >= 0 && count <= storage.capacity - used, "frame arena too small")
        guard count > 0 else { return [] }
        fill(UnsafeMutableBufferPointer(start: storage.base + used, count: count))
        let frames = TraceFrames(storage: storage, offset: used, count: count)
        used += count
        return frames
    }
}
