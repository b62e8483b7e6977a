import Foundation
import HeapDiffKit

/// Why the program `run` or `check` started could not have loaded the
/// recorder, when its file tells: the process then leaves no snapshot, and
/// "no snapshot" alone would leave the user guessing.
enum PreloadRefusal {
    static func reason(program: String, environment: [String: String]) -> String? {
        guard let path = ExecutableLinking.resolve(program, path: environment["PATH"]) else { return nil }
        let go = ExecutableLinking.isGo(path: path)
        if ExecutableLinking(path: path) == .static {
            return "\(program) is statically linked: without a dynamic loader, LD_PRELOAD cannot load the recorder "
                + "into it (heapdiff records dynamically linked programs)" + (go ? goAdvice : "")
        }
        if go {
            return "\(program) is a Go program: it ends by its own exit system call, never through exit(), so no "
                + "exit snapshot is written (--interval and `heapdiff snapshot PID` still see its C allocations)" + goAdvice
        }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        // The loader's secure mode: set-ID for someone else, LD_PRELOAD is ignored.
        if (info.st_mode & S_ISUID != 0 && info.st_uid != geteuid()) || (info.st_mode & S_ISGID != 0 && info.st_gid != getegid()) {
            return "\(program) is set-user-ID or set-group-ID: the dynamic loader ignores LD_PRELOAD for it"
        }
        return nil
    }

    /// Go's heap is not malloc's: the recorder sees only cgo's allocations.
    private static let goAdvice = "; a Go program's own heap is not malloc's: its heap profile (runtime/pprof) shows it"
}
