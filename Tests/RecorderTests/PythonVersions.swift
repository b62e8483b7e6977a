import Foundation
import Testing

/// The CPython interpreters the Python tests trace: pyenv's 3.8 to 3.13,
/// linked against libpython, and Debian's statically linked 3.11. Flask
/// comes from build/python-venvs/3.X for pyenv's (scripts/python-venvs.sh,
/// run by `scripts/setup.sh test`) and from apt for Debian's.
enum PythonVersions {
    struct Interpreter: CustomTestStringConvertible, Sendable, Hashable {
        /// "3.8", "3.11 static".
        var name: String
        var path: String
        /// The interpreter to run programs that import Flask with.
        var withFlask: String
        /// PY_VERSION_HEX >> 16, e.g. 0x030D.
        var hexMinor: UInt32
        var testDescription: String { name }

        /// The path, or a failure naming it when the interpreter is missing.
        func requirePath() throws -> String {
            try #require(FileManager.default.isExecutableFile(atPath: path), "no \(name) at \(path)")
            return path
        }

        func requireFlask() throws -> String {
            try #require(FileManager.default.isExecutableFile(atPath: withFlask),
                         "no Flask environment for \(name) at \(withFlask): run scripts/setup.sh test")
            return withFlask
        }
    }

    static let pyenvRoot = ProcessInfo.processInfo.environment["PYENV_ROOT"]
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".pyenv").path

    /// pyenv's newest 3.MINOR.x.
    static func pyenv(_ minor: Int) -> Interpreter {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "\(pyenvRoot)/versions")) ?? []
        let patch = versions.filter { $0.hasPrefix("3.\(minor).") }
            .compactMap { Int($0.dropFirst("3.\(minor).".count)) }.max()
        let version = patch.map { "3.\(minor).\($0)" } ?? "3.\(minor).missing"
        let venv = Harness.packageRoot.appendingPathComponent("build/python-venvs/3.\(minor)/bin/python").path
        return Interpreter(name: "3.\(minor)", path: "\(pyenvRoot)/versions/\(version)/bin/python3.\(minor)",
                           withFlask: venv, hexMinor: 0x0300 | UInt32(minor))
    }

    static let debianStatic = Interpreter(name: "3.11 static", path: "/usr/bin/python3.11",
                                          withFlask: "/usr/bin/python3.11", hexMinor: 0x030B)

    /// Every version the recorder reads, both builds of 3.11.
    static let all = (8...13).map(pyenv) + [debianStatic]
}
