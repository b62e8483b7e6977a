/// Prints a frame as a traceback line: `file:line in function (module)`,
/// degrading to `function (module+0xOFFSET)` without line information and
/// to `module+0xOFFSET` (or `0xADDRESS`) without any symbol. An inlined
/// frame says `(inlined)` instead of its module, which is the next frame's;
/// a Python frame says `(Python)`.
public struct FrameFormatter: Sendable {
    public var paths: PathDisplay

    public init(paths: PathDisplay) {
        self.paths = paths
    }

    public func format(_ frame: Frame) -> String {
        let module = frame.isPython ? "Python" : frame.inlined ? "inlined" : baseName(of: frame.module)
        switch (frame.file, frame.line, frame.function) {
        case let (file?, line?, function?):
            return "\(paths.show(file)):\(line) in \(function) (\(module))"
        case let (file?, line?, nil):
            return "\(paths.show(file)):\(line) (\(module))"
        case let (_, _, function?):
            return frame.inlined ? "\(function) (inlined, \(frame.moduleOffset))" : "\(function) (\(frame.moduleOffset))"
        default:
            return frame.moduleOffset
        }
    }
}
