import SwiftProtobuf

/// A snapshot as a pprof profile (github.com/google/pprof, profile.proto),
/// gzipped as pprof and its viewers expect.
///
/// Four sample types, from each trace's counters: `alloc_objects/count`,
/// `alloc_space/bytes` (everything allocated since recording began: over
/// the whole run from a snapshot that has every stack, the exit snapshot of
/// format 2 or any of format 1; otherwise from the stacks still holding
/// memory, which the profile's comment says),
/// `inuse_objects/count` and `inuse_space/bytes` (live), the default being
/// `inuse_space`. One location per distinct return address, at its
/// module-relative (file) address, so that runs with different address-space
/// layouts give the same locations; its lines are the frames it symbolizes
/// to, innermost (inlined) first and the caller last, as pprof expects.
/// Each module is a mapping with its file name and hex build-id; its
/// memory range is the module's executable range in the same file-relative
/// terms. Unsymbolized addresses have no lines, for pprof to symbolize.
public enum PprofExport {
    /// The gzipped profile of `snapshot`; or, given `base`, of the growth
    /// from `base` to `snapshot`: every value is new minus old per stack of
    /// locations (negative when it shrank), and stacks whose values are all
    /// zero are left out.
    public static func gzippedProfile(of snapshot: Snapshot, base: Snapshot? = nil,
                                      symbolizer: Symbolizer) throws -> [UInt8] {
        let bytes: [UInt8] = try profile(of: snapshot, base: base, symbolizer: symbolizer).serializedBytes()
        return try Gzip.compress(bytes)
    }

    /// The profile message itself, before serializing.
    static func profile(of snapshot: Snapshot, base: Snapshot?, symbolizer: Symbolizer) -> Perftools_Profiles_Profile {
        var builder = PprofBuilder(symbolizer: symbolizer)
        builder.add(snapshot, sign: 1)
        if let base { builder.add(base, sign: -1) }
        var profile = builder.finish()
        profile.timeNanos = Int64(clamping: snapshot.process.wallTimeNs)
        if let base {
            profile.comment = [builder.string("heapdiff: growth from \(base.path) to \(snapshot.path)")]
            profile.durationNanos = Int64(clamping: snapshot.process.wallTimeNs) - Int64(clamping: base.process.wallTimeNs)
        } else {
            profile.comment = [builder.string("heapdiff: \(snapshot.path)")]
        }
        for sampled in [base, snapshot].compactMap({ $0 }) where sampled.isSampled {
            profile.comment.append(builder.string(
                "heapdiff: \(sampled.path) was sampled every \(SizeFormatting.size(Int64(sampled.process.sampleRate))): "
                + "its values are unbiased estimates"))
        }
        if !snapshot.hasEveryStack || base.map({ !$0.hasEveryStack }) == true {
            profile.comment.append(builder.string(
                "heapdiff: alloc_* count only the stacks that held memory at the snapshot; the exit snapshot has every stack"))
        }
        profile.stringTable = builder.strings
        return profile
    }

    /// The sample types, in the order of each sample's values.
    static let sampleTypes = [("alloc_objects", "count"), ("alloc_space", "bytes"),
                              ("inuse_objects", "count"), ("inuse_space", "bytes")]
}

/// Interns strings, mappings, functions and locations, and sums samples.
private struct PprofBuilder {
    private struct MappingKey: Hashable {
        var path: String
        var buildID: [UInt8]
    }

    private struct LocationKey: Hashable {
        var mappingID: UInt64
        var address: UInt64
    }

    private struct FunctionKey: Hashable {
        var name: String
        var file: String
    }

    let symbolizer: Symbolizer
    private(set) var strings: [String] = [""]
    private var stringIndex: [String: Int64] = ["": 0]
    private var mappings: [Perftools_Profiles_Mapping] = []
    private var mappingIDs: [MappingKey: UInt64] = [:]
    private var symbolizedMappings: Set<UInt64> = []
    private var locations: [Perftools_Profiles_Location] = []
    private var locationIDs: [LocationKey: UInt64] = [:]
    private struct PythonLocationKey: Hashable {
        var file: String
        var function: String
        var line: Int
    }
    private var pythonLocationIDs: [PythonLocationKey: UInt64] = [:]
    private var functions: [Perftools_Profiles_Function] = []
    private var functionIDs: [FunctionKey: UInt64] = [:]
    private var stacks: [[UInt64]] = []
    private var values: [[UInt64]: [Int64]] = [:]

    init(symbolizer: Symbolizer) {
        self.symbolizer = symbolizer
    }

    mutating func string(_ text: String) -> Int64 {
        if let index = stringIndex[text] { return index }
        let index = Int64(strings.count)
        strings.append(text)
        stringIndex[text] = index
        return index
    }

