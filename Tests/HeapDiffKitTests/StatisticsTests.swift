import Testing
@testable import HeapDiffKit

/// Grouping and comparison on hand-computed snapshots. Without modules a
/// frame has no symbols, so every key falls back to the frame's address.
@Suite struct StatisticsTests {
    static func snapshot(_ traces: [Trace], modules: [Module] = []) -> Snapshot {
        Snapshot(path: "synthetic", process: ProcessRecord(), modules: modules, traces: traces)
    }

    static let newSnapshot = snapshot([
        Trace(liveBytes: 1_000, liveCount: 10, frames: [0x1000, 0x2000]),
        Trace(liveBytes: 500, liveCount: 5, frames: [0x1000, 0x3000]),
        Trace(liveBytes: 2_000, liveCount: 1, frames: [0x4000]),
        Trace(liveBytes: 0, liveCount: 0, allocBytes: 100, allocCount: 1, frames: [0x5000]),  // all freed
    ])

    static let oldSnapshot = snapshot([
        Trace(liveBytes: 200, liveCount: 2, frames: [0x1000, 0x2000]),
        Trace(liveBytes: 2_000, liveCount: 1, frames: [0x4000]),
        Trace(liveBytes: 300, liveCount: 3, frames: [0x6000]),
    ])

    @Test func statisticsByLine() {
        let statistics = Self.newSnapshot.statistics(by: .lineno, symbolizer: Symbolizer())
        #expect(statistics == [
            Statistic(key: .address(module: "", offset: 0x4000), site: Frame(module: "", offset: 0x4000),
                      size: 2_000, count: 1, traceback: [Frame(module: "", offset: 0x4000)]),
            Statistic(key: .address(module: "", offset: 0x1000), site: Frame(module: "", offset: 0x1000),
                      size: 1_500, count: 15,
                      traceback: [Frame(module: "", offset: 0x1000), Frame(module: "", offset: 0x2000)]),
        ])
    }

    @Test func statisticsByTracebackKeepStacksApart() {
        let statistics = Self.newSnapshot.statistics(by: .traceback, symbolizer: Symbolizer())
        #expect(statistics.map(\.size) == [2_000, 1_000, 500])
        #expect(statistics.map(\.count) == [1, 10, 5])
        #expect(statistics[2].key == .traceback([.address(module: "", offset: 0x1000), .address(module: "", offset: 0x3000)]))
        #expect(statistics[2].traceback.map(\.offset) == [0x1000, 0x3000])
    }

    @Test func compareToAnOlderSnapshot() {
        let diffs = Self.newSnapshot.compare(to: Self.oldSnapshot, by: .lineno, symbolizer: Symbolizer())
        #expect(diffs.map(\.key) == [
            .address(module: "", offset: 0x1000), .address(module: "", offset: 0x6000), .address(module: "", offset: 0x4000),
        ])
        #expect(diffs.map(\.size) == [1_500, 0, 2_000])
        #expect(diffs.map(\.sizeDiff) == [1_300, -300, 0])
        #expect(diffs.map(\.count) == [15, 0, 1])
        #expect(diffs.map(\.countDiff) == [13, -3, 0])
        // A group that is gone keeps the traceback it had in the old snapshot.
        #expect(diffs[1].traceback == [Frame(module: "", offset: 0x6000)])
        #expect(diffs[1].site == Frame(module: "", offset: 0x6000))
    }

    @Test func tiesAreOrderedByCountThenKey() {
        let snapshot = Self.snapshot([
            Trace(liveBytes: 100, liveCount: 1, frames: [0xb]),
            Trace(liveBytes: 100, liveCount: 1, frames: [0xa]),
            Trace(liveBytes: 100, liveCount: 4, frames: [0xc]),
        ])
        let offsets = snapshot.statistics(by: .lineno, symbolizer: Symbolizer()).map(\.site.offset)
        #expect(offsets == [0xc, 0xa, 0xb])

        let grown = Self.snapshot([
            Trace(liveBytes: 150, liveCount: 1, frames: [0xb]),
            Trace(liveBytes: 300, liveCount: 1, frames: [0xa]),
            Trace(liveBytes: 0, liveCount: 0, frames: [0xc]),
        ])
        // |+50| = |+200 - 150|…: a shrink of 100 (c) outranks a growth of 50 (b); a tie in
        // |size_diff| would then be broken by the larger size.
        let diffs = grown.compare(to: snapshot, by: .lineno, symbolizer: Symbolizer())
        #expect(diffs.map(\.site.offset) == [0xa, 0xc, 0xb])
        #expect(diffs.map(\.sizeDiff) == [200, -100, 50])
    }

    @Test func allocationSiteSkipsSystemLibraries() {
        let libc = Module(index: 0, path: "/usr/lib/x86_64-linux-gnu/libfake-c.so.6", loadBias: 0x7f00_0000_0000,
                          ranges: [0x7f00_0000_1000..<0x7f00_0000_9000])
        let recorder = Module(index: 1, path: "/home/me/heapdiff/.build/debug/libheapdiff.so", loadBias: 0x7e00_0000_0000,
                              ranges: [0x7e00_0000_1000..<0x7e00_0000_9000])
        let program = Module(index: 2, path: "/nonexistent/bin/server", loadBias: 0x5555_0000_0000,
                             ranges: [0x5555_0000_1000..<0x5555_0000_9000])
        let modules = [libc, recorder, program]
        let snapshot = Self.snapshot([
            // strdup in libc called from the program: charged to the program.
            Trace(liveBytes: 64, liveCount: 1, frames: [0x7e00_0000_1111, 0x7f00_0000_2222, 0x5555_0000_3333]),
            // Only system frames: charged to frame 0.
            Trace(liveBytes: 32, liveCount: 1, frames: [0x7f00_0000_4444, 0x7f00_0000_5555]),
        ], modules: modules)
        let symbolizer = Symbolizer()
        let statistics = snapshot.statistics(by: .lineno, symbolizer: symbolizer)
        #expect(statistics.map(\.key) == [
            .address(module: "/nonexistent/bin/server", offset: 0x3333),
            .address(module: "/usr/lib/x86_64-linux-gnu/libfake-c.so.6", offset: 0x4444),
        ])
        #expect(statistics[0].site.moduleOffset == "server+0x3333")
        #expect(statistics[0].traceback.map(\.moduleOffset) == ["libheapdiff.so+0x1111", "libfake-c.so.6+0x2222", "server+0x3333"])
        #expect(symbolizer.warnings.contains(
            "/nonexistent/bin/server: cannot open (No such file or directory); frames shown as offsets"))
    }

    @Test func siteRuleOnItsOwn() {
        let rule = AllocationSiteRule.standard
        func frames(_ paths: [String]) -> [Frame] { paths.map { Frame(module: $0, offset: 0x10) } }
        #expect(rule.siteIndex(of: []) == nil)
        #expect(rule.siteIndex(of: frames(["/lib/libc.so.6", "/opt/swift/usr/lib/libswiftCore.so", "/srv/app"])) == 2)
        #expect(rule.siteIndex(of: frames(["/lib64/ld.so", "/usr/local/lib/libx.so"])) == 0)
        #expect(rule.siteIndex(of: frames(["", "/srv/app"])) == 1)  // code outside every module (JIT) has nothing to show
        #expect(AllocationSiteRule.innermostFrame.siteIndex(of: frames(["/lib/libc.so.6", "/srv/app"])) == 0)
    }

    /// Two runs of one program load it at different addresses; the same code
    /// must still be the same group.
    @Test func groupsMatchAcrossAddressSpaceLayouts() {
        func run(bias: UInt64, live: UInt64) -> Snapshot {
            let module = Module(index: 0, path: "/nonexistent/app", buildID: [0xab], loadBias: bias,
                                ranges: [(bias + 0x1000)..<(bias + 0x2000)])
            return Self.snapshot([Trace(liveBytes: live, liveCount: 1, frames: [bias + 0x1234])], modules: [module])
        }
        let diffs = run(bias: 0x5600_0000_0000, live: 300).compare(to: run(bias: 0x5555_0000_0000, live: 100),
                                                                  by: .lineno, symbolizer: Symbolizer())
        #expect(diffs.count == 1)
        #expect(diffs.first?.key == .address(module: "/nonexistent/app", offset: 0x1234))
        #expect(diffs.first?.sizeDiff == 200)
    }

    @Test func kernelModulesStaySilent() {
        let vdso = Module(index: 0, path: "linux-vdso.so.1", loadBias: 0x7fff_0000_0000,
                          ranges: [0x7fff_0000_0000..<0x7fff_0000_2000])
        let symbolizer = Symbolizer()
        let frames = symbolizer.symbolize(address: 0x7fff_0000_0abc, modules: [vdso])
        #expect(frames == [Frame(module: "linux-vdso.so.1", offset: 0xabc)])
        #expect(symbolizer.warnings.isEmpty)
    }

    @Test func keysFallBackToWhatIsKnown() {
        let full = Frame(module: "/srv/app", offset: 0x10, function: "handle", file: "/src/app.c", line: 42)
        let noLine = Frame(module: "/srv/app", offset: 0x10, function: "handle")
        let bare = Frame(module: "/srv/app", offset: 0x10)
        #expect(GroupKey.forFrame(full, by: .lineno) == .line(file: "/src/app.c", line: 42))
        #expect(GroupKey.forFrame(noLine, by: .lineno) == .function(name: "handle", module: "/srv/app"))
        #expect(GroupKey.forFrame(bare, by: .lineno) == .address(module: "/srv/app", offset: 0x10))
        #expect(GroupKey.forFrame(full, by: .function) == .function(name: "handle", module: "/srv/app"))
        #expect(GroupKey.forFrame(bare, by: .function) == .address(module: "/srv/app", offset: 0x10))
        #expect(GroupKey.forFrame(full, by: .file) == .file(path: "/src/app.c"))
        #expect(GroupKey.forFrame(bare, by: .file) == .module(path: "/srv/app"))
        #expect(GroupKey.forFrame(Frame(module: "", offset: 0x99), by: .file) == .address(module: "", offset: 0x99))
    }

    @Test func hugeCountsSaturateInsteadOfTrapping() {
        let snapshot = Self.snapshot([
            Trace(liveBytes: .max, liveCount: .max, frames: [0x1]),
            Trace(liveBytes: .max, liveCount: .max, frames: [0x1, 0x2]),
        ])
        let statistics = snapshot.statistics(by: .lineno, symbolizer: Symbolizer())
        #expect(statistics.map(\.size) == [.max])
        let diffs = Self.snapshot([]).compare(to: snapshot, by: .lineno, symbolizer: Symbolizer())
        #expect(diffs.map(\.sizeDiff) == [-Int64.max])
    }
}
