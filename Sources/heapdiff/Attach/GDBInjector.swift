import Foundation
import Glibc

/// Loads libheapdiff-attach.so into a running process and calls its
/// `heapdiff_attach(request)`, with gdb in batch mode, as heaptrack and memray
/// do. gdb rather than hand-written ptrace: it already stops and resumes
/// every thread, finds the functions by name, reads and writes memory and
/// the general registers, and tells a thread blocked in a system call apart
/// (orig_rax). The calls themselves are not gdb's: its inferior calls save
/// and restore the extended state through ptrace, which gdb 13 (Debian 12)
/// cannot on a CPU with AMX, so the script writes a few instructions that
/// make the call and keep that state themselves (the script's CALLER).
///
/// Where the call is made matters: the stopped thread must not hold a lock
/// that dlopen or pthread_create needs (malloc's, the loader's). So the
/// script first waits, up to `wait` seconds, for a thread to enter malloc,
/// calloc, realloc or free (at their first instruction it holds no allocator
/// lock) with no allocator, loader, thread-creation or heapdiff frame on its
/// stack; an idle process instead gets a thread whose whole stack is free of
/// those (one blocked in poll or sleep). The strings the call needs are
/// written below the thread's stack pointer, so gdb does not call malloc in
/// the process to hold them.
struct GDBInjector {
    enum Outcome: Equatable {
        /// heapdiff_attach() returned this (0: the session started).
        case called(Int32)
        /// The process ended while gdb was attached.
        case exited
        /// gdb, ptrace or dlopen failed; one line saying why.
        case failed(String)
    }

    var gdb: String
    /// Seconds to wait for a thread to enter the allocator.
    var wait: Double = 2

    /// gdb on the PATH, or nil.
    static func find(environment: [String: String]) -> String? {
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        return directories.map { $0 + "/gdb" }.first { access($0, X_OK) == 0 }
    }

