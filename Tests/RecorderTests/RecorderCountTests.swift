import Foundation
import HeapDiffKit
import Testing

/// Exact block and byte counts from native programs run under the recorder.
@Suite struct RecorderCountTests {
    let symbolizer = Symbolizer()

    @Test func oneLineAllocatesAThousandAndFreesFourHundred() throws {
        let dir = try Harness.temporaryDirectory("exact")
        let exe = try Harness.build("exact_counts", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let files = try Harness.snapshotFiles(in: out)
        #expect(files.count == 3)   // before, after, exit
        let before = try Snapshot.load(path: files[0]), after = try Snapshot.load(path: files[1])
        #expect(before.process.label == "before" && before.process.seq == 1 && before.process.trigger == .api)
        #expect(after.process.label == "after" && after.process.seq == 2)
        #expect(after.process.pid == result.pid || after.process.ppid == result.pid)

        let hundred = try #require(try Harness.statistic("hundred", in: "exact_counts.c", of: after, symbolizer: symbolizer))
        #expect(hundred.count == 600)
        #expect(hundred.size == 60_000)
        let zeroed = try #require(try Harness.statistic("calloc", in: "exact_counts.c", of: after, symbolizer: symbolizer))
        #expect(zeroed.count == 10)
        #expect(zeroed.size == 210)

        let growth = after.compare(to: before, by: .lineno, symbolizer: symbolizer)
        let top = try #require(growth.first)
        #expect(top.site.line == (try Harness.line(of: "hundred", in: "exact_counts.c")))
        #expect(top.sizeDiff == 60_000 && top.countDiff == 600)

        // The whole-process counters agree with the per-stack ones.
        #expect(after.process.liveBytes == UInt64(after.traces.reduce(0) { $0 + $1.liveBytes }))
        #expect(after.process.allocCount - before.process.allocCount >= 1010)
        #expect(after.process.freeCount - before.process.freeCount >= 400)
    }

    /// The real allocator runs under the recursion guard: one whose malloc
    /// calls its own memalign (through the recorder's memalign hook) still
    /// has each block recorded once, by the malloc hook.
    @Test func anAllocatorBuiltOnItsOwnEntryPointsIsRecordedOnce() throws {
        let dir = try Harness.temporaryDirectory("nested")
        let exe = try Harness.build("exact_counts", in: dir)
        let shim = dir.appendingPathComponent("malloc_via_memalign.so").path
        let source = Harness.programsDirectory.appendingPathComponent("malloc_via_memalign.c").path
        let built = try Harness.run("/usr/bin/cc", arguments: ["-shared", "-fPIC", "-O1", "-o", shim, source],
                                    preload: false)
        #expect(built.status == 0, "stderr: \(built.stderr)")
        let out = dir.appendingPathComponent("out")
        // The recorder first, the allocator it passes calls on to next.
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path,
                                                        "LD_PRELOAD": "\(Harness.library) \(shim)"], preload: false)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let files = try Harness.snapshotFiles(in: out, program: "exact_counts")
        #expect(files.count == 3)   // before, after, exit
        let before = try Snapshot.load(path: files[0]), after = try Snapshot.load(path: files[1])
        // 1,000 mallocs and 10 callocs between the two, each counted once.
        #expect(after.process.allocCount - before.process.allocCount == 1_010)
        let hundred = try #require(try Harness.statistic("hundred", in: "exact_counts.c", of: after, symbolizer: symbolizer))
        #expect(hundred.count == 600 && hundred.size == 60_000)
    }

    /// An allocator that defines its own operator new and delete (jemalloc,
    /// tcmalloc, mimalloc: bound before libstdc++'s) takes C++'s memory
    /// without calling malloc; the recorder's operators send it through the
    /// hooks. Every shape (plain, array, nothrow, over-aligned; sized and
    /// aligned deletes) counts exactly as with libstdc++'s operators,
    /// recording everything and sampling at 1 byte (every block, moved to a
    /// sampled home, which the deletes must give back whole), and the
    /// program behaves the same (a failed new throws, but with mimalloc,
    /// whose own aborts; a nothrow one is null).
    @Test(arguments: ["libstdc++", "libjemalloc.so.2", "libtcmalloc_minimal.so.4", "libmimalloc.so.2"])
    func operatorNewOfAnAllocatorIsRecorded(_ allocator: String) throws {
        let dir = try Harness.temporaryDirectory("operators")
        defer { try? FileManager.default.removeItem(at: dir) }
        let library = "/usr/lib/x86_64-linux-gnu/\(allocator)"
        let own = allocator != "libstdc++"
        try #require(!own || FileManager.default.fileExists(atPath: library), "\(library): run scripts/setup.sh test")
        let exe = try Harness.build("allocator_operators", in: dir, libraries: own ? [library] : [])
        if own {   // the allocator's operators are the ones bound
            let linked = try Harness.run("/usr/bin/ldd", arguments: [exe], preload: false)
            #expect(String(decoding: linked.stdout, as: UTF8.self).contains(allocator))
        }
        let expected: [(site: String, count: Int64, size: Int64)] = [
            ("array", 100, 100_000), ("node", 50, 50 * 48), ("aligned", 30, 30 * 192), ("nothrow", 25, 25 * 4000)]
        for sample in [nil, "1"] {
            let out = dir.appendingPathComponent("out-\(sample ?? "all")")
            let result = try Harness.run(exe, arguments: allocator.hasPrefix("libmimalloc") ? [] : ["throws"],
                                         environment: ["HEAPDIFF_OUTPUT": out.path].merging(
                sample.map { ["HEAPDIFF_SAMPLE": $0] } ?? [:]) { $1 })
            #expect(result.status == 0 && String(decoding: result.stdout, as: UTF8.self) == "done\n",
                    "\(result.status) \(result.stderr)")
            let files = try Harness.snapshotFiles(in: out)
            try #require(files.count == 1)   // at exit
            let exit = try Snapshot.load(path: files[0])
            for row in expected {
                let statistic = try Harness.statistic(row.site, in: "allocator_operators.cpp", of: exit,
                                                      symbolizer: symbolizer)
                #expect(statistic?.count == row.count && statistic?.size == row.size,
                        "\(allocator) \(sample ?? "all") \(row.site): \(String(describing: statistic))")
            }
        }
    }

    /// jemalloc's own API (mallocx, rallocx, xallocx, dallocx, sdallocx)
    /// takes memory without malloc; where jemalloc is the allocator, the
    /// recorder switches the program's GOT entries for it to its hooks (it
    /// exports none of these names). Each line counts exactly, recording
    /// everything and sampling at 1 byte: blocks kept, freed with and without
    /// a size, grown by rallocx (recorded at the new line), resized in place
    /// by xallocx (the bytes the program printed), malloc'd blocks given back
    /// through the API; the program gets aligned, zeroed memory as asked.
    @Test func jemallocsOwnApiIsRecorded() throws {
        let dir = try Harness.temporaryDirectory("jemalloc-api")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("jemalloc_api", in: dir, libraries: try AttachTests.allocator("libjemalloc.so.2"))
        for sample in [nil, "1"] {
            let out = dir.appendingPathComponent("out-\(sample ?? "all")")
            let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path].merging(
                sample.map { ["HEAPDIFF_SAMPLE": $0] } ?? [:]) { $1 })
            #expect(result.status == 0, "\(result.status) \(result.stderr)")
            let resized = try #require(Int64(String(decoding: result.stdout, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)))
            let files = try Harness.snapshotFiles(in: out)
            try #require(files.count == 1)   // at exit
            let exit = try Snapshot.load(path: files[0])
            let expected: [(site: String, count: Int64, size: Int64)] = [
                ("plain", 100, 100_000), ("aligned", 50, 15_000), ("sized", 50, 3_200), ("first", 0, 0),
                ("grown", 40, 200_000), ("resized", 30, resized), ("gone", 0, 0), ("malloced", 0, 0)]
            for row in expected {
                let statistic = try Harness.statistic(row.site, in: "jemalloc_api.c", of: exit, symbolizer: symbolizer)
                #expect((statistic?.count ?? 0) == row.count && (statistic?.size ?? 0) == row.size,
                        "\(sample ?? "all") \(row.site): \(String(describing: statistic))")
            }
        }
    }

    /// With the live-block table past its first size (~49,000 live blocks)
    /// a free is noted and its block removed a little later
    /// (pointer_table.c). Blocks freed and handed straight back, realloc'd,
    /// short-lived and freed on another thread are each still counted
    /// exactly, at every snapshot.
    @Test func blocksFreedWhileTheTableIsLargeAreCountedExactly() throws {
        let dir = try Harness.temporaryDirectory("noted")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("noted_frees", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_STATS": "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        // The table grew past its first 1,633 KiB: frees were noted.
        let stats = try #require(result.stderr.split(separator: "\n").first { $0.contains("live-block table") })
        let tableKiB = try #require(stats.split(separator: ",").first { $0.contains("live-block table") }?
            .split(separator: " ").compactMap { Int($0) }.first)
        #expect(tableKiB > 1_633, "\(stats)")
        let files = try Harness.snapshotFiles(in: out)
        try #require(files.count == 4)   // before, after, end, exit
        let after = try Snapshot.load(path: files[1]), end = try Snapshot.load(path: files[2])
        #expect(after.process.label == "after" && end.process.label == "end")
        // fill: 120,000 less the 60,000 replaced, 15,000 realloc'd and 15,000 freed by the thread.
        let expected: [(site: String, count: Int64, size: Int64)] = [
            ("fill", 30_000, 30_000 * 40), ("again", 60_000, 60_000 * 40), ("grown", 15_000, 15_000 * 72)]
        for row in expected {
            let statistic = try Harness.statistic(row.site, in: "noted_frees.c", of: after, symbolizer: symbolizer)
            #expect(statistic?.count == row.count && statistic?.size == row.size, "\(row.site): \(String(describing: statistic))")
            let gone = try Harness.statistic(row.site, in: "noted_frees.c", of: end, symbolizer: symbolizer)
            #expect((gone?.count ?? 0) == 0 && (gone?.size ?? 0) == 0, "\(row.site): \(String(describing: gone))")
        }
        let brief = try Harness.statistic("brief", in: "noted_frees.c", of: after, symbolizer: symbolizer)
        #expect((brief?.count ?? 0) == 0, "\(String(describing: brief))")
        for snapshot in [after, end] {
            #expect(snapshot.process.liveBytes == UInt64(snapshot.traces.reduce(0) { $0 + $1.liveBytes }))
        }
    }

    /// HEAPDIFF_STATS's "recorder memory" (at exit, and with each snapshot)
    /// counts every mapping the recorder made by what of it is resident
    /// (mincore), not by what is mapped: with 10 live blocks the tables are
    /// mapped at their first size (~4 MiB) and barely touched; with 200,000
    /// the grown live-block table, mapped at once, is resident whole.
    /// What HEAPDIFF_STATS says at exit: the recorder's memory line's numbers
    /// (resident KiB, mapped KiB, mappings) and the live-block table's KiB.
    static func memoryStats(_ stderr: String) throws -> (memory: [Int], table: Int, tables: Substring) {
        let lines = stderr.split(separator: "\n")
        let numbers = { (line: Substring) in line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) } }
        let memory = try #require(lines.first { $0.contains("stats: recorder memory") }.map(numbers))
        let tables = try #require(lines.first { $0.contains("live-block table") })
        let table = try #require(tables.split(separator: ",").first { $0.contains("live-block table") }.map(numbers)?.first)
        return (memory, table, tables)
    }

    /// A program that locks its memory (mlockall(MCL_CURRENT | MCL_FUTURE):
    /// corosync, chronyd -m) had the recorder's tables locked too (a thread's
    /// stack memo alone is 1.7 MiB), counted against its RLIMIT_MEMLOCK:
    /// 4 threads locked 7.2 MiB more than bare (36 MiB). The recorder's pages
    /// are now left unlocked; what stays locked more than bare (1.6 MiB) is
    /// its code, libunwind's and its thread's stack.
    @Test func aProgramThatLocksItsMemoryDoesNotLockTheRecorders() throws {
        let dir = try Harness.temporaryDirectory("mlockall")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("memory_locked", in: dir)
        let locked = { (result: Harness.Result) -> Int in
            Int(result.stdoutText.split(separator: " ").dropFirst().first ?? "") ?? -1
        }
        let bare = try Harness.run(exe, preload: false)
        #expect(bare.status == 0, "\(bare.stderr)")
        let out = dir.appendingPathComponent("out")
        let recorded = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(locked(bare) > 0 && locked(recorded) - locked(bare) < 4 * 1024,
                "VmLck: \(locked(recorded)) KiB recorded, \(locked(bare)) KiB bare")
        let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).last))
        let site = try Harness.statistic("kept", in: "memory_locked.c", of: snapshot, symbolizer: symbolizer)
        #expect(site?.count == 8_000 && site?.size == 800_000)
    }

    /// A signal handler that allocates may run on a small alternate stack.
    /// The recorder handed a stack through a signal frame to unw_backtrace,
    /// which took 7.8 KiB more of that stack than the handler did bare
    /// (11,112 bytes against 3,304: an 8 KiB SIGSTKSZ stack would have
    /// overflowed). Its own walk steps the kernel's signal frame now; what
    /// it takes beyond bare is the hook's frames and, the first time a
    /// return address is seen, its rule read from .eh_frame. Bound to
    /// load time (-z now): a lazy binding's first call in the handler saves
    /// the vector registers on the stack, bare too.
    @Test func anAllocatingSignalHandlerFitsTheStackItFitsBare() throws {
        let dir = try Harness.temporaryDirectory("signal-stack")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("signal_stack", in: dir, flags: ["-g", "-O2", "-Wl,-z,now"])
        let used = { (result: Harness.Result) -> Int in
            Int(result.stdoutText.split(separator: " ").dropFirst(2).first ?? "") ?? -1
        }
        let bare = try Harness.run(exe, preload: false)
        #expect(bare.status == 0, "\(bare.stderr)")
        let out = dir.appendingPathComponent("out")
        let recorded = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(used(bare) > 0 && used(recorded) - used(bare) <= 2_560,
                "alternate stack used: \(used(recorded)) bytes recorded, \(used(bare)) bare")
        let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).first))
        let site = try Harness.statistic("handler", in: "signal_stack.c", of: snapshot, symbolizer: symbolizer)
        #expect(site?.count == 20 && site?.size == 4_000)
    }

    /// heapdiff_pause (HeapDiffTesting's judge reads snapshots in the process
    /// it measures): a paused thread's new blocks are not recorded, the
    /// recorded blocks it frees or reallocates are forgotten, other threads
    /// are recorded, and a fork keeps the pause on both sides.
    @Test func aPausedThreadsBlocksAreNotRecordedAndItsFreesCount() throws {
        let dir = try Harness.temporaryDirectory("pause")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("pause_thread", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let snapshots = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0) }
        let parent = try #require(snapshots.first { $0.process.label == "parent" })
        let child = try #require(snapshots.first { $0.process.label == "child" })
        func live(_ site: String, _ snapshot: Snapshot) throws -> [Int64] {
            let statistic = try Harness.statistic(site, in: "pause_thread.c", of: snapshot, symbolizer: symbolizer)
            return [statistic?.count ?? 0, statistic?.size ?? 0]
        }
        // 10 made, 4 freed and 3 moved while paused: 3 left.
        #expect(try live("before", parent) == [3, 300])
        #expect(try live("paused", parent) == [0, 0])
        #expect(try live("paused_calloc", parent) == [0, 0])
        #expect(try live("other_thread", parent) == [5, 1_500])
        #expect(try live("after_resume", parent) == [6, 300])
        #expect(try live("paused", child) == [0, 0])
        #expect(try live("child_after_resume", child) == [1, 80])
        #expect(try live("child_after_resume", parent) == [0, 0])
    }

    @Test func recorderMemoryIsCountedByWhatIsResident() throws {
        let dir = try Harness.temporaryDirectory("memory")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("live_blocks", in: dir)
        func figures(blocks: Int) throws -> (resident: Int, mapped: Int, table: Int) {
            let out = dir.appendingPathComponent("out-\(blocks)")
            let result = try Harness.run(exe, arguments: [String(blocks)],
                                         environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_STATS": "1"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let (memory, table, _) = try Self.memoryStats(result.stderr)
            try #require(memory.count == 3, "\(memory)")   // resident KiB, mapped KiB, mappings
            // The exit snapshot's own line says the same, its buffers given back.
            let lines = result.stderr.split(separator: "\n")
            let snapshot = try #require(lines.last { $0.contains("snapshot ") && $0.contains("recorder memory") })
            #expect(snapshot.hasSuffix("; recorder memory \(memory[0]) KiB resident"), "\(snapshot)")
            return (memory[0], memory[1], table)
        }
        let few = try figures(blocks: 10), many = try figures(blocks: 200_000)
        #expect(few.resident > 0 && few.resident * 4 < few.mapped, "\(few)")
        #expect(many.resident >= many.table, "\(many)")
        // Each live block takes at least its address and its stack in the table.
        #expect(many.resident - few.resident >= 200_000 * 16 / 1024, "\(few) \(many)")
        #expect(many.resident <= many.mapped, "\(many)")
    }

    /// Sampling keeps a few dozen blocks of a heap of megabytes: the recorder's
    /// tables must stay small with them (issue 14: at most 1% of the traced heap).
    @Test func samplingKeepsTheRecorderSmall() throws {
        let dir = try Harness.temporaryDirectory("sampled-memory")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("live_blocks", in: dir)
        let blocks = 500_000   // 24-byte blocks and their 8-byte pointers: 16 MB asked for
        let result = try Harness.run(exe, arguments: [String(blocks)],
                                     environment: ["HEAPDIFF_OUTPUT": dir.appendingPathComponent("out").path,
                                                   "HEAPDIFF_STATS": "1", "HEAPDIFF_SAMPLE": "512KiB"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let (memory, table, tables) = try Self.memoryStats(result.stderr)
        // ~23 sampled blocks spread over the 64 sub-tables: their first tables
        // share one mapping of 13.5 KiB (a page each took 3 KiB apiece).
        #expect(table <= 16, "live-block table \(table) KiB: \(tables)")
        let heapKiB = blocks * (24 + 8) / 1024
        #expect(memory[0] * 100 <= heapKiB, "recorder \(memory[0]) KiB resident for a heap of \(heapKiB) KiB")
    }

    @Test func eightThreadsFreeingEachOthersBlocks() throws {
        let dir = try Harness.temporaryDirectory("threads")
        let exe = try Harness.build("threads", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).first))
        let worker = try #require(try Harness.statistic("worker", in: "threads.c", of: snapshot, symbolizer: symbolizer))
        // 8 threads x 200 live blocks of 64 + thread id bytes.
        #expect(worker.count == 1_600)
        let expectedBytes: Int64 = (0..<8).reduce(0) { total, thread in total + 200 * (64 + Int64(thread)) }
        #expect(worker.size == expectedBytes)
        #expect(worker.site.function == "worker")
    }

    /// The recorder's per-thread state takes nothing from a thread's stack beyond a few hundred bytes of TLS:
    /// threads with PTHREAD_STACK_MIN stacks start (they failed with EINVAL when it was 27 KB of TLS), and a
    /// program's key destructor that allocates after the recorder let go of the thread is still recorded.
    @Test func threadsWithTheSmallestStacksStartAndAreRecorded() throws {
        let dir = try Harness.temporaryDirectory("small-stacks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("small_stacks", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0 && result.stdoutText == "20 threads\n", "\(result.stdoutText)\(result.stderr)")
        let files = try Harness.snapshotFiles(in: out)
        let snapshot = try Snapshot.load(path: try #require(files.first { $0.contains(".1.heapsnap") }))
        let small = try #require(try Harness.statistic("small", in: "small_stacks.c", of: snapshot, symbolizer: symbolizer))
        #expect(small.count == 200 && small.size == 20_000)
        let exiting = try #require(try Harness.statistic("exiting", in: "small_stacks.c", of: snapshot,
                                                          symbolizer: symbolizer))
        #expect(exiting.count == 20 && exiting.size == 960)
    }

    @Test func operatorNewIsTracedThroughLibstdcxx() throws {
        let dir = try Harness.temporaryDirectory("cxx")
        let exe = try Harness.build("cxx_new", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let widgetSize = try #require(Int64(result.stdoutText.split(separator: "=").last?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).first))
        let widgets = try #require(try Harness.statistic("widget", in: "cxx_new.cpp", of: snapshot, symbolizer: symbolizer))
        #expect(widgets.count == 70)
        #expect(widgets.size == 70 * widgetSize)
        // The stack really went through operator new in libstdc++.
        #expect(widgets.traceback.contains { $0.module.contains("libstdc++") })
    }

    @Test func allocatorEdgeCasesKeepResultsAndErrno() throws {
        let dir = try Harness.temporaryDirectory("edges")
        let exe = try Harness.build("edge_cases", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdoutText == "edge cases ok\n")
        let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).first))
        let expected: [(site: String, count: Int64, size: Int64)] = [
            ("zero", 1, 0), ("realloc_grow", 1, 4096), ("realloc_fail_kept", 1, 33), ("reallocarray", 1, 40),
            ("calloc", 1, 256), ("posix_memalign", 1, 100), ("aligned_alloc", 1, 128), ("memalign", 1, 10),
            ("valloc", 1, 100), ("pvalloc", 1, 100),
        ]
        for (site, count, size) in expected {
            let stat = try Harness.statistic(site, in: "edge_cases.c", of: snapshot, symbolizer: symbolizer)
            #expect(stat?.count == count, "\(site)")
            #expect(stat?.size == size, "\(site)")
        }
        // realloc(NULL, n) moved on to realloc_grow; realloc(p, 0) freed p.
        #expect(try Harness.statistic("realloc_null", in: "edge_cases.c", of: snapshot, symbolizer: symbolizer) == nil)
        // Failed allocations are not recorded: nothing else is live.
        #expect(snapshot.process.liveCount == 10)
        #expect(snapshot.process.liveBytes == 4_863)
    }

    @Test func multithreadedParentForksChildrenThatTraceIntoTheirOwnFiles() throws {
        let dir = try Harness.temporaryDirectory("fork")
        let exe = try Harness.build("fork_child", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path], timeout: 120)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let children = result.stdoutText.split(separator: "\n").compactMap { Int32($0) }
        #expect(children.count == 20)
        for child in children {
            let path = out.appendingPathComponent("fork_child.\(child).1.heapsnap").path
            let snapshot = try Snapshot.load(path: path)
            #expect(snapshot.process.pid == UInt32(child))
            #expect(snapshot.process.label == "child")
            let site = try Harness.statistic("child", in: "fork_child.c", of: snapshot, symbolizer: symbolizer)
            #expect(site?.count == 50 && site?.size == 3_200)
        }
    }

    /// A clone without CLONE_VM is a fork that runs no fork handlers (vsftpd
    /// makes its FTP sessions with syscall(SYS_clone)): each such child is
    /// recorded as itself, its exit snapshot written when it calls _exit or
    /// its clone() function returns, with exact counts at its own line. Then
    /// 20 more clones while interval snapshots are written every 10 ms: every
    /// child ends (the handlers take the recorder's locks around the clone).
    @Test func childrenOfARawCloneAreRecordedAsForkedOnes() throws {
        let dir = try Harness.temporaryDirectory("raw-clone")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("raw_clone", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, arguments: ["20"],
                                     environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_INTERVAL": "0.01"])
        #expect(result.status == 0 && result.stdoutText == "ended 23\n", "\(result.stdoutText) \(result.stderr)")
        let snapshots = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0) }
        for (site, count, size) in [("syscall", Int64(10), Int64(3_000)), ("clone3", 20, 8_000), ("function", 30, 15_000)] {
            let holders = try snapshots.compactMap { snapshot in
                try Harness.statistic(site, in: "raw_clone.c", of: snapshot, symbolizer: symbolizer).map { (snapshot, $0) }
            }
            #expect(holders.count == 1, "\(site): \(holders.map(\.0.path))")
            #expect(holders.first?.0.process.trigger == .exit && holders.first?.0.process.label == "_exit")
            #expect(holders.first?.1.count == count && holders.first?.1.size == size, "\(site)")
        }
        #expect(Set(snapshots.map(\.process.pid)).count == 24)   // the program and its 23 children
    }

    @Test func exitSnapshotIsCompleteWhileThreadsStillAllocate() throws {
        let dir = try Harness.temporaryDirectory("exit")
        let exe = try Harness.build("exit_race", in: dir)
        for _ in 0..<5 {
            let out = dir.appendingPathComponent("out-\(UUID().uuidString.prefix(6))")
            let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
            #expect(result.status == 7)
            let files = try Harness.snapshotFiles(in: out)
            #expect(files.count == 1)
            let snapshot = try Snapshot.load(path: try #require(files.first))
            #expect(snapshot.process.trigger == .exit)
            let site = try Harness.statistic("before_exit", in: "exit_race.c", of: snapshot, symbolizer: symbolizer)
            #expect(site?.count == 25 && site?.size == 3_200)
        }
    }

    /// _exit and _Exit run no exit handler (os._exit in CPython's forked
    /// workers, a signal handler's cleanup): the exit snapshot is written
    /// before them, the exit status kept; a vfork child, which shares the
    /// program's memory, writes none.
    @Test(arguments: ["exit", "Exit"]) func exitWithoutHandlersStillWritesTheExitSnapshot(_ call: String) throws {
        let dir = try Harness.temporaryDirectory("exit-calls")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("exit_calls", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, arguments: [call], environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 5, "\(result.stderr)")
        let fields = Dictionary(uniqueKeysWithValues: result.stdoutText.split(whereSeparator: \.isWhitespace).map {
            let pair = $0.split(separator: "=")
            return (String(pair[0]), Int(pair[1]) ?? 0)
        })
        let (pid, child) = (try #require(fields["pid"]), try #require(fields["child"]))
        let files = try Harness.snapshotFiles(in: out).map { URL(fileURLWithPath: $0).lastPathComponent }
        // Nothing of the vfork child's, nor a second file of the program's.
        #expect(Set(files) == ["exit_calls.\(pid).1.heapsnap", "exit_calls.\(child).1.heapsnap"], "\(files)")
        let program = try Snapshot.load(path: out.appendingPathComponent("exit_calls.\(pid).1.heapsnap").path)
        #expect(program.process.trigger == .exit && program.process.label == "_exit")
        let kept = try Harness.statistic("main_keep", in: "exit_calls.c", of: program, symbolizer: symbolizer)
        #expect(kept?.count == 5 && kept?.size == 5_000)
        let forked = try Snapshot.load(path: out.appendingPathComponent("exit_calls.\(child).1.heapsnap").path)
        let held = try Harness.statistic("child_keep", in: "exit_calls.c", of: forked, symbolizer: symbolizer)
        #expect(held?.count == 7 && held?.size == 2_100)
    }

    /// A program that confines itself with seccomp (seccomp_sandbox.c: the
    /// filter kills the process at any system call its own work does not
    /// make) ends as it does bare, exit 0 with its output, instead of dying
    /// of SIGSYS at the recorder's next system call (the exit snapshot, or
    /// the writer thread's wait when the filter covers every thread); the
    /// snapshot written before the filter holds what it kept.
    @Test(arguments: ["prctl", "tsync"]) func aProgramConfiningItselfWithSeccompRunsToItsEnd(_ mode: String) throws {
        let dir = try Harness.temporaryDirectory("seccomp-\(mode)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("seccomp_sandbox", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, arguments: [mode], environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText == "sandboxed work done\n")
        let files = try Harness.snapshotFiles(in: out)
        try #require(files.count == 1, "\(files)")
        #expect(result.stderr == "heapdiff: the program is confining itself with seccomp: recording stops here, as the "
                + "filter may forbid what a snapshot needs; the last one is \(files[0])\n")
        let snapshot = try Snapshot.load(path: files[0])
        #expect(snapshot.process.trigger == .api && snapshot.process.label == "seccomp")
        let kept = try Harness.statistic("config", in: "seccomp_sandbox.c", of: snapshot, symbolizer: symbolizer)
        #expect(kept?.count == 100 && kept?.size == 20_000)
    }

    /// A program that caps its own file sizes (file_size_limit.c: RLIMIT_FSIZE
    /// 0, as OpenSSH's privilege-separated child sets it) ends as it does
    /// bare, exit 0, instead of dying of SIGXFSZ when the exit snapshot is
    /// written, or the warning that it could not be: to a stderr that is a
    /// file (here, the harness's) it cannot be written either. Through a pipe
    /// the warning says why. No temporary file is left behind.
    @Test(arguments: [false, true]) func aProgramCappingItsFileSizesIsNotKilledBySnapshots(_ throughPipe: Bool) throws {
        let dir = try Harness.temporaryDirectory("fsize-\(throughPipe)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("file_size_limit", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = throughPipe
            ? try Harness.run("/bin/bash", arguments: ["-c", "LD_PRELOAD=\"$1\" \"$0\" 2>&1 | cat; exit ${PIPESTATUS[0]}",
                                                       exe, Harness.library],
                              environment: ["HEAPDIFF_OUTPUT": out.path], preload: false)
            : try Harness.run(exe, arguments: [], environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == [])
        let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
        if throughPipe {
            #expect(lines.count == 3 && lines[0] == "capped work done" && lines[2] == "", "\(lines)")
            #expect(lines.count == 3 && lines[1].hasPrefix("heapdiff: warning: cannot write \(out.path)/.file_size_limit.")
                    && lines[1].hasSuffix(".1.heapsnap.tmp: File too large; snapshot 1 not written"), "\(lines)")
        } else {
            #expect(result.stdoutText == "capped work done\n")
            #expect(result.stderr == "")
        }
    }

    /// A warning never ends the program or lands in its files
    /// (stderr_gone.c, whose exit snapshot cannot be written): not when the
    /// stderr it was started with is a pipe nobody reads any more (SIGPIPE,
    /// "wait"), nor when it put another pipe there ("pipe"), nor when it
    /// closed stderr and its next file got the number ("reuse": a daemon's
    /// data file, which the warning was written into).
    @Test(arguments: ["wait", "pipe", "reuse"]) func aWarningNeverReachesAStderrThatIsGone(_ mode: String) throws {
        let dir = try Harness.temporaryDirectory("stderr-\(mode)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("stderr_gone", in: dir)
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: false)
        let data = dir.appendingPathComponent("data")
        let result = mode == "wait"
            ? try Harness.run("/bin/bash", arguments: ["-c", "LD_PRELOAD=\"$1\" \"$0\" wait 2>&1 >/dev/null | true; "
                                                       + "exit ${PIPESTATUS[0]}", exe, Harness.library],
                              environment: ["HEAPDIFF_OUTPUT": out.path], preload: false)
            : try Harness.run(exe, arguments: mode == "pipe" ? ["pipe"] : ["reuse", data.path],
                              environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "")
        if mode == "reuse" {
            #expect(try String(contentsOf: data, encoding: .utf8) == "data\n")
        }
    }

    /// A SIGTERM that arrives while the exit snapshot is written (exit_signal.c
    /// sends one as soon as the snapshot's temporary file appears) ends the
    /// process, as it would, once the snapshot is complete (exit_signals.c);
    /// before, the process ended with the snapshot half written. The program
    /// exits 0 when its thread was too late to see the file: it runs again
    /// then, up to 10 times. Bare, it always exits 0.
    @Test func signalDuringTheExitSnapshotWaitsForIt() throws {
        let dir = try Harness.temporaryDirectory("exit-signal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("exit_signal", in: dir)
        #expect(try Harness.run(exe, preload: false).status == 0)
        var signalled = false
        for attempt in 0..<20 where !signalled {
            let out = dir.appendingPathComponent("out-\(attempt)")
            let result = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
            if result.status == 0 { continue }
            signalled = true
            #expect(result.status == SIGTERM, "\(result.stderr)")   // timeout(1) ends by the same signal
            let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
            #expect(!names.contains { $0.hasSuffix(".tmp") }, "\(names)")
            let files = try Harness.snapshotFiles(in: out)
            #expect(files.count == 1)
            let snapshot = try Snapshot.load(path: try #require(files.first))
            #expect(snapshot.process.trigger == .exit)
            let site = try Harness.statistic("leaf", in: "exit_signal.c", of: snapshot, symbolizer: symbolizer)
            #expect(site?.count == 32_768 && site?.size == 32_768 * 64)
        }
        #expect(signalled, "the signal never came while the exit snapshot was written")
    }
}
