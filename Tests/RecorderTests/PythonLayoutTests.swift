import Foundation
import Testing

/// The offsets the recorder reads inside CPython must be the interpreter's
/// own: scripts/python-layout.c prints them from each version's headers, and
/// every value must equal the one in python_layout.c's layout for that
/// version (for 3.13, the values _Py_DebugOffsets does not publish).
@Suite struct PythonLayoutTests {
    /// Each pyenv version's headers, and Debian's when python3.11-dev is installed.
    static let includeDirectories = (8...13).map { minor in
        let interpreter = URL(fileURLWithPath: PythonVersions.pyenv(minor).path)
        return interpreter.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("include/python3.\(minor)").path
    } + ["/usr/include/python3.11"]

    /// `field value` pairs of `struct hd_py_layout layout_3_N = { … };`.
    static func recorderLayout(minor: Int) throws -> [String: Int] {
        try recorderLayout(named: "layout_3_\(minor)")
    }

    /// `field value` pairs of `struct hd_py_layout NAME = { … };`.
    static func recorderLayout(named name: String) throws -> [String: Int] {
        let source = try String(contentsOf: Harness.packageRoot.appendingPathComponent(
            "Sources/HeapDiffRecorder/python_layout.c"), encoding: .utf8)
        guard let start = source.range(of: "struct hd_py_layout \(name) = {"),
              let end = source.range(of: "};", range: start.upperBound..<source.endIndex) else {
            throw Harness.Failure(description: "no \(name) in python_layout.c")
        }
        var fields: [String: Int] = [:]
        for match in source[start.upperBound..<end.lowerBound].matches(of: /\.(\w+) = (0x[0-9A-Fa-f]+|\d+)/) {
            let text = String(match.2)
            fields[String(match.1)] = text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
        }
        return fields
    }

    @Test(arguments: includeDirectories)
    func offsetsMatchTheHeaders(_ include: String) throws {
        if include.hasPrefix("/usr/") && !FileManager.default.fileExists(atPath: include) { return }
        try #require(FileManager.default.fileExists(atPath: include), "pyenv's headers: \(include)")
        let dir = try Harness.temporaryDirectory("layout")
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("python-layout").path
        let build = try Harness.run("/usr/bin/cc", arguments: ["-I", include, "-o", binary,
            Harness.packageRoot.appendingPathComponent("scripts/python-layout.c").path], preload: false)
        #expect(build.status == 0, "\(build.stderr)")
        let printed = try Harness.run(binary, preload: false).stdoutText.split(separator: "\n").map {
            $0.split(separator: " ").map(String.init)
        }
        let version = try #require(printed.first { $0.first == "version" }?.last)
        let minor = try #require(Int(version.split(separator: ".").last ?? ""))
        let layout = try Self.recorderLayout(minor: minor)
        let fields = printed.filter { $0.first != "version" && $0.count == 2 }
        // 3.13 publishes the rest in _Py_DebugOffsets.
        #expect(fields.count >= (minor >= 13 ? 4 : 17))
        for field in fields {
            #expect(layout[field[0]] == Int(field[1]), "\(version) \(field[0])")
        }
    }

    /// 3.13's frames are read through a constant copy of its layout when the
    /// interpreter publishes exactly that one (python_layout.c): every offset
    /// of layout_3_13_known must be what pyenv's 3.13 publishes in
    /// _Py_DebugOffsets (read here with ctypes, member by member in the order
    /// of Include/internal/pycore_runtime.h), or the constant copy is never
    /// used. The unpublished values are the ones offsetsMatchTheHeaders checks.
    @Test func known313LayoutIsWhatTheInterpreterPublishes() throws {
        let python = try PythonVersions.pyenv(13).requirePath()
        let script = """
        import ctypes
        base = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "_PyRuntime"))
        assert ctypes.string_at(base, 8) == b"xdebugpy"
        v = (ctypes.c_uint64 * 70).from_address(base + 8)
        fields = dict(runtime_finalizing=v[3], runtime_interpreters_head=v[4], interpreter_next=v[7],
            interpreter_gil=v[13], gil_locked=v[16] - v[14], gil_last_holder=v[17] - v[14],
            tstate_frame=v[22], tstate_thread_id=v[23], frame_previous=v[28], frame_code=v[29],
            frame_prev_instr=v[30], frame_owner=v[32], code_filename=v[34], code_qualname=v[36],
            code_linetable=v[37], code_firstlineno=v[38], code_code=v[42], type_flags=v[48],
            bytes_size=v[64], bytes_data=v[65], str_state=v[67], str_length=v[68], ascii_size=v[69],
            compact_size=v[69] + 2 * ctypes.sizeof(ctypes.c_void_p))
        for name, value in fields.items():
            print(name, value)
        """
        let printed = try Harness.run(python, arguments: ["-c", script], preload: false)
        #expect(printed.status == 0, "\(printed.stderr)")
        let published = printed.stdoutText.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(published.count == 24)
        let known = try Self.recorderLayout(named: "layout_3_13_known")
        let unpublished = try Self.recorderLayout(minor: 13)
        for field in published where field.count == 2 {
            #expect(known[field[0]] == Int(field[1]), "layout_3_13_known.\(field[0])")
        }
        // The values 3.13 does not publish are the same in both.
        for (field, value) in unpublished {
            #expect(known[field] == value, "layout_3_13_known.\(field)")
        }
    }
}
