/// Decoding of the PROCESS, MODULE and (version 1) TRACE payloads.
///
/// In version 1 each initializer consumes its whole payload: a length that
/// disagrees with the counts inside it is reported, not silently skipped,
/// because it means the writer and this reader disagree about the layout.
/// From version 2 (`exact: false`) a payload may go on after the fields this
/// reader knows: a later minor appended them.

extension ProcessRecord {
    init(payload cursor: inout ByteCursor, exact: Bool = true) throws {
        typealias Field = FormatLayout.Process
        try cursor.requireFixedPart(Field.fixedSize)
        self.init(
            pid: try cursor.u32(at: Field.pid),
            ppid: try cursor.u32(at: Field.ppid),
            seq: try cursor.u32(at: Field.seq),
            trigger: Trigger(rawValue: try cursor.u32(at: Field.trigger)),
            wallTimeNs: try cursor.u64(at: Field.wallNs),
            monotonicNs: try cursor.u64(at: Field.monoNs),
            startMonotonicNs: try cursor.u64(at: Field.startMonoNs),
            rss: try cursor.u64(at: Field.rss),
            peakRSS: try cursor.u64(at: Field.peakRSS),
            liveBytes: try cursor.u64(at: Field.liveBytes),
            liveCount: try cursor.u64(at: Field.liveCount),
            allocBytes: try cursor.u64(at: Field.allocBytes),
            allocCount: try cursor.u64(at: Field.allocCount),
            freeBytes: try cursor.u64(at: Field.freeBytes),
            freeCount: try cursor.u64(at: Field.freeCount),
            peakLiveBytes: try cursor.u64(at: Field.peakLiveBytes),
            depth: try cursor.u32(at: Field.depth),
            flags: try cursor.u32(at: Field.flags)
        )
        try cursor.seek(to: Field.fixedSize)
        program = Module.pathAsLoaded(try cursor.readString(named: "program path"))
        label = try cursor.readString(named: "label")
        commandLine = Self.splitCommandLine(try cursor.readString(named: "command line"))
        if exact { try cursor.requireEnd(after: "the command line") }
        // Version 2 minor 1's tail; a field an older writer left out is 0.
        let tail = cursor.position
        if cursor.remaining >= Field.tailSampleRate + 8 {
            sampleRate = try cursor.u64(at: tail + Field.tailSampleRate)
        }
        if cursor.remaining >= Field.tailLiveSamples + 8 {
            liveSamples = try cursor.u64(at: tail + Field.tailLiveSamples)
        }
    }

    /// Arguments are NUL-separated as in /proc/PID/cmdline, which also ends
    /// with a NUL; that last one does not start an extra empty argument.
    static func splitCommandLine(_ joined: String) -> [String] {
        var arguments = joined.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        if arguments.last == "" { arguments.removeLast() }
        return arguments
    }
}

extension Module {
    init(payload cursor: inout ByteCursor, exact: Bool = true) throws {
        typealias Field = FormatLayout.Module
        try cursor.requireFixedPart(Field.fixedSize)
        let rangeCount = try cursor.u32(at: Field.rangeCount)
        guard rangeCount <= FormatLayout.Limits.maxRanges else {
            throw DecodingProblem(message: "\(rangeCount) ranges, more than the \(FormatLayout.Limits.maxRanges) allowed")
        }
        let index = try cursor.u32(at: Field.index)
        let loadBias = try cursor.u64(at: Field.loadBias)
        try cursor.seek(to: Field.fixedSize)
        let path = Module.pathAsLoaded(try cursor.readString(named: "path"))

        let buildIDLength = try cursor.readU32()
        guard buildIDLength <= FormatLayout.Limits.maxBuildID else {
            throw DecodingProblem(message: "build-id of \(buildIDLength) bytes, more than the \(FormatLayout.Limits.maxBuildID) allowed")
        }
        let buildID = Array(try cursor.readBytes(Int(buildIDLength)))

        let rangesLength = Int(rangeCount) * Field.rangeSize
        guard exact ? cursor.remaining == rangesLength : cursor.remaining >= rangesLength else {
            throw DecodingProblem(message: "\(cursor.remaining) bytes left for \(rangeCount) ranges of \(Field.rangeSize) bytes")
        }
        var ranges: [Range<UInt64>] = []
        for _ in 0..<rangeCount {
            let start = try cursor.readU64()
            let end = try cursor.readU64()
            guard start <= end else {
                throw DecodingProblem(message: "range 0x\(String(start, radix: 16))-0x\(String(end, radix: 16)) ends before it starts")
            }
            ranges.append(start..<end)
        }
        self.init(index: index, path: path, buildID: buildID, loadBias: loadBias, ranges: ranges)
    }
}

extension Trace {
    /// The frames go into `arena`, which the reader sized for all of a
    /// snapshot's traces.
    init(payload cursor: inout ByteCursor, frames arena: inout FrameArena) throws {
        typealias Field = FormatLayout.Trace
        try cursor.requireFixedPart(Field.fixedSize)
        let frameCount = try cursor.u32(at: Field.frameCount)
        guard frameCount <= Field.maxFrames else {
            throw DecodingProblem(message: "frame count \(frameCount) exceeds \(Field.maxFrames)")
        }
        try cursor.seek(to: Field.fixedSize)
        guard cursor.remaining == Int(frameCount) * Field.frameSize else {
            throw DecodingProblem(message: "\(cursor.remaining) bytes left for \(frameCount) frames of \(Field.frameSize) bytes")
        }
        let frames = try cursor.readU64s(Int(frameCount), into: &arena)
        self.init(
            liveBytes: try cursor.u64(at: Field.liveBytes),
            liveCount: try cursor.u64(at: Field.liveCount),
            allocBytes: try cursor.u64(at: Field.allocBytes),
            allocCount: try cursor.u64(at: Field.allocCount),
            frames: frames,
            truncated: try cursor.u32(at: Field.flags) & Field.flagTruncated != 0
        )
    }
}

extension ByteCursor {
    /// A u32 length then that many bytes, UTF-8 in practice but not
    /// guaranteed: invalid sequences become U+FFFD rather than an error.
    mutating func readString(named name: String) throws -> String {
        let length = try readU32()
        guard length <= FormatLayout.Limits.maxString else {
            throw DecodingProblem(message: "\(name) of \(length) bytes, more than the \(FormatLayout.Limits.maxString) allowed")
        }
        guard Int(length) <= remaining else {
            throw DecodingProblem(message: "\(name) of \(length) bytes runs past the record's end")
        }
        return String(decoding: try readBytes(Int(length)), as: UTF8.self)
    }

    /// Every payload starts with fields at fixed offsets; later versions may
    /// only append, so a shorter payload is wrong in any version.
    func requireFixedPart(_ size: Int) throws {
        guard count >= size else {
            throw DecodingProblem(message: "\(count) bytes, shorter than the fixed \(size)")
        }
    }

    func requireEnd(after what: String) throws {
        guard isAtEnd else {
            throw DecodingProblem(message: "\(remaining) unexpected bytes after \(what)")
        }
    }
}
