/// Turns the Python frames of a trace (tagged TRACE frames, see
/// `PythonFrameAddress`) into `Frame`s, with the line computed from the
/// code object's line table.
struct PythonFrameDecoder {
    let python: PythonInfo?

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
