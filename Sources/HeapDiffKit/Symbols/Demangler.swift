import CSwiftDemangle
import Glibc

/// Turns mangled C++ (Itanium), Swift and legacy Rust symbols into readable
/// names with the demanglers of the runtime libraries themselves, so that
/// names read exactly as in a debugger or `c++filt`.
///
/// `swift_demangle` is declared in C (`CSwiftDemangle`) and bound by the
/// linker, because the installed tool has the Swift runtime linked in
/// (`-static-stdlib`), where `dlsym` cannot see it. `__cxa_demangle` is found
/// with `dlsym`: libstdc++ is loaded into every Swift program on Linux. A
/// name neither can read is returned unchanged.
public enum Demangler {
    /// The readable form of `name`, or `name` itself when it is not mangled.
    public static func demangle(_ name: String) -> String {
        if isSwift(name), let swift = Functions.shared.swift(name) {
            return swift
        }
        if name.hasPrefix("_Z"), let itanium = Functions.shared.itanium(name) {
            return RustLegacyName(itanium)?.readable ?? itanium
        }
        return name
    }

    /// Whether `name` looks like a symbol `demangle` would change.
    public static func isMangled(_ name: String) -> Bool {
        name.hasPrefix("_Z") || isSwift(name)
    }

    private static func isSwift(_ name: String) -> Bool {
        ["$s", "$S", "$e", "_$s", "_$S", "_T0"].contains { name.hasPrefix($0) }
    }
}

/// The two C demanglers; `__cxa_demangle` looked up once.
private struct Functions: @unchecked Sendable {
    typealias Itanium = @convention(c) (
        UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int32>?
    ) -> UnsafeMutablePointer<CChar>?

    /// Both functions are thread-safe and keep no state, so one lookup serves every caller.
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

    func swift(_ name: String) -> String? {
        let utf8 = Array(name.utf8CString)
        // Flags must be 0; with no buffer the result is malloc'd for us.
        let result = utf8.withUnsafeBufferPointer { swift_demangle($0.baseAddress, utf8.count - 1, nil, nil, 0) }
        guard let result else { return nil }
        defer { free(result) }
        return String(cString: result)
    }
}

/// A legacy Rust symbol after Itanium demangling, `a::b::h0123456789abcdef`:
/// the hash identifies the crate build, not the function, and `$LT$`-style
/// escapes stand for punctuation Itanium names cannot hold.
private struct RustLegacyName {
    let readable: String

    private static let escapes = [
        ("$LT$", "<"), ("$GT$", ">"), ("$RF$", "&"), ("$BP$", "*"), ("$SP$", "@"), ("$C$", ","),
        ("$LP$", "("), ("$RP$", ")"), ("$u20$", " "), ("$u27$", "'"), ("$u5b$", "["), ("$u5d$", "]"),
        ("$u7b$", "{"), ("$u7d$", "}"), ("$u7e$", "~"), ("..", "::"),
    ]

    init?(_ demangled: String) {
        let hashLength = 16
        let suffix = demangled.suffix(hashLength + 3)
        guard suffix.count == hashLength + 3, suffix.hasPrefix("::h"),
              suffix.dropFirst(3).allSatisfy(\.isHexDigit) else { return nil }
        var name = String(demangled.dropLast(hashLength + 3))
        // A path segment starting with an escape gets a `_` in front of it.
        if name.hasPrefix("_$") { name.removeFirst() }
        name = name.replacing("::_$", with: "::$")
        for (escape, replacement) in Self.escapes {
            name = name.replacing(escape, with: replacement)
        }
        readable = name
    }
}
