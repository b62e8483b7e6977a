import Foundation
import HeapDiffKit
import Glibc

/// The checks `heapdiff attach` makes before it stops anything, each failure
/// one line saying what to do, and the output directory made ready for the
/// process to write to.
struct AttachTarget {
    let process: TracedProcess
    let status: [String: String]

    init(process: TracedProcess) throws {
        self.process = process
        guard process.pid != getpid() else { throw CommandError(message: "heapdiff cannot attach to itself", status: 1) }
        do {
            status = try process.status()
        } catch {
            throw CommandError(message: "no process \(process.pid)", status: 1)
        }
    }

    var pid: Int32 { process.pid }

    var programName: String {
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") {
            let name = URL(fileURLWithPath: Module.pathAsLoaded(exe)).lastPathComponent
            if !name.isEmpty { return name }
        }
        return process.commandName() ?? "process"
    }

    /// Real, effective, saved and filesystem ids, as /proc/PID/status lists them.
    private func ids(_ field: String) -> [UInt32] {
        (status[field] ?? "").split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
    }

    /// The process's user and group when heapdiff, as root, attaches to
    /// another user's process: the files it must write are given to it.
    var ownerIfOther: (uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0, let uid = ids("Uid").dropFirst().first, let gid = ids("Gid").dropFirst().first,
              uid != 0 else { return nil }
        return (uid, gid)
    }

    func check() throws {
        let state = status["State"] ?? ""
        if state.hasPrefix("Z") || state.hasPrefix("X") {
            throw CommandError(message: "process \(pid) has exited", status: 1)
        }
        if state.hasPrefix("T") {
            throw CommandError(message: "process \(pid) is stopped: resume it (kill -CONT \(pid)) before attaching", status: 1)
        }
        if let tracer = Int32(status["TracerPid"] ?? "0"), tracer != 0 {
            let name = TracedProcess(pid: tracer).commandName().map { " (\($0))" } ?? ""
            throw CommandError(message: "process \(pid) is already traced by process \(tracer)\(name): "
                + "a process can have only one debugger", status: 1)
        }
        if (status["NSpid"] ?? "").split(whereSeparator: \.isWhitespace).count > 1 {
            throw CommandError(message: "process \(pid) is in another PID namespace (a container): "
                + "run heapdiff attach inside it", status: 1)
        }
        try checkPermission()
        // The injected dlopen and the recorder's files are reached by paths, which a chrooted process
        // resolves in its own root (Postfix's smtpd, vsftpd): neither the library nor the output is there.
        if let root = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root"), root != "/" {
            throw CommandError(message: "process \(pid) runs chrooted in \(root): the recorder cannot be loaded "
                + "from there; start it under heapdiff run instead (a program that chroots itself is recorded)", status: 1)
        }
        // Loading the recorder (dlopen's openat and mmap, its thread) makes system calls a filter may
        // forbid, and a forbidden one kills the process: a live service is not risked.
        if let mode = status["Seccomp"], mode != "0" {
            throw CommandError(message: "process \(pid) is confined by seccomp (Seccomp: \(mode) in /proc/\(pid)/status): "
                + "loading the recorder makes system calls its filter may forbid, which would kill it with SIGSYS; "
                + "start it under heapdiff run instead", status: 1)
        }
        let libraries = try process.mappedLibraryNames()
        if libraries.contains(where: { $0.hasPrefix("libheapdiff") && !$0.hasPrefix(RecorderLibrary.attachFileName) }) {
            throw CommandError(message: "process \(pid) already runs under heapdiff (libheapdiff.so is preloaded): "
                + "use `heapdiff snapshot \(pid)`", status: 1)
        }
        // `heapdiff run … &` then `heapdiff attach $!`: the program is its child, and already recorded.
        if process.isHeapdiff, let program = process.recordingChildren().first {
            throw CommandError(message: "process \(pid) is heapdiff itself; the program it runs, process "
                + "\(program.pid) (\(program.commandName() ?? "?")), already runs under heapdiff: use "
                + "`heapdiff snapshot \(program.pid)`", status: 1)
        }
        if let session = AttachChannel.commandsPath(of: process) {
            let directory = URL(fileURLWithPath: session).deletingLastPathComponent().path
            throw CommandError(message: "process \(pid) is already attached by another heapdiff attach "
                + "(snapshots in \(directory))", status: 1)
        }
        if !libraries.contains(where: { $0.hasPrefix("libc.so") || $0.hasPrefix("libc-") }) {
            throw CommandError(message: "process \(pid) is statically linked: the recorder cannot be loaded into it",
                               status: 1)
        }
    }

    /// Opening /proc/PID/mem asks the kernel the question ptrace's attach
    /// asks (same user, Yama, dumpable), without stopping anything.
    private func checkPermission() throws {
        let scope = (try? String(contentsOfFile: "/proc/sys/kernel/yama/ptrace_scope", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if scope == 3 {
            throw CommandError(message: "ptrace is disabled on this machine (kernel.yama.ptrace_scope=3 until reboot)",
                               status: 1)
        }
        let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            close(fd)
            return
        }
        let reason = errno
        if reason == ENOENT || reason == ESRCH {
            throw CommandError(message: "process \(pid) has exited", status: 1)
        }
        let mine = getuid()
        if geteuid() != 0, ids("Uid").contains(where: { $0 != mine }) {
            let owner = ids("Uid").first.flatMap { getpwuid($0) }.map { String(cString: $0.pointee.pw_name) } ?? "another user"
            throw CommandError(message: "process \(pid) belongs to \(owner): attach as that user, or as root", status: 1)
        }
        if let scope, scope >= 1 {
            throw CommandError(message: scope == 1
                ? "ptrace of processes other than your own children is restricted (kernel.yama.ptrace_scope=1): "
                    + "run heapdiff as root, or allow it with `sudo sysctl kernel.yama.ptrace_scope=0`"
                : "only root may debug processes here (kernel.yama.ptrace_scope=2): run heapdiff as root", status: 1)
        }
        throw CommandError(message: "not permitted to debug process \(pid) (\(String(cString: strerror(reason)))): "
            + "it may have made itself undumpable (setuid, or prctl PR_SET_DUMPABLE 0)", status: 1)
    }

    /// Creates the output directory (0700) and makes sure the process sees the
    /// same directory under the same path and may write to it.
    func prepare(directory: String) throws {
        var info = stat()
        if stat(directory, &info) != 0 {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw CommandError(message: "cannot create \(directory): \(error.localizedDescription)", status: 1)
            }
            if let owner = ownerIfOther, chown(directory, owner.uid, owner.gid) != 0 {
                throw CommandError(message: "cannot give \(directory) to user \(owner.uid): "
                    + String(cString: strerror(errno)), status: 1)
            }
            guard stat(directory, &info) == 0 else {
                throw CommandError(message: "cannot read \(directory): \(String(cString: strerror(errno)))", status: 1)
            }
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw CommandError(message: "\(directory) is not a directory", status: 1)
        }
        var seen = stat()
        guard stat("/proc/\(pid)/root" + directory, &seen) == 0, seen.st_dev == info.st_dev, seen.st_ino == info.st_ino else {
            throw CommandError(message: "process \(pid) does not see \(directory) as heapdiff does (another mount "
                + "namespace, e.g. systemd's PrivateTmp=): choose another --output", status: 1)
        }
    }
}
