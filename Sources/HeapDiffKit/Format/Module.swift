/// An ELF object loaded in the traced process (a MODULE record).
public struct Module: Equatable, Sendable {
    /// Position in this snapshot's module list.
    public var index: UInt32
    /// The path as the loader knows it; the vDSO has its kernel name instead.
    public var path: String
    /// GNU build-id, empty when the object has none.
    public var buildID: [UInt8]
    /// Runtime address minus file address (`dlpi_addr`).
    public var loadBias: UInt64
    /// Executable address ranges at run time.
    public var ranges: [Range<UInt64>]

    public init(index: UInt32, path: String, buildID: [UInt8] = [], loadBias: UInt64 = 0, ranges: [Range<UInt64>] = []) {
        self.index = index
        self.path = path
        self.buildID = buildID
        self.loadBias = loadBias
        self.ranges = ranges
    }

    /// A path as /proc/PID/exe gives it once the file was replaced or
    /// removed while the process ran (an upgraded service's executable):
    /// without the kernel's " (deleted)", the path the file was loaded from.
    public static func pathAsLoaded(_ recorded: String) -> String {
        let suffix = " (deleted)"
        return recorded.hasSuffix(suffix) ? String(recorded.dropLast(suffix.count)) : recorded
    }

    /// The build-id as lowercase hex, as `readelf -n` and `file` print it.
    public var buildIDHex: String {
        buildID.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 0x10 ? "0" + digits : digits
        }.joined()
    }

    /// The address a symbolizer looks up in the ELF file for a runtime address.
    /// Wraps rather than traps when a hostile file's bias exceeds the address.
    public func fileRelative(_ address: UInt64) -> UInt64 {
        address &- loadBias
    }
}
