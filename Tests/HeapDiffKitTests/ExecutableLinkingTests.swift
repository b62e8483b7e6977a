import Foundation
import Testing
@testable import HeapDiffKit

/// `ExecutableLinking`: whether a program file has a dynamic loader, and is Go.
@Suite struct ExecutableLinkingTests {
    @Test func aDynamicProgramAScriptAndAMissingFile() throws {
        #expect(ExecutableLinking(path: "/bin/true") == .dynamic)
        #expect(!ExecutableLinking.isGo(path: "/bin/true"))
        let directory = try TemporaryDirectory()
        let script = URL(fileURLWithPath: directory.path + "/script.sh")
        try "#!/bin/sh\nexit 0\n".write(to: script, atomically: true, encoding: .utf8)
        #expect(ExecutableLinking(path: script.path) == .unknown)
        #expect(ExecutableLinking(path: directory.path + "/missing") == .unknown)
    }

    @Test func aProgramIsFoundAsExecvpFindsIt() throws {
        #expect(ExecutableLinking.resolve("./tool", path: "/bin") == "./tool")
        #expect(ExecutableLinking.resolve("true", path: "/nonexistent:/bin") == "/bin/true")
        #expect(ExecutableLinking.resolve("no-such-program-here", path: "/bin:/usr/bin") == nil)
    }
}
