import Foundation
@testable import HeapDiffKit
import Testing

/// `heapdiff export`: folded stacks, and pprof profiles read back by an
/// independent decoder (Python's gzip and a hand-written protobuf walker).
@Suite struct ExportTests {
    typealias F = AttributionFixture

    @Test func foldedStacksListEveryStackOutermostFirst() {
        let fixture = F()
        let lines = FoldedStacks.lines(of: F.snapshot, symbolizer: fixture.symbolizer)
        #expect(lines == [
            "main;Cache::add(int);operator new(unsigned long) 500",
            "main;Cache::add(int);void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>(int const&);"
                + "operator new(unsigned long) 1000",
            "main;helper;operator new(unsigned long) 300",
            "operator new(unsigned long) 50",
        ])
    }

    @Test func foldedStacksMergeEqualNamesAndNameUnsymbolizedFramesByOffset() {
        let fixture = F()
        // Another return address in Cache::add (line 51): the same names as line 50's stack.
        fixture.symbolizer.remember([Frame(module: F.app.path, offset: 0x1250, function: "Cache::add(int)",
                                           file: "/src/cache.cpp", line: 51)], offset: 0x1250, in: F.app)
        fixture.symbolizer.remember([Frame(module: F.app.path, offset: 0x1500)], offset: 0x1500, in: F.app)
        let snapshot = F.snapshot([
            F.trace(500, 5, [F.new, F.inCacheAdd50, F.inMain10]),
            F.trace(20, 1, [F.new, 0x5555_0000_1250, F.inMain10]),
            F.trace(7, 1, [F.new, 0x5555_0000_1500]),
            F.trace(0, 0, [F.new, F.inHelper]),
        ])
        #expect(FoldedStacks.lines(of: snapshot, symbolizer: fixture.symbolizer) == [
            "app+0x1500;operator new(unsigned long) 7",
            "main;Cache::add(int);operator new(unsigned long) 520",
        ])
    }

    @Test func foldedGrowthKeepsOnlyStacksThatGrew() {
        let fixture = F()
        let old = F.snapshot([
            F.trace(400, 4, [F.new, F.inCacheAdd50, F.inMain10]),  // grew by 100
            F.trace(300, 3, [F.new, F.inHelper]),                  // unchanged
            F.trace(90, 1, [F.new]),                               // shrank
            F.trace(5, 1, [F.new, F.inMain10]),                    // gone
        ])
        let lines = FoldedStacks.lines(of: F.snapshot, base: old, symbolizer: fixture.symbolizer)
        #expect(lines == [
            "main;Cache::add(int);operator new(unsigned long) 100",
            "main;Cache::add(int);void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>(int const&);"
                + "operator new(unsigned long) 1000",
        ])
    }

    @Test func foldedNamesNeverSplitAFrame() {
        let frame = Frame(module: "/srv/app", offset: 0x10, function: "a;b\nc")
        #expect(FoldedStacks.name(of: frame) == "a:b c")
    }

    // MARK: - pprof

    static let app = Module(index: 0, path: "/srv/app", buildID: [0xde, 0xad, 0xbe, 0xef, 0x01],
                            loadBias: F.app.loadBias, ranges: F.app.ranges)

    /// The fixture's frames, in a module with a build-id.
    static func symbolizer() -> Symbolizer {
        let symbolizer = Symbolizer()
        symbolizer.remember([F.operatorNew], offset: 0x2000, in: F.libstdcxx)
        symbolizer.remember([F.vectorGrowth, F.cacheAdd42], offset: 0x1100, in: app)
        symbolizer.remember([F.cacheAdd50], offset: 0x1200, in: app)
        symbolizer.remember([F.main10], offset: 0x1300, in: app)
        return symbolizer
    }

    static func snapshot(_ traces: [Trace]) -> Snapshot {
        var process = ProcessRecord()
        process.wallTimeNs = 1_700_000_000_000_000_000
        return Snapshot(path: "fixture", process: process, modules: [app, F.libstdcxx], traces: traces)
    }

    @Test func pprofProfileDecodesFieldByField() throws {
        let snapshot = Self.snapshot([
            Trace(liveBytes: 1000, liveCount: 10, allocBytes: 4000, allocCount: 40,
                  frames: [F.new, F.inCacheAdd42, F.inMain10]),
            Trace(liveBytes: 500, liveCount: 5, allocBytes: 600, allocCount: 6, frames: [F.new, F.inCacheAdd50, F.inMain10]),
        ])
        let profile = try Decoded(PprofExport.gzippedProfile(of: snapshot, symbolizer: Self.symbolizer()))

        #expect(profile.strings.first == "")
        #expect(try profile.messages(1).map { try [profile.string($0, 1), profile.string($0, 2)] } == [
            ["alloc_objects", "count"], ["alloc_space", "bytes"], ["inuse_objects", "count"], ["inuse_space", "bytes"],
        ])
        #expect(try profile.string(profile.root, 14) == "inuse_space")
        #expect(profile.root.ints(9) == [1_700_000_000_000_000_000])

        // Mappings: the executable first, with its file name and hex build-id.
        let mappings = profile.messages(3)
        #expect(mappings.count == 2)
        #expect(mappings[0].ints(1) == [1])
        #expect(try profile.string(mappings[0], 5) == "/srv/app")
        #expect(try profile.string(mappings[0], 6) == "deadbeef01")
        #expect(mappings[0].ints(2) == [0x1000])
        #expect(mappings[0].ints(7) == [1])  // has_functions
        #expect(try profile.string(mappings[1], 5) == F.libstdcxx.path)

        // Samples: the leaf location first, values in sample-type order.
        let samples = profile.messages(2)
        #expect(samples.map { $0.ints(2) } == [[40, 4000, 10, 1000], [6, 600, 5, 500]])
        let leafToRoot = try samples[0].ints(1).map { try profile.location($0) }
        #expect(leafToRoot.map { $0.ints(3) } == [[0x2000], [0x1100], [0x1300]])
        #expect(samples[1].ints(1)[0] == samples[0].ints(1)[0])  // operator new: one location

        // The inlined location: inlined function first, its caller last.
        let inlined = leafToRoot[1]
        #expect(inlined.ints(2) == mappings[0].ints(1))
        let lines = inlined.messages(4)
        #expect(lines.map { $0.ints(2) } == [[123], [42]])
        let functions = try lines.map { try profile.function($0.ints(1)[0]) }
        #expect(try functions.map { try profile.string($0, 2) } == [F.vectorGrowth.function, "Cache::add(int)"])
        #expect(try functions.map { try profile.string($0, 4) } == ["/usr/include/c++/12/bits/vector.tcc", "/src/cache.cpp"])
        let leaf = try profile.function(leafToRoot[0].messages(4)[0].ints(1)[0])
        #expect(try profile.string(leaf, 2) == "operator new(unsigned long)")
    }

    @Test func pprofGrowthHoldsNewMinusOldAndMayBeNegative() throws {
        let new = Self.snapshot([
            Trace(liveBytes: 1000, liveCount: 10, allocBytes: 4000, allocCount: 40,
                  frames: [F.new, F.inCacheAdd42, F.inMain10]),
            Trace(liveBytes: 500, liveCount: 5, allocBytes: 600, allocCount: 6, frames: [F.new, F.inCacheAdd50, F.inMain10]),
        ])
        let old = Self.snapshot([
            Trace(liveBytes: 800, liveCount: 8, allocBytes: 3000, allocCount: 30,
                  frames: [F.new, F.inCacheAdd42, F.inMain10]),
            Trace(liveBytes: 500, liveCount: 5, allocBytes: 600, allocCount: 6, frames: [F.new, F.inCacheAdd50, F.inMain10]),
            Trace(liveBytes: 70, liveCount: 7, allocBytes: 70, allocCount: 7, frames: [F.new, F.inMain10]),
        ])
        let profile = try Decoded(PprofExport.gzippedProfile(of: new, base: old, symbolizer: Self.symbolizer()))
        let samples = profile.messages(2)
        // The unchanged stack is left out; the one only in OLD is negative.
        #expect(samples.map { $0.ints(2) } == [[10, 1000, 2, 200], [-7, -70, -7, -70]])
        #expect(try samples[1].ints(1).map { try profile.location($0).ints(3) } == [[0x2000], [0x1300]])
    }

    /// A profile as decoded by `walker` below: every message a
    /// dictionary from field number to the list of its values.
    struct Decoded {
        struct Message {
            var fields: [String: [Any]]
            init(json: [String: Any]) { fields = json.compactMapValues { $0 as? [Any] } }
            func ints(_ field: Int) -> [Int] { (fields[String(field)] ?? []).compactMap { ($0 as? NSNumber)?.intValue } }
            func messages(_ field: Int) -> [Message] {
                (fields[String(field)] ?? []).compactMap { ($0 as? [String: Any]).map(Message.init(json:)) }
            }
        }

        struct Missing: Error { var what: String }

        var root: Message
        var strings: [String]

        init(_ gzipped: [UInt8]) throws {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("heapdiff-pprof-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("profile.pb.gz")
            try Data(gzipped).write(to: file)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", Self.walker, file.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0,
                  let json = try JSONSerialization.jsonObject(with: output) as? [String: Any] else {
                throw Missing(what: "a decodable profile")
            }
            root = Message(json: json)
            strings = (root.fields["6"] ?? []).compactMap { $0 as? String }
        }

        func messages(_ field: Int) -> [Message] { root.messages(field) }

        /// The string-table entry that `field` of `message` indexes.
        func string(_ message: Message, _ field: Int) throws -> String {
            let index = message.ints(field).first ?? 0
            guard strings.indices.contains(index) else { throw Missing(what: "string \(index)") }
            return strings[index]
        }

        func location(_ id: Int) throws -> Message {
            guard let found = messages(4).first(where: { $0.ints(1) == [id] }) else { throw Missing(what: "location \(id)") }
            return found
        }

        func function(_ id: Int) throws -> Message {
            guard let found = messages(5).first(where: { $0.ints(1) == [id] }) else { throw Missing(what: "function \(id)") }
            return found
        }

        /// gunzips and walks the protobuf wire format knowing only which
        /// length-delimited fields of profile.proto are messages, strings or
        /// packed varints; prints JSON keyed by field number.
        static let walker = """
            import gzip, json, sys
            KINDS = {
                'Profile': {1: 'ValueType', 2: 'Sample', 3: 'Mapping', 4: 'Location', 5: 'Function',
                            6: 'str', 13: 'packed'},
                'ValueType': {}, 'Sample': {1: 'packed', 2: 'packed'}, 'Mapping': {},
                'Location': {4: 'Line'}, 'Line': {}, 'Function': {},
            }
            def varint(b, i):
                result = shift = 0
                while True:
                    byte = b[i]; i += 1
                    result |= (byte & 0x7f) << shift; shift += 7
                    if byte < 0x80:
                        return result, i
            def signed(v):
                return v - (1 << 64) if v >= 1 << 63 else v
            def message(b, kind):
                out, i = {}, 0
                while i < len(b):
                    key, i = varint(b, i)
                    field, wire = key >> 3, key & 7
                    values = out.setdefault(str(field), [])
                    if wire == 0:
                        v, i = varint(b, i)
                        values.append(signed(v))
                    elif wire == 2:
                        n, i = varint(b, i)
                        raw, i = b[i:i + n], i + n
                        sub = KINDS[kind].get(field)
                        if sub == 'str':
                            values.append(raw.decode('utf-8'))
                        elif sub == 'packed':
                            j = 0
                            while j < len(raw):
                                v, j = varint(raw, j)
                                values.append(signed(v))
                        elif sub:
                            values.append(message(raw, sub))
                        else:
                            sys.exit('unexpected length-delimited field %d in %s' % (field, kind))
                    else:
                        sys.exit('unexpected wire type %d in %s' % (wire, kind))
                return out
            print(json.dumps(message(gzip.open(sys.argv[1]).read(), 'Profile')))
            """
    }
}
