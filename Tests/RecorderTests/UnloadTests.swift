import Foundation
import HeapDiffKit
import Testing

/// A program that unloads a library and loads another at the same address
/// (plugins, dlopen'ed extensions) must run as it does bare: unwind rules
/// cached by return address for the first library must not be applied to
/// the second (the recorder's own, and unw_backtrace's per-thread cache).
@Suite struct UnloadTests {
    @Test(arguments: ["fast", "libunwind"])
    func aLibraryLoadedWhereAnUnloadedOneWasIsUnwoundByItsOwnRules(mode: String) throws {
        let dir = try Harness.temporaryDirectory("unload")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("dlclose_reuse", in: dir)
        var plugins: [String] = []
        for name in ["plugin_frame_pointer", "plugin_rbp_plain"] {
            let plugin = dir.appendingPathComponent("\(name).so").path
            let source = Harness.programsDirectory.appendingPathComponent("\(name).s").path
            let built = try Harness.run("/usr/bin/cc", arguments: ["-shared", "-o", plugin, source], preload: false)
            #expect(built.status == 0, "\(built.stderr)")
            plugins.append(plugin)
        }
        let order = plugins + plugins
        let bare = try Harness.run(exe, arguments: order, preload: false)
        #expect(bare.status == 0, "\(bare.stderr)")
        // Without the second plugin where the first was, this shows nothing.
        #expect(bare.stdoutText.contains("plugin 2 at the same address"), "\(bare.stdoutText)")

        let out = dir.appendingPathComponent("out")
        let traced = try Harness.run(exe, arguments: order, environment: ["HEAPDIFF_OUTPUT": out.path,
                                                                          "HEAPDIFF_UNWIND": mode])
        #expect(traced.status == 0, "killed or failed: \(traced.status), \(traced.stderr)")
        #expect(traced.stdout == bare.stdout)
        // Each plug() block's stack goes on to main(), in the program.
        let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: out).last))
        let program = try #require(snapshot.modules.first { $0.path.hasSuffix("/dlclose_reuse") })
        let inPlugins = snapshot.traces.filter { trace in
            trace.liveCount > 0 && trace.frames.count >= 2 && !snapshot.modules.contains { module in
                module.ranges.contains { $0.contains(trace.frames[0]) }
            }
        }
        #expect(inPlugins.reduce(0) { $0 + $1.liveCount } == 4)
        #expect(inPlugins.reduce(0) { $0 + $1.liveBytes } == 4 * 64)
        #expect(inPlugins.allSatisfy { trace in program.ranges.contains { $0.contains(trace.frames[1]) } })
    }
}
