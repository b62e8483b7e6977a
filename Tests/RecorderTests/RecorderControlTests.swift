import Foundation
import HeapDiffKit
import Testing

/// When snapshots are taken, where they go, and what the recorder must
/// never change about the traced program.
@Suite struct RecorderControlTests {
    let symbolizer = Symbolizer()

    @Test func snapshotSignalWakesTheWriterThread() throws {
        let dir = try Harness.temporaryDirectory("signal")
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("out")
        let program = try BackgroundProgram(exe, environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_SIGNAL": "USR2"])
        try program.waitUntilReady()
        kill(program.pid, SIGUSR2)
        let appeared = try Harness.wait(seconds: 10) { try Harness.snapshotFiles(in: out).count == 1 }
        #expect(appeared)
        #expect(program.finish() == 0)
        let files = try Harness.snapshotFiles(in: out)
        #expect(files.count == 2)   // the signal's, then exit's
        let signalled = try Snapshot.load(path: files[0])
        #expect(signalled.process.trigger == .signal && signalled.process.seq == 1)
        let site = try Harness.statistic("waiting", in: "waiter.c", of: signalled, symbolizer: symbolizer)
        #expect(site?.count == 40 && site?.size == 10_240)
        #expect(try Snapshot.load(path: files[1]).process.trigger == .exit)
        #expect(program.stdout.hasSuffix("handled=0\n"))
    }

    @Test func programThatInstallsItsOwnHandlerKeepsItAndIsToldOnce() throws {
        let dir = try Harness.temporaryDirectory("ownhandler")
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("out")
        let program = try BackgroundProgram(exe, arguments: ["own-handler"],
                                            environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_SIGNAL": "USR2"])
        try program.waitUntilReady()
        kill(program.pid, SIGUSR2)
        usleep(300_000)   // give a handler time to run
        #expect(program.finish() == 0)
        #expect(program.stdout.hasSuffix("handled=1\n"))
        let triggers = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0).process.trigger }
        #expect(triggers == [.exit])
        let told = program.stderr.components(separatedBy: "installed its own SIGUSR2 handler").count - 1
        #expect(told == 1, "\(program.stderr)")
    }

    /// Unless asked for, the recorder handles no signal at all: SIGUSR2 keeps
    /// its default action (bit 12 of SigCgt clear).
    @Test func snapshotSignalIsOffByDefault() throws {
        let dir = try Harness.temporaryDirectory("nosignal")
        let exe = try Harness.build("waiter", in: dir)
        func caughtSignals(_ environment: [String: String]) throws -> UInt64 {
            let program = try BackgroundProgram(exe, environment: environment.merging(
                ["HEAPDIFF_OUTPUT": dir.appendingPathComponent("out").path]) { $1 })
            try program.waitUntilReady()
            let status = try String(contentsOfFile: "/proc/\(program.pid)/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("SigCgt:") })
            #expect(program.finish() == 0)
            return try #require(UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16))
        }
        let usr2: UInt64 = 1 << (UInt64(SIGUSR2) - 1)
        #expect(try caughtSignals([:]) & usr2 == 0)
        #expect(try caughtSignals(["HEAPDIFF_SIGNAL": "USR2"]) & usr2 != 0)
    }

    @Test func intervalSnapshotsCountUpInOrder() throws {
        let dir = try Harness.temporaryDirectory("interval")
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("out")
        let program = try BackgroundProgram(exe, environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_INTERVAL": "0.1"])
        try program.waitUntilReady()
        #expect(try Harness.wait(seconds: 20) { try Harness.snapshotFiles(in: out).count >= 4 })
        #expect(program.finish() == 0)
        let snapshots = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0) }
        #expect(snapshots.map(\.process.seq) == (1...UInt32(snapshots.count)).map { $0 })
        #expect(snapshots.dropLast().allSatisfy { $0.process.trigger == .interval })
        #expect(snapshots.last?.process.trigger == .exit)
        let times = snapshots.map(\.process.monotonicNs)
        #expect(times == times.sorted())
    }

