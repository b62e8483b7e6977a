import Foundation
import HeapDiffKit

/// Builds the test programs in Programs/ and runs them under the recorder.
/// Programs mark interesting lines with `// @site NAME`, so assertions name
/// exact file:line without hard-coding line numbers.
enum Harness {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let programsDirectory = testsDirectory.appendingPathComponent("Programs")
    static let packageRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    static var library: String {
        ProcessInfo.processInfo.environment["HEAPDIFF_LIBRARY"]
            ?? packageRoot.appendingPathComponent("build/libheapdiff.so").path
    }

    static var cli: String {
        ProcessInfo.processInfo.environment["HEAPDIFF_CLI"]
            ?? packageRoot.appendingPathComponent(".build/debug/heapdiff").path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A fresh directory per test, so tests can run in parallel.
    static func temporaryDirectory(_ tag: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("heapdiff-tests-\(tag)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Compiles Programs/NAME.c (or .cpp) into DIR with `flags` and returns
    /// the binary's path; Programs/NAME.swift is compiled `swiftc -O -g`,
    /// Programs/NAME.rs `rustc -C opt-level=2 -g`.
    static func build(_ name: String, in dir: URL, flags: [String] = ["-g", "-O0"],
                      libraries: [String] = []) throws -> String {
        let output = dir.appendingPathComponent(name).path
        let rustSource = programsDirectory.appendingPathComponent("\(name).rs").path
        if FileManager.default.fileExists(atPath: rustSource) {
            let result = try run(try rustc(), arguments: ["-C", "opt-level=2", "-g", "-o", output, rustSource],
                                 preload: false, timeout: 600)
            guard result.status == 0 else { throw Failure(description: "compiling \(name): \(result.stderr)") }
            return output
        }
        let swiftSource = programsDirectory.appendingPathComponent("\(name).swift").path
        if FileManager.default.fileExists(atPath: swiftSource) {
            // Through env: swiftc is wherever the toolchain running the tests is.
            let result = try run("/usr/bin/env", arguments: ["swiftc", "-O", "-g", "-o", output, swiftSource],
                                 preload: false, timeout: 600)
            guard result.status == 0 else { throw Failure(description: "compiling \(name): \(result.stderr)") }
            return output
        }
        let cxx = FileManager.default.fileExists(atPath: programsDirectory.appendingPathComponent("\(name).cpp").path)
        let source = programsDirectory.appendingPathComponent(cxx ? "\(name).cpp" : "\(name).c").path
        let include = packageRoot.appendingPathComponent("Sources/HeapDiffRecorder/include").path
        let result = try run(cxx ? "/usr/bin/c++" : "/usr/bin/cc",
                             arguments: flags + ["-w", "-I", include, "-o", output, source] + libraries + ["-lpthread", "-ldl"],
                             preload: false)
        guard result.status == 0 else { throw Failure(description: "compiling \(name): \(result.stderr)") }
        return output
    }

    /// rustc from PATH, else rustup's (~/.cargo/bin, which a non-login
    /// shell may leave off PATH), else Debian's (scripts/setup.sh test
    /// installs it when there is none).
    static func rustc() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let path = (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/rustc" }
        let home = environment["HOME"].map { ["\($0)/.cargo/bin/rustc"] } ?? []
        for candidate in path + home + ["/usr/bin/rustc"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw Failure(description: "no rustc on PATH, in ~/.cargo/bin or /usr/bin: run scripts/setup.sh test")
    }

    /// `setarch -R`, which starts the program with address space layout
    /// randomization off, where the kernel lets it (a seccomp filter may
    /// refuse the personality): then two runs of a program put their
    /// mappings at the same addresses, run after run.
    static let addressRandomizationOff: [String] = {
        let probe = try? run("/usr/bin/setarch", arguments: ["-R", "/bin/true"], preload: false)
        return probe?.status == 0 ? ["/usr/bin/setarch", "-R"] : []
    }()

    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var pid: Int32
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs a program to completion (killed after `timeout` seconds: a hang
    /// is a failure, never a stuck test run).
    static func run(_ executable: String, arguments: [String] = [], environment: [String: String] = [:],
                    stdin: Data = Data(), preload: Bool = true, fixedLayout: Bool = false,
                    timeout: Int = 60) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        // Only the program is preloaded, not the wrappers: `env` sets
        // LD_PRELOAD just before exec'ing it.
        let preloading = preload ? ["/usr/bin/env", "LD_PRELOAD=\(library)"] : []
        let layout = fixedLayout ? addressRandomizationOff : []
        process.arguments = ["-k", "5", String(timeout)] + layout + preloading + [executable] + arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "LD_PRELOAD")
        for key in env.keys where key.hasPrefix("HEAPDIFF_") && key != "HEAPDIFF_LIBRARY" && key != "HEAPDIFF_CLI" {
            env.removeValue(forKey: key)
        }
        env.merge(environment) { _, new in new }
        process.environment = env
        let scratch = try temporaryDirectory("io")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        let inURL = scratch.appendingPathComponent("in")
        try stdin.write(to: inURL)
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try withSignalsUnblocked { try process.run() }
        process.waitUntilExit()
        let stdout = try Data(contentsOf: outURL)
        let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr,
                      pid: process.processIdentifier)
    }

    /// Runs `body` (which starts a process) with the signals a program is
    /// sent to stop or to talk to it unblocked on this thread: a child
    /// inherits its parent thread's mask, and the test runner's threads block
    /// them, which would keep a traced server from ever seeing SIGTERM or
    /// SIGINT. (SIGCHLD stays blocked: Foundation learns of its children's
    /// ends through it.)
    static func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
        var wanted = sigset_t(), previous = sigset_t()
        sigemptyset(&wanted)
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM] { sigaddset(&wanted, signal) }
        pthread_sigmask(SIG_UNBLOCK, &wanted, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    /// The line of `// @site NAME` in Programs/FILE.
    static func line(of site: String, in file: String) throws -> Int {
        let text = try String(contentsOf: programsDirectory.appendingPathComponent(file), encoding: .utf8)
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.hasSuffix("// @site \(site)") {
            return index + 1
        }
        throw Failure(description: "no @site \(site) in \(file)")
    }

    /// Snapshot files in DIR, ordered by pid then SEQ (numerically).
    static func snapshotFiles(in dir: URL, program: String? = nil) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        let parsed: [(pid: Int, seq: Int, name: String)] = names.compactMap { name in
            let parts = name.split(separator: ".")
            guard parts.count >= 4, parts.last == "heapsnap", !name.hasPrefix("."),
                  let seq = Int(parts[parts.count - 2]), let pid = Int(parts[parts.count - 3]) else { return nil }
            if let program, parts.dropLast(3).joined(separator: ".") != program { return nil }
            return (pid, seq, name)
        }
        return parsed.sorted { ($0.pid, $0.seq) < ($1.pid, $1.seq) }.map { dir.appendingPathComponent($0.name).path }
    }

    /// The live statistic of one marked line, or nil when nothing is live there.
    static func statistic(_ site: String, in file: String, of snapshot: Snapshot,
                          symbolizer: Symbolizer) throws -> Statistic? {
        let line = try line(of: site, in: file)
        return snapshot.statistics(by: .lineno, symbolizer: symbolizer).first {
            $0.site.line == line && ($0.site.file ?? "").hasSuffix("/" + file)
        }
    }

    /// Polls until `condition` holds or `seconds` pass.
    static func wait(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }
}
