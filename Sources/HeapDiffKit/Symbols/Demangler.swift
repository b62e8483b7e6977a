import CLibiberty
import CSwiftDemangle
import Glibc

/// Turns mangled C++ (Itanium), Swift and Rust symbols into readable names
/// with the demanglers of the runtime libraries and toolchains themselves,
/// so that names read exactly as in a debugger, `c++filt` or `swift demangle`.
///
/// `swift_demangle` is declared in C (`CSwiftDemangle`) and bound by the
/// linker, because the installed tool has the Swift runtime linked in
/// (`-static-stdlib`), where `dlsym` cannot see it. `__cxa_demangle` is found
/// with `dlsym`: libstdc++ is loaded into every Swift program on Linux.
/// Rust symbols, v0 (`_R…`) and legacy (Itanium-shaped, ending in a
/// `17h…E` hash), go to GNU libiberty's Rust demangler, which c++filt and gdb
/// use; it drops the legacy hash, which names the crate build and not the
/// function. A name none can read is returned unchanged.
///
/// Swift splits an async function at each `await` into partial functions,
/// demangled as "(2) await resume partial function for F"; each is named F
/// here, since it runs F's own code (its frames' lines say where), so that
/// grouping by function counts F once and plumbing rules for F apply to it.
public enum Demangler {
    /// The readable form of `name`, or `name` itself when it is not mangled.
    public static func demangle(_ name: String) -> String {
        if isSwift(name), let swift = Functions.shared.swift(name) {
            return wholeAsyncFunction(swift)
        }
        if name.hasPrefix("_R") || name.hasPrefix("_Z"), let rust = Functions.shared.rust(name) {
            return rust
        }
        if name.hasPrefix("_Z"), let itanium = Functions.shared.itanium(name) {
            return itanium
        }
        return name
    }

    /// Whether `name` looks like a symbol `demangle` would change.
    public static func isMangled(_ name: String) -> Bool {
        name.hasPrefix("_Z") || name.hasPrefix("_R") || isSwift(name)
    }

    /// F for "(N) await resume partial function for F" and "(N) suspend
    /// resume partial function for F"; any other name as it is.
    static func wholeAsyncFunction(_ demangled: String) -> String {
        guard demangled.hasPrefix("("), let close = demangled.firstIndex(of: ")") else { return demangled }
        let number = demangled[demangled.index(after: demangled.startIndex)..<close]
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }) else { return demangled }
        let rest = demangled[demangled.index(after: close)...]
        for part in [" await resume partial function for ", " suspend resume partial function for "]
        where rest.hasPrefix(part) {
            return String(rest.dropFirst(part.count))
        }
        return demangled
    }

    private static func isSwift(_ name: String) -> Bool {
        ["$s", "$S", "$e", "_$s", "_$S", "_T0"].contains { name.hasPrefix($0) }
    }
}

/// The C demanglers; `__cxa_demangle` looked up once.
private struct Functions: @unchecked Sendable {
    typealias Itanium = @convention(c) (
        UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int32>?
    ) -> UnsafeMutablePointer<CChar>?

    /// All are thread-safe and keep no state, so one lookup serves every caller.
    static let shared = Functions()

    private let cxaDemangle: Itanium?

    private init() {
        // The main program's handle searches it and everything loaded at startup.
        let handle = dlopen(nil, RTLD_LAZY)
        cxaDemangle = dlsym(handle, "__cxa_demangle").map { unsafeBitCast($0, to: Itanium.self) }
    }

    func itanium(_ name: String) -> String? {
        guard let cxaDemangle else { return nil }
        var status: Int32 = 0
        guard let result = cxaDemangle(name, nil, nil, &status) else { return nil }
        defer { free(result) }
        return status == 0 ? String(cString: result) : nil
    }

    /// libiberty's Rust demangler alone (not its automatic choice, which
    /// would also try Ada and D rules on names that are neither): nil for
    /// anything but a Rust symbol, C++ included.
    func rust(_ name: String) -> String? {
        guard let result = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_RUST) else { return nil }
        defer { free(result) }
        return String(cString: result)
    }

    func swift(_ name: String) -> String? {
        let utf8 = Array(name.utf8CString)
        // Flags must be 0; with no buffer the result is malloc'd for us.
        let result = utf8.withUnsafeBufferPointer { swift_demangle($0.baseAddress, utf8.count - 1, nil, nil, 0) }
        guard let result else { return nil }
        defer { free(result) }
        return String(cString: result)
    }
}
