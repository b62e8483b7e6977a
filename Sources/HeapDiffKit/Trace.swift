/// The heap attributed to one distinct call stack (a TRACE record).
public struct Trace: Equatable, Sendable {
    public var liveBytes: UInt64
    public var liveCount: UInt64
    /// Everything allocated from this stack since recording began, freed or not.
    public var allocBytes: UInt64
    public var allocCount: UInt64
    /// Return addresses, innermost first; frame 0 called the allocator.
    public var frames: [UInt64]
    /// The stack was deeper than the recorder's depth limit.
    public var truncated: Bool

    public init(liveBytes: UInt64, liveCount: UInt64, allocBytes: UInt64 = 0, allocCount: UInt64 = 0,
                frames: [UInt64], truncated: Bool = false) {
        self.liveBytes = liveBytes
        self.liveCount = liveCount
        self.allocBytes = allocBytes
        self.allocCount = allocCount
        self.frames = frames
        self.truncated = truncated
    }
}
