@testable import HeapDiffKit

/// A hand-built C++ program's snapshot whose frames are known without any
/// file to read: `symbolizer` has been told what each address expands to.
///
///     T1 1000 B / 10: operator new < [std::vector::_M_realloc_insert (inlined) < Cache::add cache.cpp:42] < main main.cpp:10
///     T2  500 B /  5: operator new < Cache::add cache.cpp:50 < main main.cpp:10
///     T3  300 B /  3: operator new < [helper util.h:7 (inlined) < main main.cpp:12]
///     T4   50 B /  1: operator new
///
/// Brackets are one return address expanding to inlined frames.
struct AttributionFixture {
    static let app = Module(index: 0, path: "/srv/app", loadBias: 0x5555_0000_0000,
                            ranges: [0x5555_0000_1000..<0x5555_0001_0000])
    static let libstdcxx = Module(index: 1, path: "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                                  loadBias: 0x7f00_0000_0000, ranges: [0x7f00_0000_1000..<0x7f00_0010_0000])

    static let operatorNew = Frame(module: libstdcxx.path, offset: 0x2000, function: "operator new(unsigned long)")
    static let vectorGrowth = Frame(
        module: app.path, offset: 0x1100,
        function: "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>(int const&)",
        file: "/usr/include/c++/12/bits/vector.tcc", line: 123, inlined: true)
    static let cacheAdd42 = Frame(module: app.path, offset: 0x1100, function: "Cache::add(int)",
                                  file: "/src/cache.cpp", line: 42)
    static let cacheAdd50 = Frame(module: app.path, offset: 0x1200, function: "Cache::add(int)",
                                  file: "/src/cache.cpp", line: 50)
    static let main10 = Frame(module: app.path, offset: 0x1300, function: "main", file: "/src/main.cpp", line: 10)
    static let helper = Frame(module: app.path, offset: 0x1400, function: "helper", file: "/src/util.h", line: 7,
                              inlined: true)
    static let main12 = Frame(module: app.path, offset: 0x1400, function: "main", file: "/src/main.cpp", line: 12)

    static let new = 0x7f00_0000_2000 as UInt64
    static let inCacheAdd42 = 0x5555_0000_1100 as UInt64
    static let inCacheAdd50 = 0x5555_0000_1200 as UInt64
    static let inMain10 = 0x5555_0000_1300 as UInt64
    static let inHelper = 0x5555_0000_1400 as UInt64

    let symbolizer = Symbolizer()

    init() {
        symbolizer.remember([Self.operatorNew], offset: 0x2000, in: Self.libstdcxx)
        symbolizer.remember([Self.vectorGrowth, Self.cacheAdd42], offset: 0x1100, in: Self.app)
        symbolizer.remember([Self.cacheAdd50], offset: 0x1200, in: Self.app)
        symbolizer.remember([Self.main10], offset: 0x1300, in: Self.app)
        symbolizer.remember([Self.helper, Self.main12], offset: 0x1400, in: Self.app)
    }

    static func snapshot(_ traces: [Trace]) -> Snapshot {
        var process = ProcessRecord()
        process.liveBytes = traces.reduce(0) { $0 + $1.liveBytes }
        process.liveCount = traces.reduce(0) { $0 + $1.liveCount }
        return Snapshot(path: "fixture", process: process, modules: [app, libstdcxx], traces: traces)
    }

    static func trace(_ bytes: UInt64, _ count: UInt64, _ frames: [UInt64]) -> Trace {
        Trace(liveBytes: bytes, liveCount: count, frames: frames)
    }

    static let snapshot = snapshot([
        trace(1000, 10, [new, inCacheAdd42, inMain10]),
        trace(500, 5, [new, inCacheAdd50, inMain10]),
        trace(300, 3, [new, inHelper]),
        trace(50, 1, [new]),
    ])

    /// `statistics` of the fixture's snapshot as (key label, size, count).
    func rows(_ options: StatisticsOptions, of snapshot: Snapshot = Self.snapshot) -> [Row] {
        snapshot.statistics(options, symbolizer: symbolizer).map { Row(label: $0.key.label(), size: $0.size, count: $0.count) }
    }

    struct Row: Equatable, CustomStringConvertible {
        var label: String
        var size: Int64
        var count: Int64

        init(label: String, size: Int64, count: Int64) {
            self.label = label
            self.size = size
            self.count = count
        }

        init(_ label: String, _ size: Int64, _ count: Int64) {
            self.init(label: label, size: size, count: count)
        }

        var description: String { "\(label) \(size)/\(count)" }
    }
}
