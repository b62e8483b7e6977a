import Testing
@testable import HeapDiffKit

/// `--cumulative`, `--include`/`--exclude` (site or all frames), the totals
/// they imply, and `--min-size`/`--min-size-diff`, on `AttributionFixture`.
@Suite struct StatisticsOptionsTests {
    typealias Row = AttributionFixture.Row
    typealias Fixture = AttributionFixture
    let fixture = AttributionFixture()

    static let operatorNew = "operator new(unsigned long) (libstdc++.so.6)"

    @Test func cumulativeCountsEveryKeyFromTheSiteOut() {
        #expect(fixture.rows(StatisticsOptions(keyType: .function, cumulative: true)) == [
            Row("main (app)", 1800, 18), Row("Cache::add(int) (app)", 1500, 15), Row("helper (app)", 300, 3),
            Row(Self.operatorNew, 50, 1),
        ])
        #expect(fixture.rows(StatisticsOptions(keyType: .lineno, cumulative: true)) == [
            Row("/src/main.cpp:10", 1500, 15), Row("/src/cache.cpp:42", 1000, 10), Row("/src/cache.cpp:50", 500, 5),
            Row("/src/main.cpp:12", 300, 3), Row("/src/util.h:7", 300, 3), Row(Self.operatorNew, 50, 1),
        ])
    }

    @Test func cumulativeCountsARepeatedKeyOncePerTraceAndSkipsPlumbing() {
        // Recursion: Cache::add calls itself twice, through inlined std::vector code, then main.
        let snapshot = Fixture.snapshot([Fixture.trace(70, 7, [Fixture.new, Fixture.inCacheAdd50, Fixture.inCacheAdd50,
                                                               Fixture.inCacheAdd42, Fixture.inMain10])])
        #expect(fixture.rows(StatisticsOptions(keyType: .function, cumulative: true), of: snapshot) == [
            Row("Cache::add(int) (app)", 70, 7), Row("main (app)", 70, 7),
        ])
        #expect(fixture.rows(StatisticsOptions(keyType: .file, cumulative: true), of: snapshot) == [
            Row("/src/cache.cpp", 70, 7), Row("/src/main.cpp", 70, 7),
        ])
        // Without the plumbing rules every frame counts, as in tracemalloc.
        #expect(fixture.rows(StatisticsOptions(keyType: .file, cumulative: true, rule: .innermostFrame), of: snapshot) == [
            Row("/src/cache.cpp", 70, 7), Row("/src/main.cpp", 70, 7), Row("/usr/include/c++/12/bits/vector.tcc", 70, 7),
            Row("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", 70, 7),
        ])
    }

    @Test func filtersLookAtTheSiteByDefault() {
        func rows(_ filters: [TraceFilter]) -> [Row] { fixture.rows(StatisticsOptions(filters: filters)) }
        let cacheOnly = [TraceFilter(inclusive: true, kind: .function, pattern: Glob("Cache::*"))]
        #expect(rows(cacheOnly) == [Row("/src/cache.cpp:42", 1000, 10), Row("/src/cache.cpp:50", 500, 5)])
        // main is never a site.
        #expect(rows([TraceFilter(inclusive: true, kind: .file, pattern: Glob("main.cpp"))]) == [])
        #expect(rows([TraceFilter(inclusive: false, kind: .file, pattern: Glob("cache.cpp"))]) == [
            Row("/src/util.h:7", 300, 3), Row(Self.operatorNew, 50, 1),
        ])
        // Inclusive filters are alternatives; an exclusive one still drops what it matches.
        let either = [TraceFilter(inclusive: true, kind: .file, pattern: Glob("*.h")),
                      TraceFilter(inclusive: true, kind: .module, pattern: Glob("libstdc++*"))]
        #expect(rows(either) == [Row("/src/util.h:7", 300, 3), Row(Self.operatorNew, 50, 1)])
        let appButNotHelper = [TraceFilter(inclusive: true, kind: .module, pattern: Glob("/srv/*")),
                               TraceFilter(inclusive: false, kind: .function, pattern: Glob("helper"))]
        #expect(rows(appButNotHelper) == [Row("/src/cache.cpp:42", 1000, 10), Row("/src/cache.cpp:50", 500, 5)])
    }

    @Test func filtersOnAllFramesLookAtTheWholeStack() {
        func rows(_ filter: TraceFilter) -> [Row] { fixture.rows(StatisticsOptions(filters: [filter])) }
        #expect(rows(TraceFilter(inclusive: true, kind: .file, pattern: Glob("main.cpp"), allFrames: true)) == [
            Row("/src/cache.cpp:42", 1000, 10), Row("/src/cache.cpp:50", 500, 5), Row("/src/util.h:7", 300, 3),
        ])
        // Every stack passes through libstdc++'s operator new.
        #expect(rows(TraceFilter(inclusive: false, kind: .module, pattern: Glob("libstdc++*"), allFrames: true)) == [])
        #expect(rows(TraceFilter(inclusive: false, kind: .module, pattern: Glob("libstdc++*"))).count == 3)
        // The inlined std::vector frame is a frame too.
        #expect(rows(TraceFilter(inclusive: true, kind: .function, pattern: Glob("std::vector::*"), allFrames: true)) == [
            Row("/src/cache.cpp:42", 1000, 10),
        ])
    }

    @Test func totalsCountTheFilteredTracesOnce() {
        let options = StatisticsOptions(keyType: .function, cumulative: true,
                                        filters: [TraceFilter(inclusive: true, kind: .function, pattern: Glob("Cache::*"))])
        #expect(Fixture.snapshot.total(options, symbolizer: fixture.symbolizer) == HeapTotal(size: 1500, count: 15))
        #expect(Fixture.snapshot.total(StatisticsOptions(), symbolizer: fixture.symbolizer) == HeapTotal(size: 1850, count: 19))
        let old = Fixture.snapshot([Fixture.trace(400, 4, [Fixture.new, Fixture.inCacheAdd50, Fixture.inMain10]),
                                    Fixture.trace(999, 9, [Fixture.new, Fixture.inHelper])])
        #expect(Fixture.snapshot.total(comparedTo: old, options, symbolizer: fixture.symbolizer)
                == HeapTotal(size: 1500, count: 15, sizeDiff: 1100, countDiff: 11))
    }

    @Test func minimumSizeHidesSmallRows() {
        #expect(fixture.rows(StatisticsOptions(minimumSize: 500)) == [
            Row("/src/cache.cpp:42", 1000, 10), Row("/src/cache.cpp:50", 500, 5),
        ])
    }

    @Test func minimumSizeDiffHidesSmallChangesEitherWay() {
        let old = Fixture.snapshot([
            Fixture.trace(900, 9, [Fixture.new, Fixture.inCacheAdd42, Fixture.inMain10]),
            Fixture.trace(500, 5, [Fixture.new, Fixture.inCacheAdd50, Fixture.inMain10]),
            Fixture.trace(250, 2, [Fixture.new]),
        ])
        let diffs = Fixture.snapshot.compare(to: old, StatisticsOptions(minimumSizeDiff: 100), symbolizer: fixture.symbolizer)
        #expect(diffs.map(\.key.label) == ["/src/util.h:7", Self.operatorNew, "/src/cache.cpp:42"])
        #expect(diffs.map(\.sizeDiff) == [300, -200, 100])
        let all = Fixture.snapshot.compare(to: old, StatisticsOptions(), symbolizer: fixture.symbolizer)
        #expect(all.map(\.sizeDiff) == [300, -200, 100, 0])
    }
}

private extension GroupKey {
    var label: String { label() }
}
