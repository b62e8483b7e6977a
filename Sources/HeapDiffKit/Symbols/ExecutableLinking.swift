import CLibdw
import Foundation

/// How a program file is linked, as far as preloading goes: a statically
/// linked executable has no dynamic loader (no `PT_INTERP`), so nothing in
/// LD_PRELOAD is ever loaded into it (a Go program by default, a
/// `-static` build). Read with libelf.
public enum ExecutableLinking: Equatable, Sendable {
    case dynamic
    case `static`
    /// Not an ELF file (a script, which names its interpreter), or unreadable.
    case unknown

    public init(path: String) {
        self = Self.withELF(path, otherwise: .unknown) { elf in
            var count = 0
            guard elf_getphdrnum(elf, &count) == 0 else { return .unknown }
            var header = GElf_Phdr()
            let interpreted = (0..<count).contains {
                gelf_getphdr(elf, Int32($0), &header) != nil && header.p_type == UInt32(PT_INTERP)
            }
            return interpreted ? .dynamic : .static
        }
    }

    /// Whether PATH is a Go program (a `.go.buildinfo` or `.note.go.buildid`
    /// section): its heap is Go's own, not malloc's, and it ends with its own
    /// exit system call, never through exit().
    public static func isGo(path: String) -> Bool {
        withELF(path, otherwise: false) { elf in
            var names = 0
            guard elf_getshdrstrndx(elf, &names) == 0 else { return false }
            var section = elf_nextscn(elf, nil)
            while let current = section {
                var header = GElf_Shdr()
                if gelf_getshdr(current, &header) != nil, let name = elf_strptr(elf, names, Int(header.sh_name)),
                   [".go.buildinfo", ".note.go.buildid"].contains(String(cString: name)) {
                    return true
                }
                section = elf_nextscn(elf, current)
            }
            return false
        }
    }

    /// BODY on PATH opened with libelf, or OTHERWISE when it cannot be
    /// opened or is not an ELF file.
    private static func withELF<T>(_ path: String, otherwise: T, _ body: (OpaquePointer) -> T) -> T {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return otherwise }
        defer { close(fd) }
        _ = elf_version(UInt32(EV_CURRENT))
        guard let elf = elf_begin(fd, ELF_C_READ, nil) else { return otherwise }
        defer { elf_end(elf) }
        return elf_kind(elf) == ELF_K_ELF ? body(elf) : otherwise
    }

    /// PROGRAM as `execvp` finds it: itself when it names a path, else the
    /// first executable file of that name in `PATH`.
    public static func resolve(_ program: String, path: String?) -> String? {
        if program.contains("/") { return program }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The file PROGRAM runs, as `/proc/PID/exe` names it: found as
    /// `execvp` finds it, its symbolic links followed.
    public static func executableFile(_ program: String, path: String?) -> String? {
        resolve(program, path: path).map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
    }
}
