import Testing
@testable import HeapDiffKit

/// SeriesGrouping against per-snapshot statistics on synthetic series: module
/// layouts that change and come back, Python code sets that grow, stacks that
/// name a code object only a later snapshot has, shuffled trace order, ties.
@Suite struct SeriesGroupingTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Code object `id` listed with the first `entries` entries of its line
    /// table, as a snapshot lists it: only as far as its frames need. Each
    /// entry (3.11's form without columns) covers one instruction and moves
    /// the line by `id % 3 + 1`.
    static func code(_ id: UInt32, entries: Int) -> PythonCode {
        let entry: [UInt8] = [0x80 | 13 << 3, UInt8((id % 3 + 1) << 1)]
        return PythonCode(id: id, file: "/srv/app\(id % 3).py", qualifiedName: "code\(id)",
                          lineTable: PythonLineTable(bytes: Array(repeating: entry, count: entries).flatMap { $0 },
                                                     firstLine: Int(id) * 10))
    }

    /// COMPLETE: every code object a snapshot's stacks name is listed in it,
    /// as the recorder writes them; else some are named before any snapshot
    /// lists them (a record lost).
    static func series(seed: UInt64, python: Bool, complete: Bool = false) -> [Snapshot] {
        var rng = SplitMix(state: seed)
        let moduleA = [Module(index: 0, path: "/opt/app-a", loadBias: 0x1000, ranges: [0x1000..<0x9000]),
                       Module(index: 1, path: "/usr/lib/libc.so.6", loadBias: 0x20000, ranges: [0x20000..<0x28000])]
        let moduleB = [Module(index: 0, path: "/opt/app-b", loadBias: 0x1000, ranges: [0x1000..<0x9000])]
        // A pool of stacks: native addresses (some in no module), Python frames.
        let pool: [[UInt64]] = (0..<40).map { _ in
            (0..<Int.random(in: 0...6, using: &rng)).map { _ -> UInt64 in
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<4: return UInt64.random(in: 0x1000..<0x1040, using: &rng) * 4
                case 4..<6: return UInt64.random(in: 0x20000..<0x20010, using: &rng)
                case 6: return UInt64.random(in: 0x90000..<0x90004, using: &rng)
                default:
                    return python ? PythonFrameAddress.make(codeID: UInt32.random(in: 1...12, using: &rng),
                                                            instruction: UInt32.random(in: 0...7, using: &rng))
                        : UInt64.random(in: 0x1000..<0x1010, using: &rng) * 4
                }
            }
        }
        return (0..<14).map { index in
            let modules = (6...8).contains(index) ? moduleB : moduleA
            var traces = pool.shuffled(using: &rng).prefix(Int.random(in: 20...40, using: &rng)).map { frames in
                Trace(liveBytes: UInt64.random(in: 0...4, using: &rng) * 100,
                      liveCount: UInt64.random(in: 0...3, using: &rng), frames: frames)
            }
            if index % 3 == 0 { traces.shuffle(using: &rng) }
            var snapshot = Snapshot(path: "s\(index)", process: ProcessRecord(seq: UInt32(index + 1)),
                                    modules: modules, traces: traces)
            if python {
                // As the recorder lists them: the code objects its stacks name,
                // each table as far as they need (every one seen so far, every
                // fourth snapshot, like an exit snapshot); ids grow, and up to
                // 12 appear in stacks, so some are named before they are listed.
                let known = UInt32(3 + index / 2)
                var needed: [UInt32: Int] = [:]
                for frame in traces.flatMap(\.frames) where PythonFrameAddress.isPython(frame) {
                    let id = PythonFrameAddress.codeID(frame)
                    needed[id] = max(needed[id] ?? 0, Int(PythonFrameAddress.instruction(frame)) + 1)
                }
                let listed = (1...(complete ? 12 : known)).filter { (index % 4 == 0 && $0 <= known) || needed[$0] != nil }
                snapshot.python = PythonInfo(hexVersion: 0x030b_07f0, codes: Dictionary(uniqueKeysWithValues: listed.map {
                    ($0, code($0, entries: index % 4 == 0 ? 8 : needed[$0] ?? 0))
                }))
            }
            return snapshot
        }
    }

    static let optionSets: [StatisticsOptions] = {
        func filter(_ argument: String, _ inclusive: Bool, all: Bool = false) -> TraceFilter {
            TraceFilter(argument: argument, inclusive: inclusive, allFrames: all)!
        }
        return [
            StatisticsOptions(),
            StatisticsOptions(keyType: .function),
            StatisticsOptions(keyType: .file),
            StatisticsOptions(keyType: .module),
            StatisticsOptions(keyType: .traceback),
            StatisticsOptions(cumulative: true),
            StatisticsOptions(keyType: .function, cumulative: true),
            StatisticsOptions(filters: [filter("module:*app-a*", true)]),
            StatisticsOptions(filters: [filter("function:code1*", false)]),
            StatisticsOptions(filters: [filter("file:*app1.py", true, all: true)]),
            StatisticsOptions(rule: .innermostFrame),
            StatisticsOptions(rule: AllocationSiteRule.standard.adding(modules: [Glob("*app-b*")]), minimumSize: 200),
        ]
    }()

    @Test(arguments: [(false, false), (true, false), (true, true)], [1, 2, 3] as [UInt64])
    func rowsAreTheStatisticsOfEachSnapshot(kind: (python: Bool, complete: Bool), seed: UInt64) {
        let series = Self.series(seed: seed, python: kind.python, complete: kind.complete)
        for options in Self.optionSets {
            let symbolizer = Symbolizer()
            var grouping = SeriesGrouping(options: options, symbolizer: symbolizer)
            for snapshot in series {
                let rows = grouping.group(snapshot)
                let mine = rows.map { row in
                    Statistic(key: grouping.keys[Int(row.key)], site: grouping.site(of: row.entry),
                              size: row.size, count: row.count, traceback: grouping.traceback(of: row.entry))
                }
                let expected = snapshot.statistics(options, symbolizer: symbolizer)
                let order = { (s: Statistic) in String(reflecting: s.key) }
                #expect(mine.sorted { order($0) < order($1) } == expected.sorted { order($0) < order($1) },
                        "\(options) \(snapshot.path)")
            }
        }
    }

    /// Snapshots of one Python process that list different code objects, or
    /// one code object's line table to different lengths, share one layout:
    /// their stacks are keyed once (the series has two module layouts).
    @Test(arguments: [1, 2, 3] as [UInt64])
    func pythonListingsShareTheLayoutOfTheirModules(seed: UInt64) {
        let series = Self.series(seed: seed, python: true, complete: true)
        var grouping = SeriesGrouping(options: StatisticsOptions(), symbolizer: Symbolizer())
        for snapshot in series { _ = grouping.group(snapshot) }
        #expect(grouping.layoutCount == 2)
    }

    @Test(arguments: [(false, false), (true, false), (true, true)], [4, 5] as [UInt64])
    func trendIsTheSameFromAnyOrder(kind: (python: Bool, complete: Bool), seed: UInt64) throws {
        let series = Self.series(seed: seed, python: kind.python, complete: kind.complete)
        for options in Self.optionSets {
            let forward = try TrendAnalysis.analyze(series, options: options, axis: .index, symbolizer: Symbolizer())
            let backward = try TrendAnalysis.analyze(series.reversed(), options: options, axis: .index, symbolizer: Symbolizer())
            #expect(forward.sites.map(\.key) == backward.sites.map(\.key))
            #expect(forward.sites.map(\.series.sizes) == backward.sites.map(\.series.sizes))
            #expect(forward.sites.map(\.traceback) == backward.sites.map(\.traceback))
        }
    }
}
