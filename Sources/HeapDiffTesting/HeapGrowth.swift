import Foundation
import HeapDiffKit

/// The failure of `expectNoHeapGrowth`: the call sites that kept growing,
/// described as `heapdiff check` reports them.
public struct HeapGrowth: Error, CustomStringConvertible {
    public var result: LeakCheck.Result
    public var policy: LeakCheck.Policy
    /// Where the snapshots of the rounds are kept.
    public var directory: String

    /// Frames of each site's stack in the description: the site and its
    /// callers in the tests' own code.
    static let stackFrames = 5

    /// The built-in plumbing, and this library: a stack shows the test's
    /// closure, not `expectNoHeapGrowth` calling it.
    static let rule = AllocationSiteRule.standard.adding(functions: [Glob("HeapDiffTesting.*")])

    /// The harness's name in its verdict records.
    static let harness = "HeapDiffTesting"

    private var report: CheckReport {
        CheckReport(result: result, policy: policy, keyType: .lineno, limit: 0, directory: directory,
                    paths: PathDisplay(baseDirectory: FileManager.default.currentDirectoryPath),
                    stackFrames: Self.stackFrames, rule: Self.rule)
    }

    public var description: String { report.text().joined(separator: "\n") }

    /// The grown sites in one line, as recorded for `heapdiff check`.
    public var summary: String { report.summary() }
}

/// `expectNoHeapGrowth` could not judge: a bad argument, or the recorder
/// did not write a snapshot.
public enum HeapDiffTestingError: Error, CustomStringConvertible {
    case badArgument(String)
    case noSnapshot(String)

    public var description: String {
        switch self {
        case let .badArgument(problem): "expectNoHeapGrowth: \(problem)"
        case let .noSnapshot(problem): "expectNoHeapGrowth: \(problem)"
        }
    }
}
