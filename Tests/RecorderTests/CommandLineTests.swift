import Foundation
import HeapDiffKit
import Testing

/// The heapdiff command line, end to end, on real traced programs.
@Suite struct CommandLineTests {
    @Test func runPassesOutputInputAndExitStatusThrough() throws {
        let dir = try Harness.temporaryDirectory("run")
        let exe = try Harness.build("passthrough", in: dir)
        let input = Data("line one\nline two\n".utf8)
        let bare = try Harness.run(exe, arguments: ["a b"], stdin: input, preload: false)
        let traced = try Harness.run(Harness.cli, arguments: ["run", "--output", dir.appendingPathComponent("out").path,
                                                            "--", exe, "a b"], stdin: input, preload: false)
        #expect(bare.status == 3)
        #expect(traced.status == 3)
        #expect(traced.stdout == bare.stdout)
        #expect(traced.stderr.hasPrefix("to stderr\n"))
        #expect(traced.stderr.contains("passthrough.c:"))   // the report names the leaking line
        #expect(!traced.stderr.contains("still run"))
    }

    /// The pid daemon.c's child writes to FILE, waited for up to 5 s.
    static func daemonPID(written file: URL) -> Int32? {
        for _ in 0..<100 {
            if let pid = (try? String(contentsOf: file, encoding: .utf8)).flatMap({
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                return pid
            }
            usleep(50_000)
        }
        return nil
    }

    /// A program that daemonizes leaves its daemon recording: `run` says so, with its pid.
    @Test func runNamesTheDaemonAProgramLeftRecording() throws {
        let dir = try Harness.temporaryDirectory("daemon")
        let exe = try Harness.build("daemon", in: dir)
        let pidFile = dir.appendingPathComponent("daemon.pid")
        let run = try Harness.run(Harness.cli, arguments: ["run", "--output", dir.appendingPathComponent("out").path,
                                                         "--", exe, pidFile.path], preload: false)
        var daemon = Self.daemonPID(written: pidFile)
        defer { if let daemon { kill(daemon, SIGKILL) } }
        #expect(run.status == 0, "\(run.stderr)")
        let pid = try #require(daemon)
        #expect(run.stderr.contains("1 process still runs with the recorder, writing into "), "\(run.stderr)")
        #expect(run.stderr.contains(": \(pid) (daemon). `heapdiff snapshot PID` takes a snapshot now"), "\(run.stderr)")
        // Ended after heapdiff was done, its exit snapshot stays beside the program's, not in helpers/.
        kill(pid, SIGTERM)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
        daemon = nil
        let out = dir.appendingPathComponent("out")
        #expect(try Harness.snapshotFiles(in: out, program: "daemon").map { URL(fileURLWithPath: $0).lastPathComponent }
                .contains("daemon.\(pid).1.heapsnap"))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("helpers/daemon.\(pid).1.heapsnap").path))
    }

    /// A daemon stopped before its recorder made its control socket (as a
    /// loaded machine can delay it) is found all the same, by the output
    /// directory it inherited open.
    @Test func runNamesADaemonThatHasNoControlSocketYet() throws {
        let dir = try Harness.temporaryDirectory("daemonstop")
        let exe = try Harness.build("daemon", in: dir)
        let pidFile = dir.appendingPathComponent("daemon.pid")
        let run = try Harness.run(Harness.cli, arguments: ["run", "--output", dir.appendingPathComponent("out").path,
                                                         "--", exe, pidFile.path, "stop"], preload: false)
        let daemon = Self.daemonPID(written: pidFile)
        defer { if let daemon { kill(daemon, SIGKILL) } }
        #expect(run.status == 0, "\(run.stderr)")
        let pid = try #require(daemon)
        #expect(run.stderr.contains(": \(pid) (daemon). `heapdiff snapshot PID` takes a snapshot now"), "\(run.stderr)")
        let sockets = try String(contentsOfFile: "/proc/net/unix", encoding: .utf8)
        #expect(!sockets.contains("@heapdiff.\(pid)\n"))   // still stopped: no socket was there to find
    }

    /// A program LD_PRELOAD cannot reach leaves no snapshot, and `run` says why: a
    /// statically linked one has no dynamic loader; a Go one never calls exit().
    @Test func runSaysWhyAProgramLeftNoSnapshot() throws {
        let dir = try Harness.temporaryDirectory("static")
        let exe = try Harness.build("plain_leak_c", in: dir, flags: ["-O1", "-static"])
        let out = dir.appendingPathComponent("out")
        let bare = try Harness.run(exe, preload: false)
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--", exe], preload: false)
        #expect(run.status == bare.status, "\(run.stderr)")   // (it says it was not recorded, as it was not)
        #expect(run.stderr.hasSuffix("left no snapshot: \(exe) is statically linked: without a dynamic loader, "
            + "LD_PRELOAD cannot load the recorder into it (heapdiff records dynamically linked programs)\n"),
                "\(run.stderr)")
        let check = try Harness.run(Harness.cli, arguments: ["check", "-o", dir.appendingPathComponent("c").path, "--", exe],
                                    preload: false)
        #expect(check.status == 2)
        #expect(check.stderr.hasPrefix("heapdiff: error: \(exe) (pid ") && check.stderr.hasSuffix(") left no snapshot: "
            + "\(exe) is statically linked: without a dynamic loader, LD_PRELOAD cannot load the recorder into it "
            + "(heapdiff records dynamically linked programs)\n"), "\(check.stderr)")
        // Debian's go is linked dynamically (cgo), and ends by its own exit system call.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/go") else { return }
        let go = try Harness.run(Harness.cli, arguments: ["run", "-o", dir.appendingPathComponent("go").path, "--",
                                                        "go", "version"], preload: false)
        #expect(go.status == 0, "\(go.stderr)")
        #expect(go.stderr.contains(": go is a Go program: it ends by its own exit system call, never through exit(), "
            + "so no exit snapshot is written"), "\(go.stderr)")
    }

    @Test func runReportsAProgramThatCannotStart() throws {
        let result = try Harness.run(Harness.cli, arguments: ["run", "--", "/no/such/program"], preload: false)
        #expect(result.status == 127)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("/no/such/program"))
    }

    @Test(arguments: ["run", "check"]) func helpAfterTheCommandIsItsHelp(_ command: String) throws {
        for flag in ["--help", "-h"] {
            let result = try Harness.run(Harness.cli, arguments: [command, flag], preload: false)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdoutText.hasPrefix("OVERVIEW: "), "\(result.stdoutText)")
            #expect(result.stdoutText.contains("USAGE: heapdiff \(command) "), "\(result.stdoutText)")
        }
        // After `--` it is the program's name.
        let program = try Harness.run(Harness.cli, arguments: ["run", "--", "--help"], preload: false)
        #expect(program.status == 127)
        #expect(program.stderr == "heapdiff: error: cannot run --help: No such file or directory\n")
    }

    @Test func diffRanksTheLeakingLineFirst() throws {
        let dir = try Harness.temporaryDirectory("diff")
        let exe = try Harness.build("leaky_service", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(Harness.cli, arguments: ["run", "--output", out.path, "--", exe], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        let files = try Harness.snapshotFiles(in: out)
        #expect(files.count == 3)
        let diff = try Harness.run(Harness.cli, arguments: ["diff", files[0], files[1], "--format", "json"], preload: false)
        #expect(diff.status == 0, "\(diff.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: diff.stdout) as? [String: Any])
        let rows = try #require(json["statistics"] as? [[String: Any]])
        let top = try #require(rows.first)
        #expect((top["file"] as? String)?.hasSuffix("leaky_service.c") == true)
        #expect(top["line"] as? Int == (try Harness.line(of: "cache", in: "leaky_service.c")))
        #expect(top["size_diff"] as? Int == 1_000 * 504)
        #expect(top["count_diff"] as? Int == 1_000)
        #expect(top["function"] as? String == "handle_request")
        // The freed scratch buffer is not growth.
        let scratchLine = try Harness.line(of: "scratch", in: "leaky_service.c")
        #expect(!rows.contains { $0["line"] as? Int == scratchLine && ($0["size_diff"] as? Int ?? 0) != 0 })

        let text = try Harness.run(Harness.cli, arguments: ["diff", files[0], files[1], "--limit", "1"], preload: false)
        let line = try Harness.line(of: "cache", in: "leaky_service.c")
        #expect(text.stdoutText.contains("leaky_service.c:\(line): size=541 KiB (+492 KiB), count=1100 (+1000), average=504 B"))

        // The run's directory alone: the same two snapshots (not the exit one), named on stderr.
        let names = files.map { URL(fileURLWithPath: $0).lastPathComponent }
        let pid = names[0].split(separator: ".")[1]
        let byDirectory = try Harness.run(Harness.cli, arguments: ["diff", out.path, "--limit", "1"], preload: false)
        #expect(byDirectory.status == 0)
        #expect(byDirectory.stdout == text.stdout)
        #expect(byDirectory.stderr == "heapdiff: growth from \(names[0]) to \(names[1]) of leaky_service (pid \(pid)) "
                + "(the exit snapshot, taken after destructors ran, is left out)\n")
        let latest = try Harness.run(Harness.cli, arguments: ["top", out.path, "--limit", "1"], preload: false)
        #expect(latest.status == 0)
        #expect(latest.stdoutText.split(separator: "\n").first?
            .hasSuffix("leaky_service.c:\(line): size=541 KiB, count=1100, average=504 B") == true)
        #expect(latest.stderr == "heapdiff: \(names[1]): the latest of 3 snapshots of leaky_service (pid \(pid)) "
                + "(the exit snapshot, taken after destructors ran, is left out)\n")
        let both = try Harness.run(Harness.cli, arguments: ["diff", out.path, files[1]], preload: false)
        #expect(both.status == 2)
        #expect(both.stderr == "heapdiff: error: \(out.path) is a directory: diff takes it alone (it compares its first "
                + "and last snapshots), or two snapshot files, not \(files[1]) beside it\n")
    }

    @Test func snapshotCommandAsksARunningProcess() throws {
        let dir = try Harness.temporaryDirectory("snapcmd")
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("out")
        let program = try BackgroundProgram(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        try program.waitUntilReady()
        let result = try Harness.run(Harness.cli, arguments: ["snapshot", String(program.pid), "--label", "midday"],
                                     preload: false)
        #expect(result.status == 0, "\(result.stderr)")
        let path = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let snapshot = try Snapshot.load(path: path)
        #expect(snapshot.process.label == "midday")
        #expect(snapshot.process.trigger == .signal)
        #expect(snapshot.process.pid == UInt32(program.pid))
        #expect(program.finish() == 0)
    }

    @Test func snapshotCommandRefusesAnUntracedProcess() throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { sleeper.terminate() }
        let result = try Harness.run(Harness.cli, arguments: ["snapshot", String(sleeper.processIdentifier)], preload: false)
        #expect(result.status != 0)
        #expect(result.stderr.contains("not running under heapdiff"))
        #expect(sleeper.isRunning)   // no signal was sent: SIGUSR2 would have killed it
    }

    /// A refused --sample says why: too large, or not a size.
    @Test(arguments: [("run", "2GiB", "at most 1GiB between sample points"),
                      ("check", "1.5 GiB", "at most 1GiB between sample points"),
                      ("attach", "64 kilobytes", "a size such as 512KiB, 64k, 1.5MiB or 524288 (units are powers of "
                           + "1024), or 0 for every allocation"),
                      ("run", "0.5", "a size such as 512KiB, 64k, 1.5MiB or 524288 (units are powers of 1024), "
                           + "or 0 for every allocation")])
    func aRefusedSampleRateSaysWhy(command: String, value: String, reason: String) throws {
        let target = command == "attach" ? ["1"] : ["--", "/bin/true"]
        let result = try Harness.run(Harness.cli, arguments: [command, "--sample", value] + target, preload: false)
        #expect(result.status == 2)
        #expect(result.stderr == "heapdiff: error: The value '\(value)' is invalid for '--sample <bytes>': \(reason) "
            + "(see 'heapdiff help \(command)')\n")
    }

    /// Another user's process: its maps cannot be read, so heapdiff cannot
    /// tell whether it records; it says so after a second, not the timeout's ten.
    @Test(.enabled(if: geteuid() == 0, "needs root: heapdiff runs as nobody and asks root's process"))
    func snapshotOfAnotherUsersProcessSaysWhyItCannotTell() throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { sleeper.terminate() }
        let pid = sleeper.processIdentifier
        let result = try Harness.run("/usr/sbin/runuser", arguments: ["-u", "nobody", "--", Harness.cli, "snapshot",
                                                                      String(pid)], preload: false)
        #expect(result.status == 2)
        #expect(result.stderr == "heapdiff: error: process \(pid) does not answer on its control socket heapdiff.\(pid), "
            + "and cannot read /proc/\(pid)/maps: Permission denied, so whether it runs the recorder is unknown; only "
            + "its own user or root may ask it\n")
        #expect(sleeper.isRunning)
    }

    /// `heapdiff run … &` then `heapdiff snapshot $!`: $! is heapdiff's own pid,
    /// which stands for the program it runs.
    @Test func snapshotOfHeapdiffRunAsksTheProgramItRuns() throws {
        let dir = try Harness.temporaryDirectory("snaprun")
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try BackgroundProgram(Harness.cli, arguments: ["run", "-o", out.path, "--", exe], environment: [:],
                                        preload: false)
        try run.waitUntilReady()
        let pid = try #require(run.programPID)
        #expect(pid != run.pid)
        let result = try Harness.run(Harness.cli, arguments: ["snapshot", String(run.pid), "--label", "via-run"],
                                     preload: false)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "heapdiff: process \(run.pid) is heapdiff itself; asking the program it runs, "
            + "process \(pid) (waiter)\n")
        let snapshot = try Snapshot.load(path: result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(snapshot.process.pid == UInt32(pid) && snapshot.process.label == "via-run")
        // attach $! is refused before anything is stopped: the program is recorded already.
        let attach = try Harness.run(Harness.cli, arguments: ["attach", String(run.pid), "--duration", "1"], preload: false)
        #expect(attach.status == 1)
        #expect(attach.stderr == "heapdiff: error: process \(run.pid) is heapdiff itself; the program it runs, process "
            + "\(pid) (waiter), already runs under heapdiff: use `heapdiff snapshot \(pid)`\n")
        #expect(run.finish() == 0, "\(run.stderr)")
    }

    /// Another launcher (a shell) is not taken for its child: the error names the child to ask.
    @Test func snapshotOfALauncherNamesItsTracedChild() throws {
        let dir = try Harness.temporaryDirectory("snapsh")
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("out")
        let shell = try BackgroundProgram("/bin/sh", arguments: ["-c", "LD_PRELOAD=\(Harness.library) "
                                            + "HEAPDIFF_OUTPUT=\(out.path) \(exe); true"], environment: [:], preload: false)
        try shell.waitUntilReady()
        let pid = try #require(shell.programPID)
        let result = try Harness.run(Harness.cli, arguments: ["snapshot", String(shell.pid)], preload: false)
        #expect(result.status != 0)
        #expect(result.stderr.hasSuffix("process \(shell.pid) is not running under heapdiff (no libheapdiff.so in "
            + "/proc/\(shell.pid)/maps); its child \(pid) (waiter) is: heapdiff snapshot \(pid)\n"), "\(result.stderr)")
        #expect(try Harness.snapshotFiles(in: out).isEmpty)   // nothing was asked
        #expect(shell.finish() == 0, "\(shell.stderr)")
    }

    @Test(arguments: ["empty", "truncated", "version", "garbage", "missing"])
    func badSnapshotFilesGetOneLineErrors(kind: String) throws {
        let dir = try Harness.temporaryDirectory("bad")
        let exe = try Harness.build("exact_counts", in: dir)
        let out = dir.appendingPathComponent("out")
        _ = try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        let good = try #require(try Harness.snapshotFiles(in: out).first)
        let bad = dir.appendingPathComponent("bad.heapsnap")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let expectation: String
        switch kind {
        case "empty": bytes = Data(); expectation = "empty"
        case "truncated": bytes = bytes.prefix(bytes.count - 9); expectation = "truncated"
        case "version": bytes[8] = 9; expectation = "version 9"
        case "garbage": bytes = Data("not a snapshot at all, just text\n".utf8); expectation = "not a heapdiff snapshot"
        default: expectation = "cannot open"
        }
        if kind != "missing" { try bytes.write(to: bad) }
        let result = try Harness.run(Harness.cli, arguments: ["top", bad.path], preload: false)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.contains(bad.path) == true || lines.first?.contains("bad.heapsnap") == true)
        #expect(lines.first?.contains(expectation) == true, "\(result.stderr)")
    }

    @Test func checkFailsOnAGrowingSiteAndNamesIt() throws {
        let dir = try Harness.temporaryDirectory("check")
        let exe = try Harness.build("leaky_service", in: dir)
        // Two phase snapshots and no warm-up: "warm" vs "later".
        let result = try Harness.run(Harness.cli, arguments: ["check", "--warmup-snapshots", "0", "--format", "json",
                                                            "--", exe], preload: false)
        #expect(result.status == 1, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(json["passed"] as? Bool == false)
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        #expect(findings.first?["line"] as? Int == (try Harness.line(of: "cache", in: "leaky_service.c")))
        #expect(findings.first?["size_diff"] as? Int == 1_000 * 504)
        #expect(findings.first?["count_diff"] as? Int == 1_000)
        #expect(findings.first?["sizes"] as? [Int] == [100 * 504, 1_100 * 504])
    }

    @Test func checkPassesWhenNothingKeepsGrowing() throws {
        let dir = try Harness.temporaryDirectory("checkpass")
        let exe = try Harness.build("exact_counts", in: dir)
        // before -> after grows 60 KB at one line; a per-site limit above it passes.
        let pass = try Harness.run(Harness.cli, arguments: ["check", "--warmup-snapshots", "0",
                                                          "--max-growth-per-site", "64KiB", "--", exe], preload: false)
        #expect(pass.status == 0, "\(pass.stderr)")
        #expect(pass.stderr.contains("heapdiff check: passed"))
        let fail = try Harness.run(Harness.cli, arguments: ["check", "--warmup-snapshots", "0",
                                                          "--max-growth-per-site", "50KiB", "--", exe], preload: false)
        #expect(fail.status == 1)
        #expect(fail.stderr.contains("exact_counts.c:\(try Harness.line(of: "hundred", in: "exact_counts.c")): grew +58.6 KiB (+600 blocks)"))
        // The whole heap may be limited too.
        let total = try Harness.run(Harness.cli, arguments: ["check", "--warmup-snapshots", "0",
                                                           "--max-growth-per-site", "1MiB", "--max-growth", "10K",
                                                           "--", exe], preload: false)
        #expect(total.status == 1)
        #expect(total.stderr.contains("the heap grew past 10.0 KiB"))
    }

    @Test func checkReportsAFailingProgramDistinctly() throws {
        let dir = try Harness.temporaryDirectory("checkfail")
        let exe = try Harness.build("passthrough", in: dir)
        let result = try Harness.run(Harness.cli, arguments: ["check", "--", exe], preload: false)
        #expect(result.status == 3)
        #expect(result.stderr.contains("exited with status 3"))
        // One phase snapshot plus the exit one, which is not a phase: nothing spans the workload.
        let few = try Harness.run(Harness.cli, arguments: ["check", "--", try Harness.build("threads", in: dir)],
                                  preload: false)
        #expect(few.status == 2)
        #expect(few.stderr.hasPrefix("heapdiff: error: threads (pid "), "\(few.stderr)")
        #expect(few.stderr.contains(") took 1 snapshot of its own, so no comparison spans its workload (its exit snapshot "
            + "is not a phase): take one snapshot after warm-up and one after the load, with heapdiff_snapshot() or "
            + "--interval; snapshots are in "))
        #expect(few.stderr.split(separator: "\n").count == 1)
    }

    @Test func snapshotsOfTwoRunsDiffDespiteDifferentAddressLayouts() throws {
        let dir = try Harness.temporaryDirectory("aslr")
        let exe = try Harness.build("leaky_service", in: dir)
        let first = dir.appendingPathComponent("first"), second = dir.appendingPathComponent("second")
        #expect(try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": first.path]).status == 0)
        #expect(try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": second.path]).status == 0)
        let old = try Snapshot.load(path: try Harness.snapshotFiles(in: first)[0])        // run 1, "warm"
        let new = try Snapshot.load(path: try Harness.snapshotFiles(in: second)[1])       // run 2, "later"
        // PIE and ASLR: the program is mapped at different addresses in the two runs.
        #expect(old.modules.first?.loadBias != new.modules.first?.loadBias)
        let growth = new.compare(to: old, by: .lineno, symbolizer: Symbolizer())
        let top = try #require(growth.first)
        #expect(top.site.line == (try Harness.line(of: "cache", in: "leaky_service.c")))
        #expect(top.sizeDiff == 1_000 * 504 && top.countDiff == 1_000)
        // The scratch buffer line exists in both and did not change: no row.
        let scratch = try Harness.line(of: "scratch", in: "leaky_service.c")
        #expect(!growth.contains { $0.site.line == scratch })
    }

    @Test func trendTellsALeakFromAWarmUpPlateau() throws {
        let dir = try Harness.temporaryDirectory("trend")
        let exe = try Harness.build("warmup_and_leak", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(Harness.cli, arguments: ["run", "--interval", "0.1", "--output", out.path, "--", exe],
                                  preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("trend over "))
        let trend = try Harness.run(Harness.cli, arguments: ["trend", out.path, "--format", "json"], preload: false)
        #expect(trend.status == 0, "\(trend.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: trend.stdout) as? [String: Any])
        let sites = try #require(json["sites"] as? [[String: Any]])
        #expect(sites.count == 2)
        let verdicts = sites.map { (($0["series"] as? [String: Any])?["verdict"] as? String) ?? "" }
        #expect(sites.map { $0["line"] as? Int } == [try Harness.line(of: "log", in: "warmup_and_leak.c"),
                                                     try Harness.line(of: "cache", in: "warmup_and_leak.c")])
        #expect(verdicts == ["steady growth", "plateau"])
        // A first-vs-last diff ranks the warmed-up cache first: the trend is what tells them apart.
        let files = try Harness.snapshotFiles(in: out)
        let diff = try Harness.run(Harness.cli, arguments: ["diff", files[0], files[files.count - 1], "--format", "json"],
                                   preload: false)
        let rows = try #require((try JSONSerialization.jsonObject(with: diff.stdout) as? [String: Any])?["statistics"] as? [[String: Any]])
        #expect(rows.first?["line"] as? Int == (try Harness.line(of: "cache", in: "warmup_and_leak.c")))
    }

    @Test func longSeriesShowAProgressBarOnATerminalOnly() throws {
        let dir = try Harness.temporaryDirectory("progress")
        let exe = try Harness.build("warmup_and_leak", in: dir)
        let out = dir.appendingPathComponent("out")
        _ = try Harness.run(Harness.cli, arguments: ["run", "--interval", "0.04", "--output", out.path, "--", exe],
                            preload: false)
        let count = try Harness.snapshotFiles(in: out).count
        try #require(count >= 20, "only \(count) snapshots")
        // script(1) gives heapdiff a terminal; a plain run gives it a pipe.
        let onTerminal = try Harness.run("/usr/bin/script", arguments: ["-qec", "\(Harness.cli) trend \(out.path)", "/dev/null"],
                                         preload: false)
        #expect(onTerminal.status == 0)
        #expect(onTerminal.stdoutText.contains("heapdiff: analyzing snapshots ["))
        #expect(onTerminal.stdoutText.contains("/\(count)"))
        let piped = try Harness.run(Harness.cli, arguments: ["trend", out.path], preload: false)
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("snapshots ["))
        #expect(piped.stdoutText.contains("steady growth"))
    }
}
