import Foundation
import HeapDiffKit
import Testing

/// `heapdiff export` on a real traced program.
@Suite struct ExportCommandTests {
    @Test func foldedAndPprofExportsOfLeakyService() throws {
        let dir = try Harness.temporaryDirectory("export")
        let exe = try Harness.build("leaky_service", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(Harness.cli, arguments: ["run", "--output", out.path, "--", exe], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        let files = try Harness.snapshotFiles(in: out)
        try #require(files.count == 3)

        // After 100 requests: 100 cache entries of 504 bytes are live under
        // main;handle_request (the scratch buffers, same stack names, are freed).
        let warm = try Harness.run(Harness.cli, arguments: ["export", files[0], "--format", "folded"], preload: false)
        #expect(warm.status == 0, "\(warm.stderr)")
        let lines = warm.stdoutText.split(separator: "\n")
        #expect(lines.contains { $0.hasSuffix(";main;handle_request 50400") || $0 == "main;handle_request 50400" },
                "\(warm.stdoutText)")
        #expect(lines == lines.sorted())

        // Growth over the next 1000 requests.
        let growth = try Harness.run(Harness.cli, arguments: ["export", files[1], "--base", files[0], "--format", "folded"],
                                     preload: false)
        #expect(growth.status == 0, "\(growth.stderr)")
        #expect(growth.stdoutText.split(separator: "\n").contains { $0.hasSuffix("main;handle_request 504000") },
                "\(growth.stdoutText)")

        // The run's directory: its latest snapshot before the exit one, named on stderr.
        let latest = try Harness.run(Harness.cli, arguments: ["export", files[1], "--format", "folded"], preload: false)
        let byDirectory = try Harness.run(Harness.cli, arguments: ["export", out.path, "--format", "folded"],
                                          preload: false)
        #expect(byDirectory.status == 0)
        #expect(byDirectory.stdout == latest.stdout)
        #expect(byDirectory.stderr.hasPrefix("heapdiff: \(URL(fileURLWithPath: files[1]).lastPathComponent): the latest of 3 "))

        // pprof: written beside the default name, gzipped.
        let profile = dir.appendingPathComponent("leaky.pb.gz").path
        let pprof = try Harness.run(Harness.cli, arguments: ["export", files[0], "--format", "pprof", "-o", profile],
                                    preload: false)
        #expect(pprof.status == 0, "\(pprof.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: profile))
        #expect(Array(bytes.prefix(2)) == [0x1f, 0x8b])
    }

    /// A destination that cannot be written is one line with the system's
    /// reason, not Foundation's "The operation could not be completed".
    @Test func anUnwritableDestinationGetsTheSystemsReason() throws {
        let dir = try Harness.temporaryDirectory("export-unwritable")
        let exe = try Harness.build("exact_counts", in: dir)
        let out = dir.appendingPathComponent("out")
        _ = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        let snapshot = try #require(try Harness.snapshotFiles(in: out).first)
        let missing = dir.appendingPathComponent("no/such/dir/profile.pb.gz").path
        let pprof = try Harness.run(Harness.cli, arguments: ["export", snapshot, "--format", "pprof", "-o", missing],
                                    preload: false)
        #expect(pprof.status == 1)
        #expect(pprof.stderr == "heapdiff: error: cannot write \(missing): No such file or directory\n")
        let folded = try Harness.run(Harness.cli, arguments: ["export", snapshot, "--format", "folded", "-o", out.path],
                                     preload: false)
        #expect(folded.status == 1)
        #expect(folded.stderr == "heapdiff: error: cannot write \(out.path): Is a directory\n")
    }

    /// The standard tool reads the export: `go tool pprof` (Debian's golang-go),
    /// when it is installed; reported as skipped where it is not.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/go"), "go tool pprof is not installed"))
    func pprofExportLoadsInGoToolPprof() throws {
        let dir = try Harness.temporaryDirectory("gopprof")
        let exe = try Harness.build("leaky_service", in: dir)
        let out = dir.appendingPathComponent("out")
        _ = try Harness.run(Harness.cli, arguments: ["run", "--output", out.path, "--", exe], preload: false)
        let files = try Harness.snapshotFiles(in: out)
        try #require(files.count == 3)
        let profile = dir.appendingPathComponent("growth.pb.gz").path
        let export = try Harness.run(Harness.cli, arguments: ["export", files[1], "--base", files[0], "--format", "pprof",
                                                            "-o", profile], preload: false)
        #expect(export.status == 0, "\(export.stderr)")
        let top = try Harness.run("/usr/bin/go", arguments: ["tool", "pprof", "-top", "-lines", "-sample_index=inuse_objects",
                                                             profile], environment: ["HOME": dir.path], preload: false)
        #expect(top.status == 0, "\(top.stderr)")
        // 1000 more cache entries at the cache line, nothing else grew.
        let line = try Harness.line(of: "cache", in: "leaky_service.c")
        let row = top.stdoutText.split(separator: "\n").first { $0.contains("leaky_service.c:\(line)") }
        #expect(row?.split(separator: " ").first == "1000", "\(top.stdoutText)")
        #expect(top.stdoutText.contains("Type: inuse_objects"))
    }
}
