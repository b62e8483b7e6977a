import Foundation
import HeapDiffFormat

/// Processes that still run with the recorder and write into a run's output
/// directory after the program itself has ended: a server that daemonizes
/// (nginx, `memcached -d`, redis with `daemonize yes`) leaves its daemon and
/// workers recording, and `run` would otherwise return as if all were done.
///
/// Found without touching any process: each recorder listens on its control
/// socket (`@heapdiff.PID` in /proc/net/unix) and holds its output directory
/// open, so a process whose open files include this directory writes here.
/// Processes of other users are seen only when heapdiff runs as root.
struct StillRecording {
    struct Process: Equatable {
        var pid: Int32
        var name: String
    }

    static func processes(writingInto directory: String, proc: String = "/proc") -> [Process] {
        guard let sockets = try? String(contentsOfFile: "\(proc)/net/unix", encoding: .utf8) else { return [] }
        let prefix = "@" + HD_CONTROL_SOCKET_PREFIX   // abstract names are listed with a leading @
        var pids = Set<Int32>()
        for line in sockets.split(separator: "\n") {
            guard let name = line.split(separator: " ").last, name.hasPrefix(prefix),
                  let pid = Int32(name.dropFirst(prefix.count)) else { continue }
            pids.insert(pid)
        }
        let target = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        return pids.sorted().compactMap { pid in
            guard holdsOpen(target, pid: pid, proc: proc) else { return nil }
            let name = (try? String(contentsOfFile: "\(proc)/\(pid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return Process(pid: pid, name: name ?? "?")
        }
    }

    /// A recorder in a forked process makes its control socket 100 ms after the fork
    /// (`LISTEN_DELAY_MS` in control.c), and a daemon's parent may exit right after forking it:
    /// waits until 200 ms after the program's exit (the summary usually took longer already).
    static func waitForListeners(since exit: DispatchTime) {
        let ready = exit + .milliseconds(200)
        let now = DispatchTime.now()
        if now < ready {
            usleep(UInt32((ready.uptimeNanoseconds - now.uptimeNanoseconds) / 1_000))
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