    mutating func add(_ snapshot: Snapshot, sign: Int64) {
        let moduleMappings = snapshot.modules.map { mappingID(for: $0) }
        let map = AddressMap(modules: snapshot.modules)
        let python = PythonFrameDecoder(python: snapshot.python)
        var addressLocations: [UInt64: UInt64] = [:]
        for trace in snapshot.traces {
            let stack = trace.frames.map { address -> UInt64 in
                if let known = addressLocations[address] { return known }
                let id = python.pythonFrame(at: address).map { pythonLocationID(for: $0) }
                    ?? locationID(for: address, map: map, modules: snapshot.modules, mappings: moduleMappings)
                addressLocations[address] = id
                return id
            }
            let traceValues = [trace.allocCount, trace.allocBytes, trace.liveCount, trace.liveBytes]
                .map { Int64(clamping: $0) * sign }
            if let sum = values[stack] {
                values[stack] = zip(sum, traceValues).map { saturatingSum($0, $1) }
            } else {
                stacks.append(stack)
                values[stack] = traceValues
            }
        }
    }

    mutating func finish() -> Perftools_Profiles_Profile {
        var profile = Perftools_Profiles_Profile()
        profile.sampleType = PprofExport.sampleTypes.map { type, unit in
            var valueType = Perftools_Profiles_ValueType()
            valueType.type = string(type)
            valueType.unit = string(unit)
            return valueType
        }
        profile.defaultSampleType = string("inuse_space")
        profile.sample = stacks.compactMap { stack in
            guard let sampleValues = values[stack], sampleValues.contains(where: { $0 != 0 }) else { return nil }
            var sample = Perftools_Profiles_Sample()
            sample.locationID = stack
            sample.value = sampleValues
            return sample
        }
        profile.mapping = mappings.map { mapping in
            var mapping = mapping
            let symbolized = symbolizedMappings.contains(mapping.id)
            mapping.hasFunctions_p = symbolized
            mapping.hasFilenames_p = symbolized
            mapping.hasLineNumbers_p = symbolized
            mapping.hasInlineFrames_p = symbolized
            return mapping
        }
        profile.location = locations
        profile.function = functions
        return profile
    }

    private mutating func mappingID(for module: Module) -> UInt64 {
        let key = MappingKey(path: module.path, buildID: module.buildID)
        if let known = mappingIDs[key] { return known }
        var mapping = Perftools_Profiles_Mapping()
        mapping.id = UInt64(mappings.count + 1)
        if let start = module.ranges.map(\.lowerBound).min(), let limit = module.ranges.map(\.upperBound).max() {
            mapping.memoryStart = module.fileRelative(start)
            mapping.memoryLimit = module.fileRelative(limit)
        }
        mapping.filename = string(module.path)
        mapping.buildID = string(module.buildIDHex)
        mappings.append(mapping)
        mappingIDs[key] = mapping.id
        return mapping.id
    }

    private mutating func locationID(for address: UInt64, map: AddressMap, modules: [Module],
                                     mappings moduleMappings: [UInt64]) -> UInt64 {
        var key = LocationKey(mappingID: 0, address: address)
        if let index = map.moduleIndex(containing: address), modules.indices.contains(index) {
            key = LocationKey(mappingID: moduleMappings[index], address: modules[index].fileRelative(address))
        }
        if let known = locationIDs[key] { return known }
        var location = Perftools_Profiles_Location()
        location.id = UInt64(locations.count + 1)
        location.mappingID = key.mappingID
        location.address = key.address
        // Innermost (inlined) first, the function containing them last: pprof's order too.
        for frame in symbolizer.symbolize(address: address, map: map, modules: modules) {
            guard let function = frame.function, !function.isEmpty else { continue }
            var line = Perftools_Profiles_Line()
            line.functionID = functionID(name: function, file: frame.file ?? "")
            line.line = Int64(frame.line ?? 0)
            location.line.append(line)
        }
        if !location.line.isEmpty && key.mappingID != 0 { symbolizedMappings.insert(key.mappingID) }
        locations.append(location)
        locationIDs[key] = location.id
        return location.id
    }

    /// A Python frame: no mapping, one line, keyed by what it shows (code
    /// ids are only meaningful within one process).
    private mutating func pythonLocationID(for frame: Frame) -> UInt64 {
        let key = PythonLocationKey(file: frame.file ?? "", function: frame.function ?? "", line: frame.line ?? 0)
        if let known = pythonLocationIDs[key] { return known }
        var location = Perftools_Profiles_Location()
        location.id = UInt64(locations.count + 1)
        var line = Perftools_Profiles_Line()
        line.functionID = functionID(name: key.function, file: key.file)
        line.line = Int64(key.line)
        location.line = [line]
        locations.append(location)
        pythonLocationIDs[key] = location.id
        return location.id
    }

    private mutating func functionID(name: String, file: String) -> UInt64 {
        let key = FunctionKey(name: name, file: file)
        if let known = functionIDs[key] { return known }
        var function = Perftools_Profiles_Function()
        function.id = UInt64(functions.count + 1)
        function.name = string(name)
        function.systemName = function.name
        function.filename = string(file)
        functions.append(function)
        functionIDs[key] = function.id
        return function.id
    }

    private func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }
}
