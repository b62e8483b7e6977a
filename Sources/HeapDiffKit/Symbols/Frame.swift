/// One symbolized return address of a call stack.
///
/// A frame is identified by its module and file-relative offset, never by
/// its runtime address, so that the same code matches across runs whose
/// address-space layouts differ.
public struct Frame: Hashable, Sendable {
    /// The module's path; empty when the address is in no recorded module.
    public var module: String
    /// File-relative address in `module` (the return address); the runtime
    /// address itself when `module` is empty.
    public var offset: UInt64
    public var function: String?
    /// The source file as DWARF names it (usually a full path).
    public var file: String?
    public var line: Int?
    /// Code the compiler inlined into the frame after it. One return address
    /// in inlined code becomes several frames, innermost first, with the same
    /// module and offset: each inlined call is `inlined`, the real function
    /// that contains them all is not.
    public var inlined: Bool
    /// A Python frame of a CPython process: `function` is the qualified
    /// name, `file` and `module` the source file, `offset` the bytecode
    /// offset of the instruction being run.
    public var isPython: Bool

    public init(module: String, offset: UInt64, function: String? = nil, file: String? = nil, line: Int? = nil,
                inlined: Bool = false, isPython: Bool = false) {
        self.module = module
        self.offset = offset
        self.function = function
        self.file = file
        self.line = line
        self.inlined = inlined
        self.isPython = isPython
    }

    /// `libfoo.so+0x1a2b`, or `0x7f…` without a module: how an unsymbolized
    /// frame is shown, and the identity of a frame without line information.
    public var moduleOffset: String {
        let hex = "0x" + String(offset, radix: 16)
        return module.isEmpty ? hex : baseName(of: module) + "+" + hex
    }
}

extension Frame: CustomStringConvertible {
    /// `file:line in function (module)`, degrading to what is known.
    public var description: String { FrameFormatter(paths: .unchanged).format(self) }
}

/// The last path component, which is how modules are shown.
func baseName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    let name = path[path.index(after: slash)...]
    return name.isEmpty ? path : String(name)
}
