import Foundation
import HeapDiffKit
import Testing

/// What a run's directory holds and what `run`'s summary covers: the
/// program's series (across a launcher's exec), the workers that took
/// snapshots, helpers' exit snapshots out of the way; and one judgement of a
/// Python series that ends in the interpreter's teardown by check, trend and run.
@Suite struct RunDirectoryTests {
    static var shown: PathDisplay { PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath) }

    static func names(in dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    /// A launcher (runuser, sudo -u) whose heap did not change while a
    /// process it started grew: one line, and the growth comes first.
    @Test func anUnchangedLauncherStepsAsideForWhatGrew() throws {
        let dir = try Harness.temporaryDirectory("launcher")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("workers", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--", exe, "launcher"], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        let pids = run.stdoutText.split(separator: "\n").map(String.init)
        try #require(pids.count == 4)
        let parent = try Snapshot.load(path: try Harness.snapshotFiles(in: out)[0]).process.pid
        let lines = run.stderr.split(separator: "\n").map(String.init)
        let shownOut = Self.shown.show(out.path)
        let pattern = try Regex("heapdiff: 2 snapshots of workers \\(pid \(parent)\\) in \(NSRegularExpression.escapedPattern(for: shownOut))/: "
            + "its traced heap did not change \\([0-9.]+ (B|KiB) in [0-9]+ blocks\\); process \(pids[1]) grew:")
        #expect(lines.first?.wholeMatch(of: pattern) != nil, "\(run.stderr)")
        #expect(!run.stderr.contains("snapshots in \(shownOut)/: workers.\(parent)"), "\(run.stderr)")
        #expect(lines.contains { $0.hasPrefix("heapdiff: growth in process \(pids[1]), which grew most") }, "\(run.stderr)")
    }

    @Test func workersAreSummarizedAndHelpersStepAside() throws {
        let dir = try Harness.temporaryDirectory("workers")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("workers", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--", exe], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        let pids = run.stdoutText.split(separator: "\n").map(String.init)
        try #require(pids.count == 4)
        let (parent, worker1, worker2) = (try Snapshot.load(path: try Harness.snapshotFiles(in: out)[0]).process.pid,
                                          pids[0], pids[1])
        // The program's exit snapshot and its workers' files stay, even the exit snapshot of the worker
        // that took none of its own; the executed helper's moves to helpers/.
        #expect(try Self.names(in: out) == (["helpers", "workers.\(parent).1.heapsnap", "workers.\(pids[2]).1.heapsnap"]
            + [worker1, worker2].flatMap { pid in (1...3).map { "workers.\(pid).\($0).heapsnap" } }).sorted())
        #expect(try Self.names(in: out.appendingPathComponent("helpers")) == ["true.\(pids[3]).1.heapsnap"])

        let lines = run.stderr.split(separator: "\n").map(String.init)
        let shownOut = Self.shown.show(out.path)
        #expect(lines.contains("heapdiff: 1 more process (workers) left only an exit snapshot in \(Self.shown.show(out.path))/; "
            + "`heapdiff snapshot PID` or --interval takes snapshots of workers while they serve"), "\(run.stderr)")
        let header = try #require(lines.firstIndex {
            $0 == "heapdiff: 2 more processes took snapshots of their own in \(shownOut)/; their traced heap, most growth first:"
        }, "\(run.stderr)")
        #expect(Array(lines[(header + 1)...(header + 2)]) == [
            // Their two own snapshots: each exit snapshot (the third file) is left out.
            "  process \(worker2) (workers): +125 KiB over 2 snapshots (workers.\(worker2).1.heapsnap … workers.\(worker2).2.heapsnap)",
            "  process \(worker1) (workers): +62.5 KiB over 2 snapshots (workers.\(worker1).1.heapsnap … workers.\(worker1).2.heapsnap)",
        ])
        #expect(lines[header + 3]
            == "heapdiff: growth in process \(worker2), which grew most, from workers.\(worker2).1.heapsnap to workers.\(worker2).2.heapsnap "
            + "(the exit snapshot, taken after destructors ran, is left out):")
        let source = Self.shown.show(Harness.programsDirectory.appendingPathComponent("workers.c").path)
        #expect(lines[header + 4].hasPrefix("\(source):\(try Harness.line(of: "load", in: "workers.c")): size=125 KiB (+125 KiB), count=1000 (+1000)"),
                "\(lines[header + 4])")
        #expect(lines.last == "heapdiff: 1 exit snapshot of a helper that took none of its own (true) is in \(shownOut)/helpers/")

        // HEAPDIFF_FOLLOW_CHILDREN=all keeps every file beside the program's.
        let all = dir.appendingPathComponent("all")
        let kept = try Harness.run(Harness.cli, arguments: ["run", "-o", all.path, "--", exe],
                                   environment: ["HEAPDIFF_FOLLOW_CHILDREN": "all"], preload: false)
        #expect(kept.status == 0)
        let keptPids = kept.stdoutText.split(separator: "\n").map(String.init)
        let keptNames = try Self.names(in: all)
        #expect(keptNames.count == 1 + 3 + 3 + 1 + 1 && !keptNames.contains("helpers"), "\(keptNames)")
        #expect(keptNames.contains("true.\(keptPids[3]).1.heapsnap") && keptNames.contains("workers.\(keptPids[2]).1.heapsnap"))

        // Preloaded by hand, without heapdiff to say who the program is: every file in one place, as before.
        let byHand = dir.appendingPathComponent("byhand")
        #expect(try Harness.run(exe, environment: ["HEAPDIFF_OUTPUT": byHand.path]).status == 0)
        #expect(try Self.names(in: byHand).count == 9)
    }

    /// A program killed by a signal it left to its default action writes no
    /// snapshot (vsftpd by SIGTERM), so its start time is unknown: its forked
    /// worker is told from a launcher's subshell by the executable they share.
    @Test func aKilledProgramsWorkerComesBackFromHelpers() throws {
        let dir = try Harness.temporaryDirectory("killed-worker")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("killed_with_worker", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try BackgroundProgram(Harness.cli, arguments: ["run", "-o", out.path, "--", exe], environment: [:],
                                        preload: false)
        try run.waitUntilReady()
        let worker = try #require(run.stdout.split(separator: "\n").first.flatMap { Int32($0.dropFirst("worker ".count)) })
        let children = (try? String(contentsOfFile: "/proc/\(run.pid)/task/\(run.pid)/children", encoding: .utf8)) ?? ""
        let program = try #require(children.split(separator: " ").compactMap { Int32($0) }.first)
        kill(program, SIGKILL)
        _ = run.waitForExit()
        let file = "killed_with_worker.\(worker).1.heapsnap"
        #expect(try Self.names(in: out) == [file], "\(run.stderr)")
        let snapshot = try Snapshot.load(path: out.appendingPathComponent(file).path)
        #expect(snapshot.process.ppid == UInt32(program))
        let site = try Harness.statistic("worker", in: "killed_with_worker.c", of: snapshot, symbolizer: Symbolizer())
        #expect(site?.count == 50 && site?.size == 20_000)
    }

    /// A launcher that runs the real work as a child (`sh -c 'a; b'`,
    /// `fakeroot`) leaves that child's exit snapshot among the helpers: the
    /// summary names the helpers largest heap first and points at the largest.
    @Test func theLargestHelperIsPointedAt() throws {
        let dir = try Harness.temporaryDirectory("largest-helper")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("holds_at_exit", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--", "/bin/sh", "-c",
                                                           "/bin/true; \(exe); true"], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        let helpers = out.appendingPathComponent("helpers")
        let file = try #require(try Self.names(in: helpers).first { $0.hasPrefix("holds_at_exit.") })
        let pid = try #require(SnapshotFileName(file)?.pid)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        let shown = Self.shown.show(helpers.path)
        #expect(lines.suffix(2) == [
            "heapdiff: 2 exit snapshots of helpers that took none of their own (holds_at_exit, true) are in \(shown)/",
            "heapdiff: the largest, holds_at_exit (pid \(pid)), held 195 KiB when it ended: `heapdiff top \(shown)/\(file)`",
        ], "\(run.stderr)")
        let snapshot = try Snapshot.load(path: helpers.appendingPathComponent(file).path)
        let site = try Harness.statistic("held", in: "holds_at_exit.c", of: snapshot, symbolizer: Symbolizer())
        #expect(site?.count == 200 && site?.size == 200_000)
    }

    /// A relative HEAPDIFF_OUTPUT, preloaded by hand, means the directory it
    /// named where the first process started: a process that changes
    /// directory and then executes another program (`cd / && exec …`) writes
    /// there too, not into a directory of that name under its new one.
    /// A program that executes itself again in its pid (haproxy's reload)
    /// starts recording anew under the same file names: its files go on
    /// past the earlier image's SEQs instead of replacing them, and the
    /// series the commands read is the last image's.
    /// As root, also after switching to user nobody, who cannot list the
    /// directory (1733) and finds a free name by trying them.
    @Test(arguments: ["", "as-nobody"])
    func aProgramExecutingItselfAgainKeepsItsEarlierFiles(mode: String) throws {
        if mode == "as-nobody" && geteuid() != 0 { return }
        let dir = try Harness.temporaryDirectory("reexec")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("reexec", in: dir)
        // nobody must reach the program through the temporary directory.
        _ = chmod(dir.path, 0o755)
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--", exe] + (mode.isEmpty ? [] : [mode]),
                                  preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        let files = try Harness.snapshotFiles(in: out)
        let snapshots = try files.map { try Snapshot.load(path: $0) }
        let pid = try #require(snapshots.first?.process.pid)
        #expect(try Self.names(in: out) == (1...6).map { "reexec.\(pid).\($0).heapsnap" }.sorted())
        let bySeq = snapshots.sorted { $0.process.seq < $1.process.seq }
        #expect(bySeq.map(\.process.label) == ["first image", "first image", "second image", "second image",
                                                "second image", ""])
        #expect(bySeq.last?.process.trigger == .exit)
        let symbolizer = Symbolizer()
        let kept = try bySeq.map { try Harness.statistic("kept", in: "reexec.c", of: $0, symbolizer: symbolizer) }
        #expect(kept.map { $0?.count } == [10, 20, 20, 40, 60, 60])
        #expect(kept.map { $0?.size } == [3_000, 6_000, 14_000, 28_000, 42_000, 42_000])

        let series = try SnapshotSeries.load(directory: out.path, pid: Int32(pid))
        #expect(series.members.map(\.process.seq) == [3, 4, 5, 6])
        let shownOut = Self.shown.show(out.path)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(2)) == [
            "heapdiff: 2 earlier snapshots of pid \(pid) in \(shownOut)/ are of the program before it executed itself "
                + "again, and left out; `heapdiff diff` compares them",
            "heapdiff: 4 snapshots in \(shownOut)/: reexec.\(pid).3.heapsnap … reexec.\(pid).6.heapsnap"],
                "\(run.stderr)")

        let across = try Harness.run(Harness.cli, arguments: ["trend", files[0], files[2], files[3]], preload: false)
        #expect(across.status != 0)
        #expect(across.stderr == "heapdiff: error: \(files[0]) and \(files[2]) are of process \(pid) before and after "
            + "its recording began anew (it executed a program again, or was attached again); a trend follows one recording\n")
    }

    /// A program run as root that starts helpers as two other users (as
    /// dovecot's master starts imap-login as dovenull and imap as the mail
    /// user): the first helper to end made helpers/ its own (0700), and every
    /// helper of another user then lost its exit snapshot ("could not write a
    /// snapshot: cannot use …/helpers: Operation not permitted"). The
    /// program makes it at its start, root's and shared; a run whose helpers
    /// leave nothing there does not keep it.
    @Test func helpersOfOtherUsersAllKeepTheirExitSnapshots() throws {
        if geteuid() != 0 { return }
        let dir = try Harness.temporaryDirectory("helper-users")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("helpers_of_two_users", in: dir)
        _ = chmod(dir.path, 0o755)   // the helpers execute the program as other users
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--", exe], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("could not write"), "\(run.stderr)")
        let pids = run.stdoutText.split(separator: "\n").map(String.init)
        try #require(pids.count == 2, "\(run.stdoutText)")
        let helpers = out.appendingPathComponent("helpers")
        #expect(try Self.names(in: helpers) == pids.map { "helpers_of_two_users.\($0).1.heapsnap" }.sorted())
        let owners = try pids.map { pid in
            try FileManager.default.attributesOfItem(atPath: helpers.appendingPathComponent(
                "helpers_of_two_users.\(pid).1.heapsnap").path)[.ownerAccountID] as? Int
        }
        #expect(owners == [65534, 65533])
        let symbolizer = Symbolizer()
        for pid in pids {
            let snapshot = try Snapshot.load(path: helpers.appendingPathComponent("helpers_of_two_users.\(pid).1.heapsnap").path)
            let site = try Harness.statistic("helper", in: "helpers_of_two_users.c", of: snapshot, symbolizer: symbolizer)
            #expect(site?.count == 1 && site?.size == 100)
        }

        // A program that starts no helper: no helpers/ left behind.
        let alone = try Harness.build("plain_leak_c", in: dir)
        let quiet = dir.appendingPathComponent("quiet")
        let single = try Harness.run(Harness.cli, arguments: ["run", "-o", quiet.path, "--", alone], preload: false)
        #expect(single.status == 0, "\(single.stderr)")
        #expect(try !Self.names(in: quiet).contains("helpers"))
    }

    /// The loader ignores LD_PRELOAD's paths in a program started while the
    /// real and effective user differ (squid's kids, started with real user
    /// proxy and effective user root, ran without the recorder, and nothing
    /// said so): named, as an environment that leaves the recorder out is.
    @Test(.enabled(if: geteuid() == 0, "needs root: the child keeps root as its effective user only"))
    func aProgramStartedInSecureExecutionModeIsNamed() throws {
        let dir = try Harness.temporaryDirectory("secure-exec")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("secure_exec", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--", exe], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("heapdiff: warning: secure_exec started /proc/self/exe in secure-execution mode "
            + "(real user 65534, effective user 0), where the loader ignores LD_PRELOAD: it ran without the recorder; "
            + "`heapdiff attach PID` records it while it runs\n"),
                "\(run.stderr)")
        // Only the program's own snapshot: the child was not recorded.
        let pids = Set(try Harness.snapshotFiles(in: out).compactMap {
            SnapshotFileName(URL(fileURLWithPath: $0).lastPathComponent)?.pid
        })
        #expect(pids.count == 1, "\(pids)")
    }

    /// A program that starts others with an environment of its own is told
    /// of where that leaves the recorder out (postfix's master keeps only its
    /// import_environment), once for each program and set of variables,
    /// whichever call started it; where the recorder stays but the settings
    /// do not (lighttpd passes LD_PRELOAD on to CGI programs), they are passed
    /// on, so that it records into the run's directory, not the program's own.
    @Test func programsStartedWithoutTheRecordersEnvironmentAreNamed() throws {
        let dir = try Harness.temporaryDirectory("exec-env")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("exec_env", in: dir)
        let out = dir.appendingPathComponent("out")
        let crowded = dir.appendingPathComponent("crowded")
        try FileManager.default.createDirectory(at: crowded, withIntermediateDirectories: false)
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--interval", "10", "--", exe,
                                                           crowded.path], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(String(decoding: run.stdout, as: UTF8.self) == "10\n\(out.path)\nspawned\nsystem\npopen\n")
        let warnings = run.stderr.split(separator: "\n").map(String.init).filter { $0.contains(" started ") }
        #expect(warnings == [
            "heapdiff: warning: exec_env started /bin/true, /usr/bin/true, /bin/echo with an environment that leaves "
                + "out LD_PRELOAD, HEAPDIFF_OUTPUT, HEAPDIFF_INTERVAL, HEAPDIFF_REPORT, HEAPDIFF_PROGRAM_PARENT: they ran "
                + "without the recorder; a program that cleans the environment of what it starts must be told to pass "
                + "them on (postfix, dovecot: import_environment; Apache: PassEnv)",
            "heapdiff: warning: exec_env started /bin/true with an environment that leaves out HEAPDIFF_OUTPUT, "
                + "HEAPDIFF_INTERVAL, HEAPDIFF_REPORT, HEAPDIFF_PROGRAM_PARENT: the recorder in it wrote its snapshots "
                + "into its working directory; a program that cleans the environment of what it starts must be told "
                + "to pass them on (postfix, dovecot: import_environment; Apache: PassEnv)",
            "heapdiff: warning: exec_env started sh -c 'echo system' with an environment that leaves out LD_PRELOAD: "
                + "it ran without the recorder; a program that cleans the environment of what it starts must be told "
                + "to pass it on (postfix, dovecot: import_environment; Apache: PassEnv)",
            "heapdiff: warning: exec_env started sh -c 'echo popen' with an environment that leaves out "
                + "HEAPDIFF_INTERVAL: the recorder in it ran without that setting; a program that cleans the "
                + "environment of what it starts must be told to pass it on (postfix, dovecot: import_environment; Apache: PassEnv)",
        ], "\(run.stderr)")
        // Too crowded an environment (600 entries) gets nothing added: its recorder wrote where the line says.
        let strays = try FileManager.default.contentsOfDirectory(atPath: crowded.path)
        #expect(strays.count == 1 && strays[0].hasPrefix("true."), "\(strays)")
        // Both printenv processes recorded into the run's directory (helpers/, as processes that took no snapshot).
        let helpers = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("helpers").path)
        #expect(helpers.filter { $0.hasPrefix("printenv.") }.count == 2, "\(helpers)")
    }

    /// A harness in the program that runs heapdiff itself without the
    /// recorder (pytest-heapdiff's `heapdiff check --snapshots`) does so on
    /// purpose: no warning for it, while another program started so is named.
    @Test func heapdiffItselfStartedWithoutTheRecorderIsNotWarnedOf() throws {
        let dir = try Harness.temporaryDirectory("exec-self")
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = "env -u LD_PRELOAD \"$HEAPDIFF_CLI\" --version >/dev/null; env -u LD_PRELOAD /bin/true"
        let run = try Harness.run(Harness.cli, arguments: ["run", "--quiet", "-o", dir.appendingPathComponent("out").path,
                                                           "--", "/bin/sh", "-c", script], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        let warnings = run.stderr.split(separator: "\n").map(String.init).filter { $0.contains(" started ") }
        #expect(warnings == [
            "heapdiff: warning: env started /bin/true with an environment that leaves out LD_PRELOAD: it ran without "
                + "the recorder; a program that cleans the environment of what it starts must be told to pass it on "
                + "(postfix, dovecot: import_environment; Apache: PassEnv)",
        ], "\(run.stderr)")
    }

    @Test func aRelativeOutputDirectoryHoldsForProcessesStartedElsewhere() throws {
        let dir = try Harness.temporaryDirectory("relative-output")
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = "heapdiff-relative-\(UUID().uuidString)"
        let elsewhere = URL(fileURLWithPath: "/tmp").appendingPathComponent(name)
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let script = "cd \"$1\" && HEAPDIFF_OUTPUT=\"$2\" LD_PRELOAD=\"$3\" /bin/sh -c 'cd /tmp && exec /bin/true'"
        let result = try Harness.run("/bin/sh", arguments: ["-c", script, "sh", dir.path, name, Harness.library],
                                     preload: false)
        #expect(result.status == 0, "\(result.stderr)")
        let names = try Self.names(in: dir.appendingPathComponent(name))
        #expect(names.count == 1 && names.first?.hasPrefix("true.") == true, "\(names)")
        #expect(!FileManager.default.fileExists(atPath: elsewhere.path))
    }

    /// pyenv's `python3` is a bash script that runs helpers (bash, readlink,
    /// basename) and executes the interpreter in its own pid: the directory
    /// holds the interpreter's series, and run and check find it.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/root/.pyenv/shims/python3"), "pyenv is not installed"))
    func pyenvShimHelpersDoNotBuryTheProgram() throws {
        let dir = try Harness.temporaryDirectory("pyenv")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let script = Harness.programsDirectory.appendingPathComponent("python/plain_leak.py").path
        let env = ["PYENV_VERSION": "3.11.7"]
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--", "/root/.pyenv/shims/python3", script],
                                  environment: env, preload: false, timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let names = try Self.names(in: out)
        let pid = try #require(names.compactMap(SnapshotFileName.init).first?.pid)
        #expect(names == ["helpers"] + (1...3).map { "python3.\(pid).\($0).heapsnap" }, "\(names)")
        let helpers = try Self.names(in: out.appendingPathComponent("helpers")).compactMap(SnapshotFileName.init)
        #expect(helpers.count > 5 && helpers.contains { $0.program == "bash" }, "\(helpers)")
        #expect(run.stderr.contains("heapdiff: growth from python3.\(pid).1.heapsnap to python3.\(pid).2.heapsnap "
            + "(later ones were taken as Python finalized):"), "\(run.stderr)")
        let check = try Harness.run(Harness.cli, arguments: ["check", "--", "/root/.pyenv/shims/python3", script],
                                    environment: env, preload: false, timeout: 300)
        #expect(check.status == 1, "\(check.stderr)")
        #expect(check.stderr.hasPrefix(Self.shown.show(script) + ":\(try PythonTests.line(of: "body", in: "plain_leak.py")): grew +1009 KiB (+1000 blocks)"),
                "\(check.stderr.prefix(300))")
    }

    /// A Python program's snapshots end with the teardown's exit snapshot;
    /// check, trend and run's summary leave it out alike, on a CPython whose
    /// frames are read (3.11) and on one whose are not (3.7, older than any the recorder reads).
    @Test(arguments: ["/usr/bin/python3.11", "/root/.pyenv/versions/3.7.16/bin/python3.7"])
    func aTeardownSeriesIsJudgedAlike(_ interpreter: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: interpreter))
        let dir = try Harness.temporaryDirectory("teardown")
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = Harness.programsDirectory.appendingPathComponent("python/plain_leak.py").path
        let framesRead = !interpreter.hasSuffix("3.7")
        let bodyLine = try PythonTests.line(of: "body", in: "plain_leak.py")
        // Where each judgement must name the leak: the Python line, or without frames CPython's object
        // allocator, which 3.7 reaches through its own wrapper (one more block of it is live), under
        // the directory pyenv built it in (its DWARF names it relative to that: the first row says which).
        var site = framesRead ? "\(Self.shown.show(script)):\(bodyLine)" : ""
        let liveCount = framesRead ? 4100 : 4101

        // Four loads after warm-up: 5 own snapshots, then the teardown.
        let phases = dir.appendingPathComponent("phases")
        let run = try Harness.run(Harness.cli, arguments: ["run", "-o", phases.path, "--", interpreter, script, "phases"],
                                  preload: false, timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let files = try Harness.snapshotFiles(in: phases)
        #expect(try files.map { try Snapshot.load(path: $0).process.pythonFinalizing } == [false, false, false, false, false, true])
        let name = { (seq: Int) in URL(fileURLWithPath: files[seq - 1]).lastPathComponent }
        let lines = run.stderr.split(separator: "\n").map(String.init)
        let growth = try #require(lines.firstIndex { $0.hasPrefix("heapdiff: growth from") }, "\(run.stderr)")
        if !framesRead {
            let file = lines[growth + 1].prefix { $0 != ":" }
            #expect(file.hasPrefix("/") && file.hasSuffix("/Python-3.7.16/Objects/obmalloc.c"), "\(lines[growth + 1])")
            site = file + ":"
        }
        #expect(lines[growth] == "heapdiff: growth from \(name(1)) to \(name(5)) (later ones were taken as Python finalized):")
        #expect(lines[growth + 1].hasPrefix(site) && lines[growth + 1].contains("(+4035 KiB), count=\(liveCount) (+4000)"),
                "\(lines[growth + 1])")
        let trendLine = try #require(lines.firstIndex { $0.hasPrefix("heapdiff: trend over ") })
        #expect(lines[trendLine].hasPrefix("heapdiff: trend over 5 snapshots"))
        #expect(lines[trendLine + 1].hasSuffix("steady growth"), "\(lines[trendLine + 1])")
        #expect(lines[trendLine + 4].contains("steady growth") && lines[trendLine + 4].contains(site), "\(lines[trendLine + 4])")

        let trend = try Harness.run(Harness.cli, arguments: ["trend", phases.path, "--by-index", "--format", "json"],
                                    preload: false)
        #expect(trend.status == 0, "\(trend.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: trend.stdout) as? [String: Any])
        #expect((json["snapshots"] as? [Any])?.count == 5)
        let first = try #require((json["sites"] as? [[String: Any]])?.first)
        #expect((first["series"] as? [String: Any])?["verdict"] as? String == "steady growth")
        if framesRead { #expect(first["line"] as? Int == bodyLine && first["file"] as? String == script) }

        let check = try Harness.run(Harness.cli, arguments: ["check", "--", interpreter, script, "phases"],
                                    preload: false, timeout: 300)
        #expect(check.status == 1)
        #expect(check.stderr.split(separator: "\n").first { !$0.contains("warning:") }?.hasPrefix(site) == true
                && check.stderr.contains(": grew +3026 KiB (+3000 blocks)"), "\(check.stderr.prefix(300))")

        // The plain pattern: two own snapshots. run diffs them and fits no trend; trend says why.
        let plain = dir.appendingPathComponent("plain")
        let plainRun = try Harness.run(Harness.cli, arguments: ["run", "-o", plain.path, "--", interpreter, script],
                                       preload: false, timeout: 300)
        let plainFiles = try Harness.snapshotFiles(in: plain).map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(plainRun.stderr.contains("heapdiff: growth from \(plainFiles[0]) to \(plainFiles[1]) (later ones were taken as Python finalized):\n\(site)"),
                "\(plainRun.stderr)")
        #expect(!plainRun.stderr.contains("trend over") && !plainRun.stderr.contains("shrinking"))
        let plainTrend = try Harness.run(Harness.cli, arguments: ["trend", plain.path], preload: false)
        #expect(plainTrend.status == 2)
        #expect(plainTrend.stderr == "heapdiff: error: a trend needs at least 3 snapshots of one process, not 2 "
            + "(and 1 taken as Python finalized, which show its teardown)\n")
    }
}