    /// HEAPDIFF_KEEP=3 with an interval: each new periodic snapshot deletes
    /// the oldest once three are kept, so after eight or more the directory
    /// holds the latest three, numbered on, and the exit snapshot, which is
    /// never deleted.
    @Test func keepLeavesTheLatestPeriodicSnapshots() throws {
        let dir = try Harness.temporaryDirectory("keep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("out")
        let program = try BackgroundProgram(exe, environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_INTERVAL": "0.05",
                                                               "HEAPDIFF_KEEP": "3"])
        try program.waitUntilReady()
        // From the names (PROGRAM.PID.SEQ.heapsnap): a file listed may be
        // deleted by the next periodic snapshot before it could be read.
        let seqs = {
            try Harness.snapshotFiles(in: out).compactMap { UInt32(URL(fileURLWithPath: $0).deletingPathExtension().pathExtension) }
        }
        #expect(try Harness.wait(seconds: 20) { try seqs().max() ?? 0 >= 8 })
        #expect(program.finish() == 0)
        let snapshots = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0) }
        try #require(snapshots.count == 4, "\(snapshots.map(\.process.seq))")
        let last = try #require(snapshots.last?.process.seq)
        #expect(snapshots.map(\.process.seq) == Array(last - 3...last))
        #expect(snapshots.dropLast().allSatisfy { $0.process.trigger == .interval })
        #expect(snapshots.last?.process.trigger == .exit)
    }

    @Test func childrenInheritTheRecorderUnlessTold() throws {
        let dir = try Harness.temporaryDirectory("exec")
        let exe = try Harness.build("execer", in: dir)
        let followed = dir.appendingPathComponent("followed")
        let result = try Harness.run(exe, arguments: ["/bin/true"], environment: ["HEAPDIFF_OUTPUT": followed.path])
        #expect(result.status == 0)
        let files = try Harness.snapshotFiles(in: followed, program: "true")
        #expect(files.count == 1)
        // exec keeps the pid: the new image writes under the same one, from SEQ 1.
        let snapshot = try Snapshot.load(path: try #require(files.first))
        #expect(files.first?.hasSuffix("/true.\(snapshot.process.pid).1.heapsnap") == true, "\(files)")
        #expect(snapshot.process.ppid == UInt32(result.pid))   // Harness.run's timeout wrapper
        #expect(snapshot.process.program == "/usr/bin/true")

        let unfollowed = dir.appendingPathComponent("unfollowed")
        let quiet = try Harness.run(exe, arguments: ["/bin/true"],
                                    environment: ["HEAPDIFF_OUTPUT": unfollowed.path, "HEAPDIFF_FOLLOW_CHILDREN": "0"])
        #expect(quiet.status == 0)
        #expect(try Harness.snapshotFiles(in: unfollowed).isEmpty)
    }

    /// Files are named as the program was started (argv[0]'s basename, as
    /// `ps` shows it), not after the executable a symlink leads to (Debian's
    /// redis-server is a link to redis-check-rdb); a login shell's leading
    /// '-' is dropped. The PROCESS record keeps the executable's own path.
    @Test func filesAreNamedAsTheProgramWasStarted() throws {
        let dir = try Harness.temporaryDirectory("name")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("passthrough", in: dir)
        let real = URL(fileURLWithPath: exe).resolvingSymlinksInPath().path
        let link = dir.appendingPathComponent("my-server")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: exe)
        for (name, command, arguments) in [("my-server", link.path, [String]()),
                                           ("login-name", "/bin/bash", ["-c", "exec -a -login-name \(exe)"])] {
            let out = dir.appendingPathComponent(name + "-out")
            let result = try Harness.run(command, arguments: arguments, environment: ["HEAPDIFF_OUTPUT": out.path])
            #expect(result.status == 3, "\(result.stderr)")
            let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
            let snapshot = try Snapshot.load(path: out.appendingPathComponent(try #require(names.first)).path)
            #expect(names == ["\(name).\(snapshot.process.pid).1.heapsnap"])
            #expect(snapshot.process.program == real)
        }
    }

    @Test(arguments: [
        ("HEAPDIFF_DEPTH", "abc", "HEAPDIFF_DEPTH=abc is not a whole number"),
        ("HEAPDIFF_DEPTH", "0", "HEAPDIFF_DEPTH=0 is not a whole number"),
        ("HEAPDIFF_SIGNAL", "KILL", "HEAPDIFF_SIGNAL=KILL is not USR1"),
        ("HEAPDIFF_INTERVAL", "-3", "HEAPDIFF_INTERVAL=-3 is not a number of seconds"),
        ("HEAPDIFF_FOLLOW_CHILDREN", "maybe", "HEAPDIFF_FOLLOW_CHILDREN=maybe is not 0, 1 or all"),
        ("HEAPDIFF_PROGRAM_PARENT", "x", "HEAPDIFF_PROGRAM_PARENT=x is not a process id"),
        ("HEAPDIFF_UNWIND", "dwarf", "HEAPDIFF_UNWIND=dwarf is not fast, libunwind or verify; using fast"),
        ("HEAPDIFF_OUTPUT", "/proc/self/no/such/dir", "cannot create output directory"),
    ])
    func badSettingsWarnOnceAndChangeNothing(name: String, value: String, warning: String) throws {
        let dir = try Harness.temporaryDirectory("env")
        let exe = try Harness.build("passthrough", in: dir)
        var env = [name: value]
        if name != "HEAPDIFF_OUTPUT" { env["HEAPDIFF_OUTPUT"] = dir.appendingPathComponent("out").path }
        let traced = try Harness.run(exe, arguments: ["x"], environment: env)
        let bare = try Harness.run(exe, arguments: ["x"], preload: false)
        #expect(traced.status == 3)
        #expect(traced.stdout == bare.stdout)
        let warnings = traced.stderr.split(separator: "\n").filter { $0.hasPrefix("heapdiff: warning: ") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains(warning) == true, "\(traced.stderr)")
        #expect(traced.stderr.replacingOccurrences(of: warnings.first.map { $0 + "\n" } ?? "", with: "") == "to stderr\n")
        if name == "HEAPDIFF_DEPTH" {
            let snapshot = try Snapshot.load(path: try #require(try Harness.snapshotFiles(in: dir.appendingPathComponent("out")).first))
            #expect(snapshot.process.depth == 64)
        }
    }

    @Test func outputDirectoryIsPrivateAndTemporaryNamesAreNeverFollowed() throws {
        let dir = try Harness.temporaryDirectory("perms")
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("made-by-recorder")
        let program = try BackgroundProgram(exe, environment: ["HEAPDIFF_OUTPUT": out.path, "HEAPDIFF_SIGNAL": "USR2"])
        try program.waitUntilReady()
        let dirMode = try FileManager.default.attributesOfItem(atPath: out.path)[.posixPermissions] as? Int
        // Root's is 1733: workers that switch user add files, nobody but root lists them.
        #expect(dirMode == (geteuid() == 0 ? 0o1733 : 0o700))
        // Plant a symlink where the first snapshot's temporary file will go.
        let target = dir.appendingPathComponent("victim")
        let temp = out.appendingPathComponent(".waiter.\(program.pid).1.heapsnap.tmp")
        try FileManager.default.createSymbolicLink(atPath: temp.path, withDestinationPath: target.path)
        kill(program.pid, SIGUSR2)
        #expect(Harness.wait(seconds: 10) { program.stderr.contains("cannot create") })
        #expect(program.finish() == 0)
        #expect(!FileManager.default.fileExists(atPath: target.path))
        for file in try Harness.snapshotFiles(in: out) {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }
}
