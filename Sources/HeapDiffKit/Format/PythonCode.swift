import HeapDiffFormat

/// A Python code object as the recorder copied it (a PYCODE record): what
/// is needed to show a Python frame after the process, or the code object,
/// is gone.
public struct PythonCode: Sendable, Equatable {
    /// Unique within one process's snapshots; TRACE frames refer to it.
    public var id: UInt32
    /// `co_filename`: a path, or a pseudo-name such as `<frozen importlib._bootstrap>`.
    public var file: String
    /// `co_qualname`, e.g. `Gateway.handle_request`.
    public var qualifiedName: String
    public var lineTable: PythonLineTable

    public init(id: UInt32, file: String, qualifiedName: String, lineTable: PythonLineTable) {
        self.id = id
        self.file = file
        self.qualifiedName = qualifiedName
        self.lineTable = lineTable
    }

    /// Whether `other`, listed under the same id by another snapshot of the
    /// process, is this code object: the recorder writes a line table only
    /// as far as the snapshot's frames need it, so one table may be the
    /// start of the other, the rest the same.
    public func isListing(ofSameCodeAs other: PythonCode) -> Bool {
        id == other.id && file == other.file && qualifiedName == other.qualifiedName
            && lineTable.firstLine == other.lineTable.firstLine && lineTable.format == other.lineTable.format
            && (lineTable.bytes.starts(with: other.lineTable.bytes) || other.lineTable.bytes.starts(with: lineTable.bytes))
    }
}

/// The CPython interpreter a snapshot was taken in, and its code objects.
public struct PythonInfo: Sendable, Equatable {
    /// `PY_VERSION_HEX`, e.g. 0x030b07f0 for 3.11.7.
    public var hexVersion: UInt32
    public var codes: [UInt32: PythonCode]

    public init(hexVersion: UInt32, codes: [UInt32: PythonCode] = [:]) {
        self.hexVersion = hexVersion
        self.codes = codes
    }

    /// "3.11.7".
    public var version: String {
        "\(hexVersion >> 24).\((hexVersion >> 16) & 0xFF).\((hexVersion >> 8) & 0xFF)"
    }
}

/// How a Python frame is packed into a stack frame: a tag no user-space
/// address has, the code id, the instruction index. The packing is the
/// format header's (`hd_pyframe_*` in heapdiff_format.h), called from here.
public enum PythonFrameAddress {
    public static func isPython(_ frame: UInt64) -> Bool {
        hd_pyframe_is(frame) != 0
    }

    public static func codeID(_ frame: UInt64) -> UInt32 {
        hd_pyframe_code(frame)
    }

    public static func instruction(_ frame: UInt64) -> Int {
        Int(hd_pyframe_instruction(frame))
    }

    public static func make(codeID: UInt32, instruction: UInt32) -> UInt64 {
        hd_pyframe_make(codeID, instruction)
    }
}

extension PythonInfo {
    init(payload cursor: inout ByteCursor, exact: Bool = true) throws {
        try cursor.requireFixedPart(FormatLayout.Python.size)
        self.init(hexVersion: try cursor.u32(at: FormatLayout.Python.hexVersion))
        try cursor.seek(to: FormatLayout.Python.size)
        if exact { try cursor.requireEnd(after: "the Python version") }
    }
}

extension PythonCode {
    /// format: how the line table reads, from the PYTHON record's version.
    init(payload cursor: inout ByteCursor, format: PythonLineTable.Format) throws {
        typealias Field = FormatLayout.PythonCode
        try cursor.requireFixedPart(Field.fixedSize)
        let id = try cursor.u32(at: Field.id)
        let firstLine = try cursor.u32(at: Field.firstLine)
        try cursor.seek(to: Field.fixedSize)
        let file = try cursor.readString(named: "file name")
        let name = try cursor.readString(named: "function name")
        let tableLength = try cursor.readU32()
        guard tableLength <= FormatLayout.Limits.maxString else {
            throw DecodingProblem(message: "line table of \(tableLength) bytes, more than the \(FormatLayout.Limits.maxString) allowed")
        }
        let table = Array(try cursor.readBytes(Int(tableLength)))
        try cursor.requireEnd(after: "the line table")
        self.init(id: id, file: file, qualifiedName: name,
                  lineTable: PythonLineTable(bytes: table, firstLine: Int(Int32(bitPattern: firstLine)), format: format))
    }
}
