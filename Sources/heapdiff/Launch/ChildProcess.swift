import Glibc

/// How the traced program ended.
enum Termination: Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// The status heapdiff exits with so that callers see the program's, as a shell reports it.
    var exitStatus: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }

    /// Decodes a `waitpid` status (the W* macros are not visible from Swift).
    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}

/// The child that SIGTERM and SIGHUP are forwarded to, 0 once it has ended.
/// A global because a C signal handler cannot capture anything.
nonisolated(unsafe) private var forwardingTarget: pid_t = 0

/// Runs the traced program as heapdiff's child, as transparently as a shell
/// would: standard streams inherited untouched, terminal signals delivered
/// to the program rather than to heapdiff, termination signals passed on.
enum ChildProcess {
    struct SpawnFailure: Error {
        var code: Int32
    }

    struct Finished {
        var pid: pid_t
        var termination: Termination
    }

    /// Starts `arguments[0]` (searched in PATH) and waits for it to end.
    /// With `stdoutToStderr`, the program's standard output goes to
    /// heapdiff's standard error, leaving standard output to a JSON report.
    static func run(arguments: [String], environment: [String],
                    stdoutToStderr: Bool = false) throws(SpawnFailure) -> Finished {
        // Ctrl-C and Ctrl-\ reach the whole foreground process group: the
        // program decides what they mean, and heapdiff stays to report.
        let interactiveSignals = [SIGINT, SIGQUIT]
        let previous = interactiveSignals.map { signal($0, SIG_IGN) }
        defer { zip(interactiveSignals, previous).forEach { _ = signal($0, $1) } }

        var restoredInChild = sigset_t()
        sigemptyset(&restoredInChild)
        for (signalNumber, disposition) in zip(interactiveSignals, previous) where !isIgnore(disposition) {
            sigaddset(&restoredInChild, signalNumber)  // an ignored disposition would survive exec
        }

        let pid = try spawn(arguments: arguments, environment: environment, defaultSignals: restoredInChild,
                            stdoutToStderr: stdoutToStderr)

        // Termination signals are passed on while the program runs. Once it
        // has ended they are not heapdiff's to die of: a supervisor that
        // stops a service signals its whole process group (timeout, systemd,
        // docker stop), and the signal heapdiff gets after the program's end
        // would cut off the report of the run it stopped. So the handler
        // stays, forwarding nothing, until heapdiff exits. The program is
        // seen to end without being reaped (WNOWAIT), so its pid cannot be
        // another process's when a signal is forwarded to it.
        forwardingTarget = pid
        for forwarded in [SIGTERM, SIGHUP] {
            _ = signal(forwarded, { received in
                let target = forwardingTarget
                if target > 0 { _ = kill(target, received) }
            })
        }
        var ended = siginfo_t()
        while waitid(P_PID, id_t(pid), &ended, WEXITED | WNOWAIT) < 0 {
            guard errno == EINTR else { break }
        }
        forwardingTarget = 0
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return Finished(pid: pid, termination: .exited(1)) }
        }
        return Finished(pid: pid, termination: Termination(waitStatus: status))
    }

    private static func spawn(arguments: [String], environment: [String], defaultSignals: sigset_t,
                              stdoutToStderr: Bool) throws(SpawnFailure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if stdoutToStderr {
            posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = defaultSignals
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments.first ?? "", &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnFailure(code: result) }
        return pid
    }

    private static func isIgnore(_ disposition: sighandler_t?) -> Bool {
        guard let disposition else { return false }  // nil is SIG_DFL
        return unsafeBitCast(disposition, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }
}
