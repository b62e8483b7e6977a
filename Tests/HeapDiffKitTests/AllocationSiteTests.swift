import Testing
@testable import HeapDiffKit

/// Which frame a trace is charged to: built-in plumbing rules, the user's
/// own globs, `--no-skip`, and grouping by module, on `AttributionFixture`.
@Suite struct AllocationSiteTests {
    typealias Row = AttributionFixture.Row
    let fixture = AttributionFixture()

    @Test func siteIsTheFirstFrameOutsidePlumbing() {
        // operator new (libstdc++) and the inlined std::vector code (system
        // header) are skipped; an inlined helper of the program's is not.
        #expect(fixture.rows(StatisticsOptions()) == [
            Row("/src/cache.cpp:42", 1000, 10), Row("/src/cache.cpp:50", 500, 5), Row("/src/util.h:7", 300, 3),
            Row("operator new(unsigned long) (libstdc++.so.6)", 50, 1),
        ])
        let top = AttributionFixture.snapshot.statistics(StatisticsOptions(), symbolizer: fixture.symbolizer)
        #expect(top.first?.site == AttributionFixture.cacheAdd42)
        #expect(top.first?.traceback == [AttributionFixture.operatorNew, AttributionFixture.vectorGrowth,
                                         AttributionFixture.cacheAdd42, AttributionFixture.main10])
        #expect(top[2].site.inlined)
    }

    @Test func userGlobsAddPlumbing() {
        let skipCache = AllocationSiteRule.standard.adding(functions: [Glob("Cache::*")], files: [Glob("util.h")])
        #expect(fixture.rows(StatisticsOptions(rule: skipCache)) == [
            Row("/src/main.cpp:10", 1500, 15), Row("/src/main.cpp:12", 300, 3),
            Row("operator new(unsigned long) (libstdc++.so.6)", 50, 1),
        ])
        // The whole program is plumbing: every trace falls back to frame 0.
        let skipApp = AllocationSiteRule.standard.adding(modules: [Glob("app")])
        #expect(fixture.rows(StatisticsOptions(rule: skipApp)) == [
            Row("operator new(unsigned long) (libstdc++.so.6)", 1850, 19),
        ])
    }

    @Test func noSkipChargesFrameZeroUnlessTheUserSaysOtherwise() {
        #expect(fixture.rows(StatisticsOptions(rule: .innermostFrame)) == [
            Row("operator new(unsigned long) (libstdc++.so.6)", 1850, 19),
        ])
        // Without the built-in rules, the inlined std::vector frame is the site.
        let onlyMine = AllocationSiteRule.innermostFrame.adding(modules: [Glob("libstdc++*")])
        #expect(fixture.rows(StatisticsOptions(rule: onlyMine)) == [
            Row("/usr/include/c++/12/bits/vector.tcc:123", 1000, 10), Row("/src/cache.cpp:50", 500, 5),
            Row("/src/util.h:7", 300, 3), Row("operator new(unsigned long) (libstdc++.so.6)", 50, 1),
        ])
    }

    /// Python code compiled from a string (a dataclass's `__init__`) is passed
    /// over while the program's own code calls it, and is the site when
    /// nothing else is (`python -c`), ahead of the standard library.
    @Test func generatedPythonCodeIsTheSiteOnlyWithoutARealCaller() {
        func python(_ file: String, _ line: Int) -> Frame {
            Frame(module: file, offset: 0, function: "f", file: file, line: line, isPython: true)
        }
        let eval = Frame(module: "/usr/bin/python3.11", offset: 0x1000, function: "_PyEval_EvalFrameDefault")
        let stdlib = python("/usr/lib/python3.11/json/encoder.py", 200)
        let rule = AllocationSiteRule.standard
        #expect(rule.siteIndex(of: [eval, python("<string>", 3), python("/srv/app.py", 12)]) == 2)
        #expect(rule.siteIndex(of: [eval, stdlib, python("<attrs generated init app.C>", 4), python("/srv/app.py", 9)]) == 3)
        #expect(rule.siteIndex(of: [eval, stdlib, python("<string>", 1)]) == 2)
        #expect(AllocationSiteRule.innermostFrame.siteIndex(of: [python("<string>", 3), python("/srv/app.py", 12)]) == 0)
        #expect(!rule.isGenerated(Frame(module: "<string>", offset: 0, file: "<string>")))   // only Python frames
    }

    @Test func groupByModuleOfTheSite() {
        #expect(fixture.rows(StatisticsOptions(keyType: .module)) == [
            Row("/srv/app", 1800, 18), Row("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", 50, 1),
        ])
    }

    @Test func tracebackKeepsEveryFrame() {
        let statistics = AttributionFixture.snapshot.statistics(StatisticsOptions(keyType: .traceback),
                                                                symbolizer: fixture.symbolizer)
        #expect(statistics.first?.key == .traceback([
            .function(name: "operator new(unsigned long)", module: AttributionFixture.libstdcxx.path),
            .line(file: "/usr/include/c++/12/bits/vector.tcc", line: 123),
            .line(file: "/src/cache.cpp", line: 42), .line(file: "/src/main.cpp", line: 10),
        ]))
        #expect(statistics.first?.site == AttributionFixture.cacheAdd42)
    }

    @Test func mangledNamesAreMatchedDemangled() {
        // As under --raw-symbols: the frame keeps the mangled name.
        let frame = Frame(module: "/srv/app", offset: 1,
                          function: "_ZNSt6vectorIiSaIiEE17_M_realloc_insertIJRKiEEEvN9__gnu_cxx17__normal_iteratorIPiS1_EEDpOT_",
                          file: "/src/cache.cpp", line: 3)
        #expect(AllocationSiteRule.standard.isPlumbing(frame))
        #expect(!AllocationSiteRule.innermostFrame.isPlumbing(frame))
        let swiftInit = Frame(module: "/srv/app", offset: 1, function: "$s4main4NodeC5valueACSi_tcfC")
        #expect(AllocationSiteRule.standard.isPlumbing(swiftInit))
        #expect(!AllocationSiteRule.standard.isPlumbing(Frame(module: "/srv/app", offset: 1, function: "Cache::add(int)",
                                                                file: "/src/cache.cpp", line: 42)))
    }
}
