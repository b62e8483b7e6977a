import Foundation

/// Processes that still run with the recorder and write into a run's output
/// directory after the program itself has ended: a server that daemonizes
/// (nginx, `memcached -d`, redis with `daemonize yes`) leaves its daemon and
/// workers recording, and `run` would otherwise return as if all were done.
///
/// Found without touching any process: each recorder holds its output
/// directory open from start-up, and a forked process inherits that
/// descriptor at once, so a process whose open files include this directory
/// writes here. (Its control socket, `@heapdiff.PID`, is made only 100 ms
/// after a fork: a daemon found by it could be missed on a loaded machine.)
/// Processes of other users are seen only when heapdiff runs as root.
struct StillRecording {
    struct Process: Equatable {
        var pid: Int32
        var name: String
    }

    static func processes(writingInto directory: String, proc: String = "/proc",
                          except own: Int32 = getpid()) -> [Process] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: proc) else { return [] }
        let target = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        return entries.compactMap(Int32.init).filter { $0 != own }.sorted().compactMap { pid in
            guard holdsOpen(target, pid: pid, proc: proc) else { return nil }
            let name = (try? String(contentsOfFile: "\(proc)/\(pid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return Process(pid: pid, name: name ?? "?")
        }
    }

    private static func holdsOpen(_ directory: String, pid: Int32, proc: String) -> Bool {
        let fds = "\(proc)/\(pid)/fd"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: fds) else { return false }
        return entries.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fds)/\($0)")) == directory }
    }

    /// The note `run` prints, nil when no process is left.
    static func note(_ processes: [Process], shownDirectory: String) -> String? {
        guard !processes.isEmpty else { return nil }
        let shown = RunSummary.workersListed
        let listed = processes.prefix(shown).map { "\($0.pid) (\($0.name))" }.joined(separator: ", ")
            + (processes.count > shown ? " and \(processes.count - shown) more" : "")
        let subject = processes.count == 1 ? "1 process still runs" : "\(processes.count) processes still run"
        return "the program has exited, but \(subject) with the recorder, writing into \(shownDirectory)/: \(listed). "
            + "`heapdiff snapshot PID` takes a snapshot now; each writes its exit snapshot when it ends, "
            + "and `heapdiff trend \(shownDirectory)` follows them"
    }
}
