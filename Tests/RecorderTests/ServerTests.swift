import Foundation
import HeapDiffKit
import Testing

/// Real servers under `heapdiff run`: `heapdiff snapshot` reaches them over
/// the control socket without sending a signal they may own, forked workers
/// answer for themselves, workers that switch user keep writing, and programs
/// that live under /usr/lib are charged to their own functions.
@Suite struct ServerTests {
    let symbolizer = Symbolizer()

    /// `heapdiff snapshot PID [--label L]`: the path it printed, or its error.
    static func requestSnapshot(_ pid: Int32, label: String? = nil) throws -> Result<String, Harness.Failure> {
        let result = try Harness.run(Harness.cli, arguments: ["snapshot", String(pid)] + (label.map { ["--label", $0] } ?? []),
                                     preload: false, timeout: 30)
        guard result.status == 0 else {
            return .failure(Harness.Failure(description: "heapdiff snapshot \(pid): status \(result.status): \(result.stderr)"))
        }
        return .success(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The processes whose parent is `pid`, from /proc.
    static func children(of pid: Int32) -> Set<Int32> {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return Set(entries.compactMap { entry -> Int32? in
            guard let child = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid ? child : nil
        })
    }

    /// The lines `ROLE=PID` a worker_pool printed.
    static func pids(_ role: String, in stdout: String) -> [Int32] {
        stdout.split(separator: "\n").compactMap { $0.hasPrefix(role + "=") ? Int32($0.dropFirst(role.count + 1)) : nil }
    }

    @Test func snapshotReachesAProgramThatOwnsTheSignalAndRewritesItsEnvironment() throws {
        let dir = try Harness.temporaryDirectory("ownsignal")
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("out")
        // Default options: no --signal.
        let run = try BackgroundProgram(Harness.cli, arguments: ["run", "-o", out.path, "--", exe, "own-handler", "blank-environ"],
                                        environment: [:], preload: false)
        try run.waitUntilReady()
        let pid = try #require(run.programPID)
        let environ = try FileBytes.read(path: "/proc/\(pid)/environ")
        #expect(!String(decoding: environ, as: UTF8.self).contains("HEAPDIFF_OUTPUT"))   // the title overwrote it
        let path = try Self.requestSnapshot(pid, label: "busy").get()
        let snapshot = try Snapshot.load(path: path)
        #expect(snapshot.process.pid == UInt32(pid) && snapshot.process.label == "busy")
        #expect(try Harness.statistic("waiting", in: "waiter.c", of: snapshot, symbolizer: symbolizer)?.count == 40)
        #expect(run.finish() == 0, "\(run.stderr)")
        #expect(run.stdout.hasSuffix("handled=0\n"))   // the program's own handler never ran
    }

    @Test func forkedWorkersAnswerForThemselves() throws {
        let dir = try Harness.temporaryDirectory("workers")
        let exe = try Harness.build("worker_pool", in: dir)
        let out = dir.appendingPathComponent("out")
        let pool = try BackgroundProgram(exe, environment: ["HEAPDIFF_OUTPUT": out.path])
        try pool.waitUntilReady()
        let master = try #require(Self.pids("master", in: pool.stdout).first)
        let workers = Self.pids("worker", in: pool.stdout)
        #expect(workers.count == 2)
        let expected: [(pid: Int32, site: String, count: Int64)] = [(master, "master", 20)] + workers.map { ($0, "worker", 10) }
        for (pid, site, count) in expected {
            let snapshot = try Snapshot.load(path: try Self.requestSnapshot(pid).get())
            #expect(snapshot.process.pid == UInt32(pid))
            let statistic = try Harness.statistic(site, in: "worker_pool.c", of: snapshot, symbolizer: symbolizer)
            #expect(statistic?.count == count)
        }
        #expect(pool.finish() == 0, "\(pool.stderr)")
        for pid in [master] + workers {
            let files = try Harness.snapshotFiles(in: out).filter { $0.contains(".\(pid).") }
            #expect(files.count == 2, "\(pid): \(files)")   // the request's, then exit's
        }
    }

    /// A daemon closes every descriptor it did not open: the recorder makes a
    /// new control socket and finds its directory again by path.
    @Test func programsThatCloseEveryDescriptorStillAnswer() throws {
        let dir = try Harness.temporaryDirectory("closefds")
        let exe = try Harness.build("worker_pool", in: dir)
        let out = dir.appendingPathComponent("out")
        // Under `timeout`: Foundation takes a child that closes the descriptors
        // it inherited from Foundation for one that has ended.
        let pool = try BackgroundProgram("/usr/bin/timeout", arguments: ["120", exe, "workers=1", "close-fds"],
                                         environment: ["HEAPDIFF_OUTPUT": out.path])
        try pool.waitUntilReady()
        let master = try #require(Self.pids("master", in: pool.stdout).first)
        let requested = try Self.requestSnapshot(master)
        let snapshot = try Snapshot.load(path: try #require(try? requested.get(), "\(requested); \(pool.stderr)"))
        #expect(snapshot.process.pid == UInt32(master))
        #expect(pool.finish() == 0, "\(pool.stderr)")
        // Master and worker: the request's (master), then both exits.
        #expect(try Harness.snapshotFiles(in: out, program: "worker_pool").count == 3)
    }

    /// A process that confines itself with chroot (Postfix's smtpd, pickup
    /// and cleanup; vsftpd) no longer reaches /proc by path. Its snapshots,
    /// and those of a child it forks, still carry the executable's path (or
    /// none of its frames could be symbolized), the command line and RSS.
    @Test(.enabled(if: geteuid() == 0, "needs root: chroot"))
    func aProcessThatChrootsItselfIsStillSymbolized() throws {
        let dir = try Harness.temporaryDirectory("chroot")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("chroot_self", in: dir)
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: false)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(exe, arguments: [root.path], environment: ["HEAPDIFF_OUTPUT": out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let snapshots = try Harness.snapshotFiles(in: out).map { try Snapshot.load(path: $0) }
        let real = URL(fileURLWithPath: exe).resolvingSymlinksInPath().path
        var pids: Set<UInt32> = []
        for (label, count, size) in [("parent", Int64(200), Int64(200_000)), ("child", 100, 50_000)] {
            let snapshot = try #require(snapshots.first { $0.process.label == label }, "\(snapshots.map(\.process.label))")
            pids.insert(snapshot.process.pid)
            #expect(snapshot.process.program == real)
            #expect(snapshot.process.commandLine == [exe, root.path])
            #expect(snapshot.process.rss > 0)
            let site = try Harness.statistic(label, in: "chroot_self.c", of: snapshot, symbolizer: symbolizer)
            #expect(site?.count == count && site?.size == size, "\(label): \(String(describing: site))")
        }
        #expect(pids.count == 2)
    }

    /// A program in a pid namespace of its own (`unshare --pid --fork`, where
    /// its getpid() is 1) goes by the pid heapdiff sees: its files, its
    /// PROCESS record (the parent unshare, not 0) and `heapdiff snapshot PID`.
    @Test(.enabled(if: geteuid() == 0, "needs root: a pid namespace"))
    func aProgramInAPIDNamespaceOfItsOwnGoesByThePIDHeapdiffSees() throws {
        let dir = try Harness.temporaryDirectory("pidns")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("out")
        let unshare = try BackgroundProgram("/usr/bin/unshare", arguments: ["--pid", "--fork", exe],
                                            environment: ["HEAPDIFF_OUTPUT": out.path])
        try unshare.waitUntilReady()
        #expect(unshare.stdout.hasPrefix("pid=1\n"), "\(unshare.stdout)")
        let children = (try? String(contentsOfFile: "/proc/\(unshare.pid)/task/\(unshare.pid)/children", encoding: .utf8)) ?? ""
        let waiter = try #require(children.split(separator: " ").compactMap { Int32($0) }.first)
        let asked = try Harness.run(Harness.cli, arguments: ["snapshot", String(waiter), "--label", "inside"], preload: false)
        #expect(asked.status == 0, "\(asked.stderr)")
        #expect(asked.stdoutText == out.appendingPathComponent("waiter.\(waiter).1.heapsnap").path + "\n", "\(asked.stdoutText)")
        #expect(unshare.finish() == 0)
        let snapshot = try Snapshot.load(path: out.appendingPathComponent("waiter.\(waiter).1.heapsnap").path)
        #expect(snapshot.process.pid == UInt32(waiter) && snapshot.process.ppid == UInt32(unshare.pid))
        #expect(snapshot.process.label == "inside")
        #expect(try Harness.snapshotFiles(in: out, program: "waiter").count == 2)   // and its exit snapshot
    }

    @Test(.enabled(if: geteuid() == 0, "needs root: the workers switch to the user nobody"))
    func workersThatSwitchToNobodyKeepWriting() throws {
        let dir = try Harness.temporaryDirectory("nobody")
        // Nobody cannot even reach the output directory by its path.
        chmod(dir.path, 0o700)
        let exe = try Harness.build("worker_pool", in: dir)
        let out = dir.appendingPathComponent("out")
        let run = try BackgroundProgram(Harness.cli, arguments: ["run", "-o", out.path, "--", exe, "drop-user"],
                                        environment: [:], preload: false)
        try run.waitUntilReady()
        let workers = Self.pids("worker", in: run.stdout)
        #expect(workers.count == 2)
        let requested = try Self.requestSnapshot(try #require(workers.first)).get()
        #expect(run.finish() == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("could not write"), "\(run.stderr)")
        for pid in workers {
            let files = try Harness.snapshotFiles(in: out).filter { $0.contains(".\(pid).") }
            #expect(files.count == (pid == workers.first ? 2 : 1), "\(pid): \(files)")
            for file in files {
                let attributes = try FileManager.default.attributesOfItem(atPath: file)
                #expect(attributes[.ownerAccountID] as? Int == 65534)
                #expect(attributes[.posixPermissions] as? Int == 0o600)
                let snapshot = try Snapshot.load(path: file)
                #expect(try Harness.statistic("worker", in: "worker_pool.c", of: snapshot, symbolizer: symbolizer)?.count == 10)
            }
        }
        #expect(requested.hasSuffix(".\(workers[0]).1.heapsnap"))
    }

    @Test(.enabled(if: geteuid() == 0, "needs root: the workers switch to the user nobody"))
    func runNamesTheProcessesThatCouldNotWrite() throws {
        let dir = try Harness.temporaryDirectory("cannotwrite")
        let exe = try Harness.build("worker_pool", in: dir)
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])   // root's alone
        let run = try BackgroundProgram(Harness.cli, arguments: ["run", "-o", out.path, "--", exe, "drop-user"],
                                        environment: [:], preload: false)
        try run.waitUntilReady()
        let workers = Self.pids("worker", in: run.stdout)
        #expect(run.finish() == 0, "\(run.stderr)")
        // One line for the workers, which failed alike.
        try #require(workers.count >= 2)
        let line = try #require(run.stderr.split(separator: "\n").first { $0.contains("could not write a snapshot") })
        #expect(line.hasPrefix("heapdiff: warning: \(workers.count) processes (uid 65534, pids "), "\(run.stderr)")
        let pidList = line.split(separator: "pids ", maxSplits: 1).last?.split(separator: ")").first ?? ""
        let named = pidList.split(separator: ", ").compactMap { Int32($0) }
        #expect(workers.count > 5 || Set(named) == Set(workers), "\(line)")
        #expect(line.contains(") could not write a snapshot: cannot "), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").filter { $0.contains("could not write") }.count == 1, "\(run.stderr)")
    }

    /// Without root: an output "directory" that is a file.
    @Test func runNamesAProcessWhoseOutputIsNotADirectory() throws {
        let dir = try Harness.temporaryDirectory("notadir")
        let exe = try Harness.build("passthrough", in: dir)
        let file = dir.appendingPathComponent("file")
        try Data().write(to: file)
        let result = try Harness.run(Harness.cli, arguments: ["run", "-o", file.path, "--", exe, "x"], preload: false)
        #expect(result.status == 3)
        #expect(result.stderr.contains("could not write a snapshot: HEAPDIFF_OUTPUT=\(file.path) is not a directory"),
                "\(result.stderr)")
    }

    @Test func runCreatesParentsAndSaysWhenTheProgramWasKilled() throws {
        let dir = try Harness.temporaryDirectory("killed")
        let exe = try Harness.build("waiter", in: dir)
        let out = dir.appendingPathComponent("a/b/c")
        let run = try BackgroundProgram(Harness.cli, arguments: ["run", "-o", out.path, "--", exe],
                                        environment: [:], preload: false)
        try run.waitUntilReady()
        let pid = try #require(run.programPID)
        _ = try Self.requestSnapshot(pid).get()
        kill(pid, SIGKILL)
        #expect(run.finish() == 128 + SIGKILL)
        #expect(run.stderr.contains("heapdiff: process \(pid) was killed by SIGKILL (killed); it wrote 1 snapshot; "
            + "no exit snapshot"), "\(run.stderr)")
        #expect(try Harness.snapshotFiles(in: out).count == 1)
    }

