import HeapDiffFormat
import Foundation
import HeapDiffKit

/// What the recorders of a run tell `run` and `check` on the side (see
/// heapdiff_control.h): a process that could not write its snapshots, a
/// program that took the snapshot signal for itself, a program started with
/// an environment that leaves out the recorder or its settings. They come over a
/// socket, not the program's stderr, which a server may send to its own log,
/// and they reach heapdiff from processes of any user.
final class RecorderNotices {
    struct Notice: Hashable {
        var pid: Int32
        var uid: Int32
        var kind: String
        var text: String
    }

    private let fd: Int32
    /// The value of HEAPDIFF_REPORT for the program; nil when no socket
    /// could be made (the run goes on, without notices).
    let name: String?

    init() {
        var buffer = [CChar](repeating: 0, count: Int(HD_REPORT_MAX_NAME) + 1)
        fd = hd_report_open(&buffer, buffer.count)
        name = fd >= 0 ? String(cString: buffer) : nil
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Every notice received so far, each distinct one once, in order.
    func drain() -> [Notice] {
        guard fd >= 0 else { return [] }
        var notices: [Notice] = []
        var seen: Set<Notice> = []
        var raw = hd_report_notice()
        while hd_report_receive(fd, &raw) == 1 {
            let notice = withUnsafeBytes(of: raw.kind) { kind in
                withUnsafeBytes(of: raw.text) { text in
                    Notice(pid: raw.pid, uid: raw.uid, kind: String(cString: kind.bindMemory(to: CChar.self).baseAddress!),
                           text: String(cString: text.bindMemory(to: CChar.self).baseAddress!))
                }
            }
            if seen.insert(notice).inserted { notices.append(notice) }
        }
        return notices
    }

    /// One line per process and kind of notice on standard error (the first
    /// one's text, and how many more there were), or for write failures one
    /// line per user and reason, naming the processes (a server's hundred
    /// workers that cannot write get one line); returns the pids that could
    /// not write.
    @discardableResult
    func printAll() -> Set<Int32> {
        var failed: Set<Int32> = []
        let notices = drain()
        // Counted once, not per notice: a server's thousand failing workers
        // would otherwise make this quadratic.
        var perProcessAndKind: [String: Int] = [:]
        for notice in notices { perProcessAndKind["\(notice.pid) \(notice.kind)", default: 0] += 1 }
        var alikeFailures: [FailureReason: [Notice]] = [:]
        for notice in Self.firstFailures(notices) {
            alikeFailures[FailureReason(uid: notice.uid, text: notice.text), default: []].append(notice)
        }
        var said: Set<String> = []
        for notice in notices where said.insert("\(notice.pid) \(notice.kind)").inserted {
            let more = perProcessAndKind["\(notice.pid) \(notice.kind)", default: 1] - 1
            switch notice.kind {
            case HD_REPORT_WRITE_FAILED:
                failed.insert(notice.pid)
                let alike = alikeFailures[FailureReason(uid: notice.uid, text: notice.text), default: []]
                guard alike.count > 1 else {
                    Console.warning("process \(notice.pid)\(processDescription(notice)) could not write a snapshot: "
                        + notice.text + (more > 0 ? " (and \(counted(more, "more failure")))" : ""))
                    continue
                }
                guard alike.first?.pid == notice.pid else { continue }   // said with the first of them
                let shown = alike.prefix(5).map { String($0.pid) }.joined(separator: ", ")
                    + (alike.count > 5 ? " and \(alike.count - 5) more" : "")
                let user = notice.uid >= 0 && notice.uid != Int32(bitPattern: getuid()) ? "uid \(notice.uid), " : ""
                Console.warning("\(alike.count) processes (\(user)pids \(shown)) could not write a snapshot: "
                    + notice.text)
            case HD_REPORT_SIGNAL_TAKEN:
                Console.warning("process \(notice.pid)\(processDescription(notice)) installed its own \(notice.text) "
                    + "handler: \(notice.text) took no snapshot there (`heapdiff snapshot \(notice.pid)` still works)")
            default:
                continue
            }
        }
        for line in Self.environmentLines(notices.filter { $0.kind == HD_REPORT_ENVIRONMENT_LEFT_OUT },
                                          tool: ChildEnvironment.ownExecutable()) {
            Console.warning(line)
        }
        for notice in notices where notice.kind == HD_REPORT_SECURE_EXECUTION {
            let fields = notice.text.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            Console.warning("\(fields[0]) started \(fields[1]) in secure-execution mode (\(fields[2])), where the "
                + "loader ignores LD_PRELOAD: it ran without the recorder; `heapdiff attach PID` records it "
                + "while it runs")
        }
        return failed
    }

    /// One line per starting program and set of variables left out, naming
    /// the programs it started that way (exec_calls.c sends each once).
    /// heapdiff itself (`tool`, this executable) started unrecorded is left
    /// out: a harness in the program (pytest-heapdiff judging its rounds with
    /// `heapdiff check`) takes the recorder out of its environment on purpose.
    static func environmentLines(_ notices: [Notice], tool: String?) -> [String] {
        let tool = tool.map(Self.resolved)
        var groups: [(starter: String, missing: [String], programs: [String])] = []
        for notice in notices {
            let fields = notice.text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { continue }
            let missing = fields[2].split(separator: " ").map(String.init)
            if let tool, missing.contains("LD_PRELOAD"), Self.resolved(fields[1]) == tool { continue }
            if let i = groups.firstIndex(where: { $0.starter == fields[0] && $0.missing == missing }) {
                if !groups[i].programs.contains(fields[1]) { groups[i].programs.append(fields[1]) }
            } else {
                groups.append((fields[0], missing, [fields[1]]))
            }
        }
        return groups.map { group in
            let shown = group.programs.prefix(3).joined(separator: ", ")
                + (group.programs.count > 3 ? " and \(group.programs.count - 3) more" : "")
            let one = group.programs.count == 1
            let effect = group.missing.contains("LD_PRELOAD") ? (one ? "it ran" : "they ran") + " without the recorder"
                : group.missing.contains(HD_ENV_OUTPUT) ? "the recorder in " + (one ? "it" : "them")
                    + " wrote its snapshots into " + (one ? "its" : "their") + " working directory"
                : "the recorder in " + (one ? "it" : "them") + " ran without "
                    + (group.missing.count == 1 ? "that setting" : "these settings")
            return "\(group.starter) started \(shown) with an environment that leaves out "
                + group.missing.joined(separator: ", ") + ": \(effect); a program that cleans the environment of "
                + "what it starts must be told to pass " + (group.missing.count == 1 ? "it" : "them")
                + " on (postfix, dovecot: import_environment; Apache: PassEnv)"
        }
    }

    /// A program's path with its symbolic links resolved (as it was given when it cannot be).
    private static func resolved(_ path: String) -> String {
        guard path.hasPrefix("/") else { return path }
        return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    /// Processes whose write failures are said in one line.
    private struct FailureReason: Hashable {
        var uid: Int32
        var text: String
    }

    /// Each process's first write failure.
    private static func firstFailures(_ notices: [Notice]) -> [Notice] {
        var seen: Set<Int32> = []
        return notices.filter { $0.kind == HD_REPORT_WRITE_FAILED && seen.insert($0.pid).inserted }
    }

    /// " (uid 65534)" when the process ran as another user than heapdiff.
    private func processDescription(_ notice: Notice) -> String {
        notice.uid >= 0 && notice.uid != Int32(bitPattern: getuid()) ? " (uid \(notice.uid))" : ""
    }
}
