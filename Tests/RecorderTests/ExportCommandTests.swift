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

        // pprof: written beside the default name, gzipped.
        let profile = dir.appendingPathComponent("leaky.pb.gz").path
        let pprof = try Harness.run(Harness.cli, arguments: ["export", files[0], "--format", "pprof", "-o", profile],
                                    preload: false)
        #expect(pprof.status == 0, "\(pprof.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: profile))
        #expect(Array(bytes.prefix(2)) == [0x1f, 0x8b])
    }
}
