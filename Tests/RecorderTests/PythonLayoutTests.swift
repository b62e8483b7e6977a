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
        let source = try String(contentsOf: Harness.packageRoot.appendingPathComponent(
            "Sources/HeapDiffRecorder/python_layout.c"), encoding: .utf8)
        guard let start = source.range(of: "struct hd_py_layout layout_3_\(minor) = {"),
              let end = source.range(of: "};", range: start.upperBound..<source.endIndex) else {
            throw Harness.Failure(description: "no layout_3_\(minor) in python_layout.c")
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
}
