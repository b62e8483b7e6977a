import Foundation

/// A traced program left running while a test acts on it from outside
/// (signals, `heapdiff snapshot`); it ends when its stdin is closed.
final class BackgroundProgram {
    let process = Process()
    private let input = Pipe()
    private let scratch: URL
    private let outURL: URL
    private let errURL: URL

    /// With `preload` false the executable itself is not traced: `heapdiff run` preloads its program, or
    /// `heapdiff attach` joins it later.
    init(_ executable: String, arguments: [String] = [], environment: [String: String], preload: Bool = true) throws {
        scratch = try Harness.temporaryDirectory("bg")
        outURL = scratch.appendingPathComponent("out")
        errURL = scratch.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HEAPDIFF_") }
        env.removeValue(forKey: "LD_PRELOAD")
        if preload { env["LD_PRELOAD"] = Harness.library }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try Harness.withSignalsUnblocked { try process.run() }
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

    func waitUntilReady() throws {
        guard Harness.wait(seconds: 30, { stdout.contains("ready\n") }) else {
            throw Harness.Failure(description: "program never became ready; stderr: \(stderr)")
        }
    }

    /// The pid the program printed (`pid=N`), for a program run under `heapdiff run`.
    var programPID: Int32? {
        stdout.split(separator: "\n").lazy.compactMap { line in
            line.hasPrefix("pid=") ? Int32(line.dropFirst(4)) : nil
        }.first
    }

    /// Writes one line to the program's stdin.
    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Waits for the exit status without closing stdin (a program that ends by itself).
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Closes stdin and waits for the exit status.
    func finish() -> Int32 {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: scratch)
    }
}
