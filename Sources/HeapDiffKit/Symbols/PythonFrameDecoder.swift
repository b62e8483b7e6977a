/// Turns the Python frames of a trace (tagged TRACE frames, see
/// `PythonFrameAddress`) into `Frame`s, with the line computed from the
/// code object's line table.
///
/// The one place that tells a Python frame from a native one: an address is
/// a Python frame when it is tagged and its snapshot is of a Python process
/// (`isPython`); every other address is symbolized as native code.
struct PythonFrameDecoder {
    let python: PythonInfo?

    /// Whether `address` is one of this snapshot's Python frames.
    func isPython(_ address: UInt64) -> Bool {
        python != nil && PythonFrameAddress.isPython(address)
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
                     file: code.file, line: code.lineTable.line(atInstruction: instruction), isPython: true)
    }
}