    /// A supervisor that stops a service signals its process group: heapdiff
    /// gets SIGTERM again once the program has ended (`timeout -s TERM 15
    /// heapdiff run -- dnsmasq …` printed no summary, or half of one, and
    /// exited 143). It stays to report, and exits with the program's status.
    @Test func aTerminationSignalAfterTheProgramsEndDoesNotCutTheReport() throws {
        let dir = try Harness.temporaryDirectory("term-after")
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = try Harness.build("term_after_exit", in: dir)
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(Harness.cli, arguments: ["run", "-o", out.path, "--", exe], preload: false)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("heapdiff: 1 snapshot in ") }, "\(result.stderr)")
        #expect(lines.contains("total: 10000 B in 10 blocks"), "\(result.stderr)")
    }

    /// CPython ends an uncaught KeyboardInterrupt by killing itself with
    /// SIGINT, past exit(): the exit snapshot is written before.
    @Test func pythonEndedByCtrlCWritesItsExitSnapshot() throws {
        let dir = try Harness.temporaryDirectory("sigint")
        let out = dir.appendingPathComponent("out")
        let result = try Harness.run(Harness.cli, arguments: [
            "run", "-o", out.path, "--", "/usr/bin/python3.11", "-c",
            // (The test runner's thread may block SIGINT, and children inherit that.)
            "import signal; signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])\n"
                + "data = [bytearray(1000) for _ in range(100)]\nraise KeyboardInterrupt",
        ], preload: false)
        #expect(result.status == 128 + SIGINT)
        let files = try Harness.snapshotFiles(in: out)
        #expect(files.count == 1)
        let snapshot = try Snapshot.load(path: try #require(files.first))
        #expect(snapshot.process.trigger == .exit && snapshot.process.label == "SIGINT")
        #expect(result.stderr.contains("was killed by SIGINT (interrupt); it wrote 1 snapshot, the last one on its way out"),
                "\(result.stderr)")
    }

    /// The JVM gives SIGUSR2 a meaning of its own; a snapshot request must
    /// not disturb it.
    @Test func javaTakesSnapshotsAndFinishesNormally() throws {
        let dir = try Harness.temporaryDirectory("java")
        try JavaClass.waitForInput.write(to: dir.appendingPathComponent("Wait.class"))
        let java = "/usr/lib/jvm/default-java/bin/java"
        try #require(FileManager.default.isExecutableFile(atPath: java), "scripts/setup.sh test installs default-jre-headless")
        let out = dir.appendingPathComponent("out")
        let run = try BackgroundProgram(Harness.cli, arguments: ["run", "-o", out.path, "--", java, "-cp", dir.path, "Wait"],
                                        environment: [:], preload: false)
        try run.waitUntilReady()
        let jvm = try #require(Self.children(of: run.pid).first)
        let first = try Self.requestSnapshot(jvm, label: "one").get()
        let second = try Self.requestSnapshot(jvm, label: "two").get()
        #expect(try Snapshot.load(path: first).process.label == "one")
        #expect(try Snapshot.load(path: second).process.seq == 2)
        #expect(run.finish() == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("SIGSEGV"))
        // The rows name HotSpot's own functions, not its allocator wrapper.
        let top = try Snapshot.load(path: second).statistics(by: .function, symbolizer: symbolizer).prefix(3)
        #expect(!top.isEmpty && top.allSatisfy { !($0.site.function ?? "").hasPrefix("os::malloc") }, "\(top.map(\.site))")
    }

    @Test func gunicornWorkersKeepServingAndNoSecondMasterStarts() throws {
        let dir = try Harness.temporaryDirectory("gunicorn")
        let out = dir.appendingPathComponent("out")
        let app = Harness.programsDirectory.appendingPathComponent("python").path
        let run = try BackgroundProgram(Harness.cli, arguments: [
            // A short depth keeps the files small: with every Python stack of its
            // imports, a gunicorn process's snapshot is tens of MiB.
            "run", "--depth", "8", "-o", out.path, "--", "/usr/bin/python3.11", "-m", "gunicorn", "--workers", "2",
            "--bind", "127.0.0.1:0", "--chdir", app, "wsgi_app:app",
        ], environment: [:], preload: false)
        let booted = Harness.wait(seconds: 60) { run.stderr.components(separatedBy: "Booting worker with pid").count == 3 }
        try #require(booted, "gunicorn did not boot: \(run.stderr)")
        let master = try #require(Self.children(of: run.pid).first)
        let workers = Self.children(of: master)
        #expect(workers.count == 2)
        let port = try #require(run.stderr.firstMatch(of: /Listening at: http:\/\/127\.0\.0\.1:(\d+)/).map { String($0.1) })

        for pid in [try #require(workers.first), master] {
            let snapshot = try Snapshot.load(path: try Self.requestSnapshot(pid).get())
            #expect(snapshot.process.pid == UInt32(pid))
        }
        // Both workers still serve, and there is still one master with the same two workers.
        let fetch = try Harness.run("/usr/bin/python3.11", arguments: ["-c", """
            import urllib.request
            for _ in range(20):
                print(urllib.request.urlopen("http://127.0.0.1:\(port)/", timeout=10).read().decode().strip())
            """], preload: false)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        let served = Set(fetch.stdoutText.split(separator: "\n").compactMap { Int32($0.dropFirst("pid=".count)) })
        #expect(!served.isEmpty && served.isSubset(of: workers), "\(fetch.stdoutText)")
        #expect(Self.children(of: run.pid) == [master])
        #expect(Self.children(of: master) == workers)

        run.process.terminate()   // heapdiff passes SIGTERM to gunicorn, which stops its workers
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("SIGUSR2"), "\(run.stderr)")
    }

    /// gcc's cc1 lives under /usr/lib/gcc: its rows name GCC's functions,
    /// not its xmalloc and xcalloc.
    @Test func gccRowsNameGCCsOwnFunctions() throws {
        let dir = try Harness.temporaryDirectory("gcc")
        let out = dir.appendingPathComponent("out")
        let source = Harness.programsDirectory.appendingPathComponent("worker_pool.c").path
        let result = try Harness.run(Harness.cli, arguments: [
            "run", "-o", out.path, "--", "/usr/bin/cc", "-O1", "-c", source, "-o", dir.appendingPathComponent("x.o").path,
        ], preload: false, timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        // cc1 is a helper of the gcc driver (it takes no snapshot of its own): its exit snapshot is in helpers/.
        let cc1 = try #require(try Harness.snapshotFiles(in: out.appendingPathComponent("helpers"), program: "cc1").last)
        let statistics = try Snapshot.load(path: cc1).statistics(by: .function, symbolizer: symbolizer)
        let top = try #require(statistics.first)
        #expect(top.site.module.hasSuffix("/cc1"), "\(top.site)")
        let function = try #require(top.site.function, "\(top.site)")
        #expect(!["xmalloc", "xcalloc", "xrealloc"].contains(function))
        #expect(!statistics.prefix(5).contains { ["xmalloc", "xcalloc", "xrealloc"].contains($0.site.function ?? "") })
    }
}

