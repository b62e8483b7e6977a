import Foundation
import Testing
@testable import HeapDiffKit

/// The verdict records that test harnesses write for `heapdiff check`: the
/// line layout of heapdiff_control.h, and the files read back as a run added them.
@Suite struct LeakTestVerdictTests {
    static let leaked = LeakTestVerdict(status: .leaked, harness: "HeapDiffTesting", test: "T.swift:4 in\ttest()",
                                        snapshots: "/tmp/s/HeapDiffTesting/T.swift-4",
                                        summary: "S.swift:18: grew +486 KiB (+6000 blocks)\nsecond line")

    @Test func aRecordIsOneLineOfFiveTabSeparatedFields() {
        #expect(Self.leaked.line == "leaked\tHeapDiffTesting\tT.swift:4 in test()\t/tmp/s/HeapDiffTesting/T.swift-4\t"
            + "S.swift:18: grew +486 KiB (+6000 blocks) second line\n")
        let back = LeakTestVerdict(line: Self.leaked.line.dropLast(), pid: 42)
        #expect(back == LeakTestVerdict(status: .leaked, harness: "HeapDiffTesting", test: "T.swift:4 in test()",
                                        snapshots: "/tmp/s/HeapDiffTesting/T.swift-4",
                                        summary: "S.swift:18: grew +486 KiB (+6000 blocks) second line", pid: 42))
        #expect(LeakTestVerdict(line: "passed\tpytest-heapdiff\tt.py::test\t\t", pid: 1)?.status == .passed)
        // Fields added later are ignored; a status this version does not know could not be judged.
        #expect(LeakTestVerdict(line: "passed\th\tt\t\t\tnew field", pid: 1)?.status == .passed)
        #expect(LeakTestVerdict(line: "skipped\th\tt\t\t", pid: 1)?.status == .error)
        #expect(LeakTestVerdict(line: "passed\th\tt", pid: 1) == nil)
    }

    @Test func aLongSummaryIsCutToFitTheLine() {
        var verdict = Self.leaked
        verdict.summary = String(repeating: "é", count: 5000)
        let line = verdict.line
        #expect(line.utf8.count <= 4096 && line.utf8.count > 4090)
        #expect(line.hasSuffix("é…\n"))
    }

    @Test func theFileNameIsTheHeadersAndCarriesThePid() {
        #expect(LeakTestVerdictFiles.name(pid: 4242) == "leak-tests.4242.verdicts")
        #expect(LeakTestVerdictFiles.pid(ofFile: "leak-tests.4242.verdicts") == 4242)
        for name in ["leak-tests..verdicts", "leak-tests.-1.verdicts", "leak-tests.42.verdicts.tmp", "python.42.1.heapsnap",
                     "leak-tests.4x.verdicts", "leak-tests.0.verdicts"] {
            #expect(LeakTestVerdictFiles.pid(ofFile: name) == nil, "\(name)")
        }
    }

    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("verdicts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func onlyTheRecordsARunAddedAreRead() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let earlier = LeakTestVerdict(status: .leaked, harness: "h", test: "earlier run")
        try LeakTestVerdictFiles.append(earlier, directory: directory, pid: 7)
        let mark = LeakTestVerdictFiles.mark(directory: directory)
        // The same pid again (appended after the mark), another process, and a line still being written.
        let passed = LeakTestVerdict(status: .passed, harness: "h", test: "this run")
        try LeakTestVerdictFiles.append(passed, directory: directory, pid: 7)
        try LeakTestVerdictFiles.append(Self.leaked, directory: directory, pid: 9)
        let partial = FileHandle(forWritingAtPath: directory + "/leak-tests.9.verdicts")
        partial?.seekToEndOfFile()
        partial?.write(Data("passed\th\tunfinished".utf8))
        partial?.closeFile()

        let (verdicts, problems) = LeakTestVerdictFiles.load(directory: directory, since: mark)
        var expected = [passed, Self.leaked]
        expected[0].pid = 7
        expected[1].pid = 9
        expected[1].test = "T.swift:4 in test()"
        expected[1].summary = "S.swift:18: grew +486 KiB (+6000 blocks) second line"
        #expect(verdicts == expected)
        #expect(problems.isEmpty)
        #expect(LeakTestVerdictFiles.load(directory: directory).verdicts.map(\.test) == ["earlier run", "this run",
                                                                                         "T.swift:4 in test()"])
        let modes = try FileManager.default.attributesOfItem(atPath: directory + "/leak-tests.7.verdicts")
        #expect((modes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func filesOfAnotherUserOrNotRegularAreNotBelieved() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try LeakTestVerdictFiles.append(Self.leaked, directory: directory, pid: 5)
        try FileManager.default.createSymbolicLink(atPath: directory + "/leak-tests.6.verdicts",
                                                   withDestinationPath: directory + "/leak-tests.5.verdicts")
        try FileManager.default.createDirectory(atPath: directory + "/leak-tests.8.verdicts",
                                                withIntermediateDirectories: false)
        try Data("nonsense\n".utf8).write(to: URL(fileURLWithPath: directory + "/leak-tests.3.verdicts"))
        var (verdicts, problems) = LeakTestVerdictFiles.load(directory: directory)
        #expect(verdicts.map(\.pid) == [5])
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.contains { $0.hasPrefix(directory + "/leak-tests.3.verdicts: not a verdict record: nonsense") })
        #expect(problems.contains { $0.contains("leak-tests.6.verdicts") })   // a symbolic link is not followed
        #expect(problems.contains { $0.contains("leak-tests.8.verdicts is not a regular file") })

        // Another user's file (a worker that switched user under a root run): only root can make one here.
        guard geteuid() == 0 else { return }
        #expect(chown(directory + "/leak-tests.5.verdicts", 65534, 65534) == 0)
        (verdicts, problems) = LeakTestVerdictFiles.load(directory: directory)
        #expect(verdicts.isEmpty)
        #expect(problems.contains("\(directory)/leak-tests.5.verdicts belongs to uid 65534, not to this user; "
            + "its verdicts are ignored"))
    }

    @Test func aFileThatCannotBeCreatedIsAnError() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createSymbolicLink(atPath: directory + "/leak-tests.5.verdicts", withDestinationPath: "/etc/passwd")
        #expect(throws: VerdictFileError.self) { try LeakTestVerdictFiles.append(Self.leaked, directory: directory, pid: 5) }
    }
}
