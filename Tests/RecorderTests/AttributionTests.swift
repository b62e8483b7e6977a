import Foundation
import HeapDiffKit
import Testing

/// Optimized C, C++ and Swift programs allocate through library plumbing;
/// the top row of the growth report must still be the program's own line.
@Suite struct AttributionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var program: String
        var source: String
        var scenario: String
        var site: String
        var sizeDiff: Int64
        var countDiff: Int64

        var testDescription: String { "\(program) \(scenario)" }
    }

    static let cases = [
        // 200 × (a 4097-byte string and an 80-byte hash node), plus the bucket array checked below.
        Case(program: "attribution_cxx", source: "attribution_cxx.cpp", scenario: "thumbnail", site: "thumbnail",
             sizeDiff: 200 * (4097 + 80), countDiff: 401),
        Case(program: "attribution_cxx", source: "attribution_cxx.cpp", scenario: "session", site: "session",
             sizeDiff: 200 * 560, countDiff: 200),
        // One block per make_shared: the control block and the 2048-byte Blob.
        Case(program: "attribution_cxx", source: "attribution_cxx.cpp", scenario: "shared", site: "shared",
             sizeDiff: 200 * 2064, countDiff: 200),
        Case(program: "attribution_c", source: "attribution_c.c", scenario: "strdup", site: "strdup_wrapper",
             sizeDiff: 300 * 64, countDiff: 300),
        Case(program: "attribution_c", source: "attribution_c.c", scenario: "inline", site: "inline_helper",
             sizeDiff: 200 * 1000 + 199 * 200 / 2, countDiff: 200),
        // A 16-byte object header, an Int and 8 Doubles.
        Case(program: "attribution_swift", source: "attribution_swift.swift", scenario: "class", site: "swift_class",
             sizeDiff: 1000 * 88, countDiff: 1000),
        // A 32-byte array header and 1000 Ints.
        Case(program: "attribution_swift", source: "attribution_swift.swift", scenario: "array", site: "swift_array",
             sizeDiff: 100 * 8032, countDiff: 100),
        // Rust: the standard library's allocator code (alloc.rs, raw_vec,
        // hashbrown) is inlined into each line, with its own file names.
        Case(program: "attribution_rust", source: "attribution_rust.rs", scenario: "vec", site: "rust_vec",
             sizeDiff: 200 * 1000, countDiff: 200),
        Case(program: "attribution_rust", source: "attribution_rust.rs", scenario: "map", site: "rust_map",
             sizeDiff: 200 * 500, countDiff: 200),
        // A u64 and 8 f64s.
        Case(program: "attribution_rust", source: "attribution_rust.rs", scenario: "box", site: "rust_box",
             sizeDiff: 1000 * 72, countDiff: 1000),
        // One block, reallocated as it doubled up to room for 1024 u64s.
        Case(program: "attribution_rust", source: "attribution_rust.rs", scenario: "grow", site: "rust_grow",
             sizeDiff: 1024 * 8, countDiff: 1),
    ]

    /// The before and after snapshots of one scenario, -O2 -g (swiftc -O -g).
    static func snapshots(_ testCase: Case, in dir: URL) throws -> (old: String, new: String, binary: String) {
        let exe = try Harness.build(testCase.program, in: dir, flags: ["-O2", "-g"])
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(exe, arguments: [testCase.scenario], environment: ["HEAPDIFF_OUTPUT": out.path])
        guard run.status == 0 else { throw Harness.Failure(description: "\(testCase.program) exited \(run.status): \(run.stderr)") }
        let files = try Harness.snapshotFiles(in: out)
        guard files.count >= 2 else { throw Harness.Failure(description: "snapshots: \(files)") }
        return (files[0], files[1], exe)
    }

    @Test(arguments: cases)
    func topRowIsTheUsersLine(_ testCase: Case) throws {
        let dir = try Harness.temporaryDirectory("attr-\(testCase.scenario)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (oldPath, newPath, _) = try Self.snapshots(testCase, in: dir)
        let diffs = try Snapshot.load(path: newPath).compare(to: try Snapshot.load(path: oldPath), by: .lineno,
                                                           symbolizer: Symbolizer())
        let top = try #require(diffs.first)
        let line = try Harness.line(of: testCase.site, in: testCase.source)
        #expect(top.site.file == Harness.programsDirectory.appendingPathComponent(testCase.source).path)
        #expect(top.site.line == line)
        #expect(top.key == .line(file: Harness.programsDirectory.appendingPathComponent(testCase.source).path, line: line))
        #expect(top.countDiff == testCase.countDiff)
        if testCase.scenario == "thumbnail" {
            // One live bucket array of 8-byte pointers, however many buckets this libstdc++ picks.
            let buckets = top.sizeDiff - testCase.sizeDiff
            #expect(buckets > 0 && buckets % 8 == 0 && buckets < 8 * 1024, "bucket bytes: \(buckets)")
        } else {
            #expect(top.sizeDiff == testCase.sizeDiff)
        }
    }

    @Test func strdupWrapperIsTheUsersCode() throws {
        let testCase = try #require(Self.cases.first { $0.scenario == "strdup" })
        let dir = try Harness.temporaryDirectory("attr-wrapper")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (oldPath, newPath, _) = try Self.snapshots(testCase, in: dir)
        let top = try #require(try Snapshot.load(path: newPath)
            .compare(to: try Snapshot.load(path: oldPath), by: .lineno, symbolizer: Symbolizer()).first)
        #expect(top.site.function == "copy_name")
        #expect(!top.site.inlined)
        let siteIndex = try #require(top.traceback.firstIndex(of: top.site))
        let caller = try #require(top.traceback.dropFirst(siteIndex + 1).first)
        #expect(caller.line == (try Harness.line(of: "strdup_caller", in: "attribution_c.c")))
        #expect(caller.function == "main")
    }

    /// Rust's frames as rustc's own tools show them: v0 symbols demangled
    /// (`_RNv…` was shown raw), and each of the standard library's files
    /// under one absolute name (its own units named them relative to
    /// `/rustc/<commit>`, and the same file showed under two names).
    @Test func rustFramesAreDemangledAndNamedAbsolutely() throws {
        let testCase = try #require(Self.cases.first { $0.scenario == "vec" })
        let dir = try Harness.temporaryDirectory("attr-rust")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (oldPath, newPath, _) = try Self.snapshots(testCase, in: dir)
        let top = try #require(try Snapshot.load(path: newPath)
            .compare(to: try Snapshot.load(path: oldPath), by: .lineno, symbolizer: Symbolizer()).first)
        #expect(top.site.function == "attribution_rust::keep_bodies")
        let siteIndex = try #require(top.traceback.firstIndex(of: top.site))
        // What the site's line inlined: the allocator, RawVec, to_vec, all named by std's sources.
        let plumbing = top.traceback.prefix(siteIndex)
        #expect(plumbing.count >= 3, "\(top.traceback)")
        #expect(plumbing.allSatisfy { $0.file?.hasPrefix("/") == true && $0.file?.contains("/library/alloc/") == true },
                "\(plumbing.map { $0.file ?? "-" })")
        let named = top.traceback.compactMap(\.function)
        #expect(named.contains("alloc::alloc::alloc"), "\(named)")
        #expect(!named.contains { $0.hasPrefix("_R") || $0.hasPrefix("_Z") }, "\(named)")
        // Every frame of std (threads' start included) under the one absolute spelling.
        #expect(!top.traceback.contains { $0.file?.hasPrefix("library/") == true }, "\(top.traceback)")
    }

    /// A Rust program built as cargo's release profile builds it, without
    /// line tables: only symbol names say what is the standard library's, so
    /// alloc's functions are passed over by name (else a Vec's growth was
    /// charged to `alloc::raw_vec::finish_grow`).
    @Test(arguments: [("vec", "attribution_rust::keep_bodies", Int64(200 * 1000), Int64(200)),
                      ("map", "attribution_rust::cache_responses", Int64(200 * 500), Int64(200)),
                      ("grow", "attribution_rust::fill_numbers", Int64(1024 * 8), Int64(1))])
    func rustWithoutLineTablesIsChargedToItsFunction(scenario: String, function: String, size: Int64,
                                                     count: Int64) throws {
        let dir = try Harness.temporaryDirectory("attr-rust-stripped")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = dir.appendingPathComponent("attribution_rust_stripped").path
        let source = Harness.programsDirectory.appendingPathComponent("attribution_rust.rs").path
        let build = try Harness.run(try Harness.rustc(), arguments: ["-C", "opt-level=2", "-C", "strip=debuginfo",
                                                                      "-o", exe, source], preload: false, timeout: 600)
        #expect(build.status == 0, "\(build.stderr)")
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(exe, arguments: [scenario], environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try Harness.snapshotFiles(in: out)
        try #require(files.count >= 2)
        let top = try #require(try Snapshot.load(path: files[1])
            .compare(to: try Snapshot.load(path: files[0]), by: .function, symbolizer: Symbolizer()).first)
        #expect(top.site.function == function)
        #expect(top.site.file == nil)
        #expect(top.sizeDiff == size)
        #expect(top.countDiff == count)
    }

    @Test func inlinedHelperShowsItsCallerAsTheNextFrame() throws {
        let testCase = try #require(Self.cases.first { $0.scenario == "inline" })
        let dir = try Harness.temporaryDirectory("attr-inline")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (oldPath, newPath, _) = try Self.snapshots(testCase, in: dir)
        let helperLine = try Harness.line(of: "inline_helper", in: "attribution_c.c")
        let callerLine = try Harness.line(of: "inline_caller", in: "attribution_c.c")

        let text = try Harness.run(Harness.cli, arguments: ["diff", oldPath, newPath, "--group-by", "traceback",
                                                           "--limit", "1"], preload: false)
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdoutText.split(separator: "\n").map(String.init)
        // heapdiff shows paths under its working directory, which is ours, relative to it.
        let source = PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath)
            .show(Harness.programsDirectory.appendingPathComponent("attribution_c.c").path)
        #expect(lines.first?.hasPrefix("\(source):\(helperLine): size=") == true, "\(lines)")
        #expect(lines.dropFirst().first == "    \(source):\(helperLine) in make_buffer (inlined)")
        #expect(lines.dropFirst(2).first == "    \(source):\(callerLine) in main (attribution_c)")

        let json = try Harness.run(Harness.cli, arguments: ["diff", oldPath, newPath, "--group-by", "traceback",
                                                           "--limit", "1", "--format", "json"], preload: false)
        let document = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let row = try #require((document["statistics"] as? [[String: Any]])?.first)
        let frames = try #require(row["traceback"] as? [[String: Any]])
        #expect(frames.prefix(2).map { $0["inlined"] as? Bool } == [true, false])
        #expect(frames.prefix(2).map { $0["line"] as? Int } == [helperLine, callerLine])
        #expect(frames.prefix(2).map { $0["function"] as? String } == ["make_buffer", "main"])
    }

    @Test func missingBinaryIsShownAsOffsetsWithOneWarning() throws {
        let testCase = try #require(Self.cases.first { $0.scenario == "inline" })
        let dir = try Harness.temporaryDirectory("attr-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (oldPath, newPath, binary) = try Self.snapshots(testCase, in: dir)
        try FileManager.default.removeItem(atPath: binary)

        let result = try Harness.run(Harness.cli, arguments: ["diff", oldPath, newPath, "--group-by", "traceback",
                                                             "--limit", "0"], preload: false)
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains(binary) }
        #expect(warnings == ["heapdiff: warning: \(binary): cannot open (No such file or directory); frames shown as offsets"])
        let rows = result.stdoutText.split(separator: "\n")
        #expect(rows.first?.hasPrefix("attribution_c+0x") == true, "\(rows)")
        #expect(!result.stdoutText.contains("(inlined)"))
    }

    @Test func cumulativeTracebackIsAUsageError() throws {
        let result = try Harness.run(Harness.cli, arguments: ["diff", "a.heapsnap", "b.heapsnap", "--cumulative",
                                                             "--group-by", "traceback"], preload: false)
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n")
                == ["heapdiff: error: --cumulative cannot be used with --group-by traceback (see 'heapdiff help diff')"])
    }
}