extension ServerTests {
    /// A short series says how long it took in milliseconds, not "over 0 s";
    /// and names the program as it was started, as its files do: through a
    /// link called `served` (as Debian's redis-server links to
    /// redis-check-rdb), `served`, not the executable's own name. (Three
    /// snapshots of the program's own: the exit snapshot is no point of a trend.)
    @Test func shortSeriesAreTimedInMillisecondsAndNamedAsStarted() throws {
        let dir = try Harness.temporaryDirectory("wording")
        let exe = try Harness.build("three_phases", in: dir)
        let link = dir.appendingPathComponent("served").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: exe)
        for (program, name) in [(exe, "three_phases"), (link, "served")] {
            let out = dir.appendingPathComponent("out-\(name)")
            #expect(try Harness.run(program, environment: ["HEAPDIFF_OUTPUT": out.path]).status == 0)
            let trend = try Harness.run(Harness.cli, arguments: ["trend", out.path], preload: false)
            #expect(trend.status == 0, "\(trend.stderr)")
            let header = String(trend.stdoutText.split(separator: "\n").first ?? "")
            #expect(header.wholeMatch(of: try Regex("3 snapshots of \(name) \\(pid \\d+\\) over \\d+ ms")) != nil,
                    "\(header)")
        }
    }
}

