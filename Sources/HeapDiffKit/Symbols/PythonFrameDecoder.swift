/// Turns the Python frames of a trace (tagged TRACE frames, see
/// `PythonFrameAddress`) into `Frame`s, with the line computed from the
/// code object's line table.
///
/// The one place that tells a Python frame from a native one: an address is
/// a Python frame when it is tagged and its snapshot is of a Python process
/// (`isPython`); every other address is symbolized as native code.
///
/// A class, so that each code object's line table is decoded once for all
/// of its frames (a module's import-time code has thousands).
final class PythonFrameDecoder {
    private(set) var python: PythonInfo?
    private var decodedLines: [UInt32: PythonLineTable.Lines] = [:]

    init(python: PythonInfo?) {
        self.python = python
    }

    /// Whether `address` is one of this snapshot's Python frames.
    func isPython(_ address: UInt64) -> Bool {
        python != nil && PythonFrameAddress.isPython(address)
    }

    /// Whether the code object of the Python frame at `address` is listed.
    func hasCode(at address: UInt64) -> Bool {
        python?.codes[PythonFrameAddress.codeID(address)] != nil
    }

    /// More code objects, or longer listings of listed ones (a code object's
    /// id is never reused): their line tables are decoded again when asked for.
    func add(_ codes: [UInt32: PythonCode]) {
        python?.codes.merge(codes) { _, longer in longer }
        for id in codes.keys { decodedLines[id] = nil }
    }

    /// The Python frame at `address`, or nil for native code.
    func pythonFrame(at address: UInt64) -> Frame? {
        isPython(address) ? frame(for: address) : nil
    }

    func frame(for address: UInt64) -> Frame {
        let id = PythonFrameAddress.codeID(address)
        let instruction = PythonFrameAddress.instruction(address)
        guard let code = python?.codes[id] else {
            // A PYCODE record missing: keep the frame, say what it is.
            return Frame(module: "", offset: address, function: "<Python code \(id)>", isPython: true)
        }
        return Frame(module: code.file, offset: UInt64(instruction) * 2, function: code.qualifiedName,
                     file: code.file, line: lines(of: code).line(atInstruction: instruction), isPython: true)
    }

    private func lines(of code: PythonCode) -> PythonLineTable.Lines {
        if let known = decodedLines[code.id] { return known }
        let decoded = code.lineTable.lines()
        decodedLines[code.id] = decoded
        return decoded
    }
}
