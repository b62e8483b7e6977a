/// What the traces of one statistic have in common.
///
/// Built from symbolized frames, never from runtime addresses, so that keys
/// from two runs with different address-space layouts match. When a frame
/// lacks the information a key type asks for, the key falls back to the
/// next most precise thing known about it.
public enum GroupKey: Hashable, Sendable {
    case line(file: String, line: Int)
    case function(name: String, module: String)
    case file(path: String)
    /// The key of grouping by module, and the file key of code without debug information.
    case module(path: String)
    /// Code without symbols, or an address in no module (`module` empty).
    case address(module: String, offset: UInt64)
    /// Every frame's `lineno` key, innermost first.
    case traceback([GroupKey])
    /// A trace recorded without any frame.
    case noFrames

    /// The key of `frame` for one frame's worth of key type (not `traceback`).
    static func forFrame(_ frame: Frame, by keyType: KeyType) -> GroupKey {
        switch keyType {
        case .lineno, .traceback:
            if let file = frame.file, let line = frame.line { return .line(file: file, line: line) }
            if let name = frame.function { return .function(name: name, module: frame.module) }
        case .function:
            if let name = frame.function { return .function(name: name, module: frame.module) }
        case .file:
            if let file = frame.file { return .file(path: file) }
            if !frame.module.isEmpty { return .module(path: frame.module) }
        case .module:
            if !frame.module.isEmpty { return .module(path: frame.module) }
        }
        return .address(module: frame.module, offset: frame.offset)
    }

    /// How the key is shown at the start of a report row.
    public func label(paths: PathDisplay = .unchanged) -> String {
        switch self {
        case .line(let file, let line):
            return "\(paths.show(file)):\(line)"
        case .function(let name, let module):
            return module.isEmpty ? name : "\(name) (\(baseName(of: module)))"
        case .file(let path), .module(let path):
            return paths.show(path)
        case .address(let module, let offset):
            return Frame(module: module, offset: offset).moduleOffset
        case .traceback(let frames):
            return frames.map { $0.label(paths: paths) }.joined(separator: " < ")
        case .noFrames:
            return "<no frames>"
        }
    }
}
