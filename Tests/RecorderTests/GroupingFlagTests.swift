import Foundation
import HeapDiffKit
import Testing

/// The grouping options reach the report: `heapdiff diff` on a real C++ run.
@Suite struct GroupingFlagTests {
    static func thumbnailSnapshots(in dir: URL) throws -> [String] {
        let exe = try Harness.build("attribution_cxx", in: dir, flags: ["-O2", "-g"])
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(exe, arguments: ["thumbnail"], environment: ["HEAPDIFF_OUTPUT": out.path])
        guard run.status == 0 else { throw Harness.Failure(description: run.stderr) }
        return try Harness.snapshotFiles(in: out)
    }

    static func diff(_ files: [String], _ options: [String]) throws -> [String] {
        let result = try Harness.run(Harness.cli, arguments: ["diff", files[0], files[1]] + options, preload: false)
        guard result.status == 0 else { throw Harness.Failure(description: result.stderr) }
        return result.stdoutText.split(separator: "\n").map(String.init)
    }

    @Test func flagsChangeTheReport() throws {
        let dir = try Harness.temporaryDirectory("flags")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try Self.thumbnailSnapshots(in: dir)
        let line = try Harness.line(of: "thumbnail", in: "attribution_cxx.cpp")

        let cumulative = try Self.diff(files, ["--group-by", "function", "--cumulative", "--limit", "2"])
        #expect(cumulative.dropLast().map { $0.prefix { $0 != ":" } } == ["main (attribution_cxx)", "add_thumbnails (attribution_cxx)"])

        let noSkip = try Self.diff(files, ["--no-skip", "--group-by", "function", "--limit", "1"])
        #expect(noSkip.first?.hasPrefix("operator new(unsigned long) (libstdc++.so.6):") == true, "\(noSkip)")
        let raw = try Self.diff(files, ["--no-skip", "--group-by", "function", "--limit", "1", "--raw-symbols"])
        #expect(raw.first?.hasPrefix("_Znwm (libstdc++.so.6):") == true, "\(raw)")

        let skipped = try Self.diff(files, ["--skip-function", "add_thumbnails", "--limit", "1"])
        let mainLine = try #require(skipped.first)
        #expect(!mainLine.contains("attribution_cxx.cpp:\(line):"))

        let excluded = try Self.diff(files, ["--exclude", "module:libstdc++*", "--filter-all-frames"])
        #expect(excluded == ["total: 0 B (+0 B) in 0 blocks (+0)"])
        let small = try Self.diff(files, ["--min-size-diff", "1MiB"])
        #expect(small.count == 1 && small.first?.hasPrefix("total:") == true)
    }
}