/// A Java class written byte by byte (the JRE has no compiler): `Wait`,
/// whose main prints "ready" and reads standard input until it ends.
enum JavaClass {
    static var waitForInput: Data {
        var pool: [[UInt8]] = []
        func utf8(_ text: String) -> UInt16 {
            pool.append([1] + u2(UInt16(text.utf8.count)) + Array(text.utf8))
            return UInt16(pool.count)
        }
        func entry(_ tag: UInt8, _ refs: UInt16...) -> UInt16 {
            pool.append([tag] + refs.flatMap(u2))
            return UInt16(pool.count)
        }
        let thisClass = entry(7, utf8("Wait"))
        let object = entry(7, utf8("java/lang/Object"))
        let main = utf8("main"), mainType = utf8("([Ljava/lang/String;)V"), code = utf8("Code")
        let system = entry(7, utf8("java/lang/System"))
        let input = entry(9, system, entry(12, utf8("in"), utf8("Ljava/io/InputStream;")))
        let read = entry(10, entry(7, utf8("java/io/InputStream")), entry(12, utf8("read"), utf8("()I")))
        let output = entry(9, system, entry(12, utf8("out"), utf8("Ljava/io/PrintStream;")))
        let println = entry(10, entry(7, utf8("java/io/PrintStream")), entry(12, utf8("println"), utf8("(Ljava/lang/String;)V")))
        let ready = entry(8, utf8("ready"))
        // System.out.println("ready"); while (System.in.read() >= 0) {}
        let bytecode: [UInt8] = [0xb2] + u2(output) + [0x13] + u2(ready) + [0xb6] + u2(println)
            + [0xb2] + u2(input) + [0xb6] + u2(read) + [0x9c, 0xff, 0xfa, 0xb1]
        // Version 49: verified by type inference, no stack map table needed.
        var bytes: [UInt8] = [0xca, 0xfe, 0xba, 0xbe] + u2(0) + u2(49) + u2(UInt16(pool.count + 1)) + pool.flatMap { $0 }
        bytes += u2(0x21) + u2(thisClass) + u2(object) + u2(0) + u2(0) + u2(1)
        bytes += u2(0x9) + u2(main) + u2(mainType) + u2(1) + u2(code) + u4(UInt32(12 + bytecode.count))
        bytes += u2(2) + u2(1) + u4(UInt32(bytecode.count)) + bytecode + u2(0) + u2(0) + u2(0)
        return Data(bytes)
    }

    private static func u2(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
    private static func u4(_ value: UInt32) -> [UInt8] { u2(UInt16(value >> 16)) + u2(UInt16(value & 0xffff)) }
}