    func inject(pid: Int32, library: String, request: String, scratch: String) throws -> Outcome {
        let script = scratch + "/.heapdiff-attach.\(pid).gdb.py"
        try Data(Self.script.utf8).write(to: URL(fileURLWithPath: script))
        defer { unlink(script) }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "LD_PRELOAD")
        environment["HEAPDIFF_GDB_LIBRARY"] = library
        environment["HEAPDIFF_GDB_REQUEST"] = request
        environment["HEAPDIFF_GDB_WAIT"] = String(wait)
        let arguments = [gdb, "-batch", "-nx", "-iex", "set auto-solib-add off", "-iex", "set debuginfod enabled off",
                         "-iex", "set auto-load off", "-p", String(pid), "-x", script]
        let output = try run(arguments, environment: environment)
        return Self.outcome(of: output)
    }

    /// Reads the script's `heapdiff-gdb:` lines, and gdb's own when it failed before them.
    static func outcome(of output: String) -> Outcome {
        let lines = output.split(separator: "\n").map { String($0) }
        for line in lines.reversed() where line.hasPrefix("heapdiff-gdb: ") {
            let words = line.dropFirst("heapdiff-gdb: ".count)
            if words == "exited" { return .exited }
            if words.hasPrefix("result "), let value = Int32(words.dropFirst("result ".count)) { return .called(value) }
            if words.hasPrefix("error ") { return .failed(String(words.dropFirst("error ".count))) }
        }
        if let ptrace = lines.first(where: { $0.hasPrefix("ptrace: ") || $0.contains("Could not attach") }) {
            return .failed("gdb could not attach: " + ptrace.replacingOccurrences(of: "ptrace: ", with: ""))
        }
        let last = lines.last { !$0.hasPrefix("[") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return .failed("gdb ended without loading the recorder" + (last.map { ": " + $0 } ?? ""))
    }

    /// Runs gdb in a process group of its own (Ctrl-C at the terminal is
    /// heapdiff's to handle, never an interrupt of gdb in the middle of a
    /// call it is making in the target), its stdout and stderr captured.
    private func run(_ arguments: [String], environment: [String: String]) throws -> String {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw CommandError(message: "cannot create a pipe for gdb", status: 1) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], STDERR_FILENO)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        // gdb waits for its inferior's events with SIGCHLD and stops it with
        // SIGINT: whatever heapdiff was started with blocked or ignored must
        // not carry over (a test runner's threads block most signals).
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGPIPE].forEach { sigaddset(&defaults, $0) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, arguments[0], &actions, &attributes, argv, envp)
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            throw CommandError(message: "cannot run \(arguments[0]): \(String(cString: strerror(spawned)))", status: 1)
        }
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            output += buffer[0..<n]
        }
        close(pipeEnds[0])
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        return String(decoding: output, as: UTF8.self)
    }

    /// The gdb script (Python, run by gdb itself). It reads its inputs from
    /// HEAPDIFF_GDB_* variables and reports on lines starting `heapdiff-gdb:`.
    static let script = #"""
    import os, signal, threading
    import gdb

    LIBRARY = os.environ["HEAPDIFF_GDB_LIBRARY"].encode() + b"\0"
    REQUEST = os.environ["HEAPDIFF_GDB_REQUEST"].encode() + b"\0"
    ENTRY = b"heapdiff_attach\0"
    WAIT = float(os.environ["HEAPDIFF_GDB_WAIT"])
    RTLD_NOW, RTLD_NODELETE = 2, 0x1000
    # A thread with one of these on its stack may hold a lock dlopen or
    # pthread_create takes: the allocator's, the loader's, the thread list's.
    UNSAFE = ("malloc", "free", "calloc", "realloc", "memalign", "aligned_alloc", "valloc", "_int_", "arena",
              "tcache", "sysmalloc", "dlopen", "dlclose", "dlsym", "dlmopen", "dlerror", "dl_iterate_phdr",
              "_dl_", "__libc_dl", "pthread_create", "__nptl_", "fork", "_Fork", "__run_exit_handlers", "exit")

    def say(*words):
        print("heapdiff-gdb:", *words, flush=True)

    def frames():
        frame = gdb.newest_frame()
        while frame is not None:
            yield frame
            try:
                frame = frame.older()
            except gdb.error:
                return

    def safe_stack(at_entry):
        depth = 0
        for frame in frames():
            solib = gdb.solib_name(frame.pc()) or ""
            if "/ld-linux" in solib or "/ld-" in solib or "libheapdiff" in solib:
                return False
            name = frame.name() or ""
            # Stopped at malloc's (or free's) first instruction: it has taken nothing yet.
            if not (depth == 0 and at_entry) and any(word in name for word in UNSAFE) and "start_thread" not in name:
                return False
            depth += 1
            if depth > 256:
                return False
        return depth > 0

    class SafePoint(gdb.Breakpoint):
        chosen = False

        def stop(self):
            if SafePoint.chosen or not safe_stack(True):
                return False
            SafePoint.chosen = True
            return True

    def running():
        inferior = gdb.selected_inferior()
        return inferior.pid != 0 and len(inferior.threads()) > 0

    # The call is made by this code, written over the program's entry point
    # (run once, at start-up) for the while, not by gdb's own inferior call:
    # that saves and restores the thread's extended state with ptrace, which
    # gdb 13 cannot do on a machine with AMX (its buffer is smaller than the
    # kernel's 11 KiB; every call then fails with "Couldn't write extended
    # state status"). Here only the general registers go through ptrace; the
    # code keeps the rest itself. With R12 the function and RDI, RSI, RDX its
    # arguments, it maps 1 MiB (mmap), saves every extended state component
    # at its start (xsave64: a fresh mapping is zeros, so the header is
    # valid), calls the function on a stack at its end (none of the
    # thread's own stack is used, however little is left), keeps the result
    # in R12, restores the state (xrstor64), unmaps, and stops at its int3.
    # RBX is left the mapping, or -errno when mmap failed.
    #   0x00 mov r13,rdi; mov r14,rsi; mov r15,rdx
    #   0x09 mov eax,9 (mmap); xor edi,edi; mov esi,0x100000; mov edx,3; mov r10d,0x22; mov r8,-1; xor r9d,r9d; syscall
    #   0x2c mov rbx,rax; cmp rax,-4096; ja 0x78
    #   0x37 lea rsp,[rax+0x100000]; mov eax,-1; mov edx,-1; xsave64 [rbx]
    #   0x4c mov rdi,r13; mov rsi,r14; mov rdx,r15; call r12; mov r12,rax
    #   0x5b mov eax,-1; mov edx,-1; xrstor64 [rbx]
    #   0x69 mov eax,11 (munmap); mov rdi,rbx; mov esi,0x100000; syscall
    #   0x78 int3
    CALLER = bytes.fromhex(
        "4989fd4989f64989d7b80900000031ffbe00001000ba0300000041ba2200000049c7c0ffffffff4531c90f05"
        "4889c3483d00f0ffff7741488da000001000b8ffffffffbaffffffff480fae234c89ef4c89f64c89fa41ffd4"
        "4989c4b8ffffffffbaffffffff480fae2bb80b0000004889dfbe000010000f05cc")
    CALLER_STOP = 0x78
    # Where the kernel has not enabled XSAVE (an old CPU, a VM that hides it):
    # fxsave64 and fxrstor64 instead, the x87 and SSE state (512 bytes).
    SAVE_AT, RESTORE_AT, FXSAVE, FXRSTOR = 0x48, 0x65, bytes.fromhex("480fae03"), bytes.fromhex("480fae0b")
    GENERAL = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
               "r15", "eflags")

    def register(name):
        return int(gdb.parse_and_eval("$" + name)) & 0xFFFFFFFFFFFFFFFF

    def set_register(name, value):
        gdb.execute("set $%s = %d" % (name, value if value < 1 << 63 else value - (1 << 64)))

    def caller_code():
        code = bytearray(CALLER)
        try:
            with open("/proc/cpuinfo") as cpuinfo:
                flags = next((line.split() for line in cpuinfo if line.startswith("flags")), ["xsave"])
        except OSError:
            flags = ["xsave"]
        if "xsave" not in flags:
            code[SAVE_AT:SAVE_AT + 4], code[RESTORE_AT:RESTORE_AT + 4] = FXSAVE, FXRSTOR
        return bytes(code)

    def entry_point():
        for line in gdb.execute("info auxv", to_string=True).splitlines():
            words = line.split()
            if len(words) > 2 and words[1] == "AT_ENTRY":
                return int(words[-1], 16)
        return None

    def address_of(names):
        for name in names:
            try:
                return int(gdb.parse_and_eval("(long)&%s" % name))
            except gdb.error:
                continue
        return None

    class Failed(Exception):
        pass

    class Exited(Exception):
        """The process ended while a call was made in it."""

    def call(caller, function, *arguments):
        """FUNCTION(ARGUMENTS) in the selected thread through the code at
        CALLER; the thread's registers are then put back as they were. Writing
        $pc sets orig_rax to -1 (gdb), so that a system call the thread was
        stopped in is not restarted at the new pc; orig_rax is put back last,
        and the call is restarted when the thread goes on. CALLER None (not
        x86_64): gdb's own inferior call."""
        if caller is None:
            values = (list(arguments) + [0, 0, 0])[:3]
            return int(gdb.parse_and_eval("((long (*)(long, long, long))%d)(%d, %d, %d)"
                                          % tuple([function] + values))) & 0xFFFFFFFFFFFFFFFF
        thread = gdb.selected_thread()
        saved = {name: register(name) for name in GENERAL + ("rip", "orig_rax")}
        stop = gdb.Breakpoint("*%d" % (caller + CALLER_STOP), internal=True)
        try:
            for name, value in zip(("rdi", "rsi", "rdx"), arguments):
                set_register(name, value)
            set_register("r12", function)
            set_register("pc", caller)
            set_register("orig_rax", -1)
            while True:
                try:
                    gdb.execute("continue", to_string=True)
                except gdb.error:
                    pass
                if not running():
                    raise Exited()
                thread.switch()
                if register("rip") == caller + CALLER_STOP:
                    break
            if register("rbx") >= (1 << 64) - 4096:
                raise Failed("cannot map a stack in the process: errno %d" % ((1 << 64) - register("rbx")))
            return register("r12")
        finally:
            stop.delete()
            if running():
                thread.switch()
                set_register("pc", saved["rip"])
                for name in GENERAL:
                    set_register(name, saved[name])
                set_register("orig_rax", saved["orig_rax"])

    def inject():
        inferior = gdb.selected_inferior()
        sp = register("sp")
        blob = LIBRARY + ENTRY + REQUEST
        # Below the 128-byte red zone a leaf function may still be using.
        base = (sp - 512 - len(blob)) & ~15
        inferior.write_memory(base, blob)
        name, request = base + len(LIBRARY), base + len(LIBRARY) + len(ENTRY)
        own_code = inferior.architecture().name() == "i386:x86-64"
        caller = entry_point() if own_code else None
        if own_code and caller is None:
            say("error", "the process has no entry point in its auxiliary vector")
            return
        if own_code:   # the calls run on a stack of their own
            original = bytes(inferior.read_memory(caller, len(CALLER)))
            inferior.write_memory(caller, caller_code())
        else:   # gdb's calls: their frames go below the strings
            gdb.execute("set $sp = %d" % (base - 64))
        try:
            say("loading")
            opener = address_of(("dlopen", "__libc_dlopen_mode"))
            handle = call(caller, opener, base, RTLD_NOW | RTLD_NODELETE) if opener else None
            if not handle:
                message = None
                explain = address_of(("dlerror",))
                if handle == 0 and explain:
                    text = call(caller, explain)
                    if text:
                        message = gdb.parse_and_eval("(const char *)%d" % text).string()
                say("error", "dlopen failed in the process: %s" % (message or "no dlopen found"))
                return
            finder = address_of(("dlsym", "__libc_dlsym"))
            entry = call(caller, finder, handle, name) if finder else None
            if not entry:
                say("error", "no heapdiff_attach in the loaded library")
                return
            result = call(caller, entry, request) & 0xFFFFFFFF
            say("result", result - (1 << 32) if result >= 1 << 31 else result)
        except Exited:
            say("exited")
        except Failed as failure:
            say("error", str(failure))
        finally:
            if running() and own_code:
                inferior.write_memory(caller, original)
            elif running():
                gdb.execute("set $sp = %d" % sp)

    def main():
        if not running():
            say("error", "gdb could not attach to the process")
            return
        # unwindonsignal: for gdb's own calls, still made on architectures other than x86_64.
        for setting in ("pagination off", "confirm off", "unwindonsignal on", "print thread-events off"):
            gdb.execute("set " + setting)
        gdb.execute("handle all nostop noprint pass", to_string=True)
        gdb.execute("handle SIGINT nostop noprint pass", to_string=True)
        gdb.execute("handle SIGSTOP stop print nopass", to_string=True)   # noprint would imply nostop
        for library in ("libc[.-]", "ld-linux", "libpthread"):
            gdb.execute("sharedlibrary " + library, to_string=True)
        points = []
        for function in ("malloc", "calloc", "realloc", "free"):
            try:
                points.append(SafePoint(function, internal=True))
            except gdb.error:
                pass
        # No thread allocating within WAIT seconds: stop the process with
        # SIGSTOP, which no thread can block (gdb's own interrupt sends SIGINT,
        # which a server that takes its signals with sigwait or signalfd has
        # blocked everywhere). gdb reports it and, told nopass, drops it.
        lock, state = threading.Lock(), {"waiting": True, "stopped": False}
        pid = gdb.selected_inferior().pid
        def stop_the_process():   # on the timer's thread: no gdb call here
            with lock:
                if state["waiting"]:
                    state["stopped"] = True
                    os.kill(pid, signal.SIGSTOP)
        timer = threading.Timer(WAIT, stop_the_process)
        timer.start()
        try:
            gdb.execute("continue", to_string=True)
        except gdb.error:
            pass
        with lock:
            state["waiting"] = False
        timer.cancel()
        for point in points:
            point.delete()
        if state["stopped"] and SafePoint.chosen and running():
            # Both at once: the SIGSTOP is still pending, and must be taken
            # now, not in the middle of the calls below.
            SafePoint.chosen = False
            try:
                gdb.execute("continue", to_string=True)
            except gdb.error:
                pass
        if not running():
            say("exited")
            return
        if SafePoint.chosen:
            say("at", "allocator entry")
        else:
            chosen = None
            for thread in gdb.selected_inferior().threads():
                thread.switch()
                if safe_stack(False):
                    chosen = thread
                    break
            if chosen is None:
                say("error", "no thread was at a safe point (all inside the allocator or the loader); try again")
                gdb.execute("detach", to_string=True)
                return
            say("at", "idle thread", chosen.ptid[1])
        inject()
        gdb.execute("detach", to_string=True)

    try:
        main()
    except gdb.error as error:
        say("error", (str(error).splitlines() or ["gdb failed"])[0])
    """#
}
