import Foundation

/// How a leak check shows its verdict: text for people, JSON for CI tooling.
/// One text wherever the check runs: `heapdiff check`, and the failure of a
/// HeapDiffTesting expectation or a pytest-heapdiff test.
public struct CheckReport {
    public var result: LeakCheck.Result
    public var policy: LeakCheck.Policy
    public var keyType: KeyType
    /// Findings shown at most (0: all).
    public var limit: Int
    /// Where the snapshots are, named when the check fails.
    public var directory: String
    public var paths: PathDisplay
    /// Each growing site's stack in text: every frame (nil), or a short
    /// stack of at most this many frames: the site, then its callers up to the
    /// first one that is plumbing under `rule` (the interpreter, an installed
    /// package, a library, the test harness that ran the workload).
    public var stackFrames: Int?
    public var rule: AllocationSiteRule

    public init(result: LeakCheck.Result, policy: LeakCheck.Policy, keyType: KeyType, limit: Int, directory: String,
                paths: PathDisplay, stackFrames: Int? = nil, rule: AllocationSiteRule = .standard) {
        self.result = result
        self.policy = policy
        self.keyType = keyType
        self.limit = limit
        self.directory = directory
        self.paths = paths
        self.stackFrames = stackFrames
        self.rule = rule
    }

    private func stack(_ finding: LeakCheck.Finding) -> [Frame] {
        guard let stackFrames else { return finding.traceback }
        let site = finding.traceback.firstIndex(of: finding.site) ?? 0
        let callers = finding.traceback.dropFirst(site + 1).prefix { !rule.isPlumbing($0) }
        return Array(([finding.site] + callers).prefix(stackFrames))
    }

    private var shown: [LeakCheck.Finding] {
        limit == 0 ? result.findings : Array(result.findings.prefix(limit))
    }

    private var span: String {
        let labels = result.compared.map { $0.process.label.isEmpty ? "#\($0.process.seq)" : $0.process.label }
        return "\(counted(result.compared.count, "snapshot")) (\(labels.first ?? "") … \(labels.last ?? ""))"
    }

    public func text() -> [String] {
        var lines: [String] = []
        let formatter = FrameFormatter(paths: paths)
        for finding in shown {
            let estimated = finding.isEstimate
            let curve = finding.sizes.map { SizeFormatting.approximately(SizeFormatting.size($0), if: estimated) }
                .joined(separator: " → ")
            lines.append("\(headline(finding)): \(curve)")
            lines += stack(finding).map { "    " + formatter.format($0) }
        }
        if shown.count < result.findings.count {
            lines.append("… and \(result.findings.count - shown.count) more (--limit 0 shows all)")
        }
        let sampled = result.sampleRate > 0
        let totalEstimated = sampled && result.totalSizeDiffStandardError > 0
        let total = "the traced heap grew "
            + SizeFormatting.estimate(result.totalSizeDiff, standardError: result.totalSizeDiffStandardError, signed: true)
            + " (\(SizeFormatting.approximately(SizeFormatting.count(result.totalCountDiff, signed: true), if: totalEstimated)) blocks) over \(span)"
            + (sampled ? ", sampled every \(SizeFormatting.size(Int64(result.sampleRate)))" : "")
        let noise = sampled ? " and beyond \(Int(SampledEstimates.significance)) standard errors" : ""
        if result.passed {
            lines.append("heapdiff check: passed: no call site grew by more than "
                + "\(SizeFormatting.size(policy.maxGrowthPerSite))\(noise); \(total)\(blindSpot)")
        } else {
            var reasons: [String] = []
            if !result.findings.isEmpty {
                reasons.append("\(result.findings.count) call site\(result.findings.count == 1 ? "" : "s") kept growing "
                    + "past \(SizeFormatting.size(policy.maxGrowthPerSite))\(noise)")
            }
            if result.totalExceeded, let limit = policy.maxTotalGrowth {
                reasons.append("the heap grew past \(SizeFormatting.size(limit))")
            }
            lines.append("heapdiff check: FAILED: \(reasons.joined(separator: "; ")); \(total); snapshots in \(paths.show(directory))")
        }
        return lines
    }

    /// Said after a sampled pass: a site that only grows fails once its
    /// growth, k points of R bytes, exceeds 3 standard errors, R·√k, so from
    /// about 9 points on; a leak smaller than that passes however real, which
    /// a pass must not hide when the limit is below it.
    private var blindSpot: String {
        guard result.sampleRate > 0 else { return "" }
        let significance = SampledEstimates.significance
        let smallest = Int64(significance * significance * Double(result.sampleRate))
        guard smallest > policy.maxGrowthPerSite else { return "" }
        return "; at this rate a site must grow by about \(SizeFormatting.size(smallest)) to be told from sampling "
            + "noise, so a smaller leak passes: a lower --sample, or none, sees it"
    }

    /// `file.c:16: grew +129 KiB (+2000 blocks)`
    private func headline(_ finding: LeakCheck.Finding) -> String {
        let growth = SizeFormatting.estimate(finding.sizeDiff, standardError: finding.sizeDiffStandardError,
                                             signed: true)
        let blocks = SizeFormatting.approximately(SizeFormatting.count(finding.countDiff, signed: true),
                                                  if: finding.isEstimate)
        return "\(finding.key.label(paths: paths)): grew \(growth) (\(blocks) blocks)"
    }

    /// Sites named in `summary` before "and N more".
    public static let summarySites = 3

    /// The verdict in one line, as a test harness records it for `heapdiff
    /// check`: the sites that kept growing with their growth (the first
    /// three), and the whole heap's when it grew past `--max-growth`; empty
    /// when the check passed.
    public func summary() -> String {
        var parts = result.findings.prefix(Self.summarySites).map(headline)
        if result.findings.count > Self.summarySites {
            parts.append("and \(result.findings.count - Self.summarySites) more call sites")
        }
        if result.totalExceeded, let limit = policy.maxTotalGrowth {
            parts.append("the heap grew \(SizeFormatting.size(result.totalSizeDiff, signed: true)), "
                + "past \(SizeFormatting.size(limit))")
        }
        return parts.joined(separator: "; ")
    }

    /// `check --format json` without leak tests (docs/JSON.md).
    public func json() throws -> String {
        try Self.json(own: self, leakTests: nil)
    }

    /// `check --format json` (docs/JSON.md): the own series' report (nil
    /// when test harnesses judged leak tests instead and no comparison
    /// spans the workload); with leak tests, their verdicts as `leak_tests`,
    /// and `passed` the whole check's.
    public static func json(own: CheckReport?, leakTests: LeakTestsReport?) throws -> String {
        let passed = own?.result.passed != false && leakTests?.leaked.isEmpty != false
            && leakTests?.unjudged.isEmpty != false
        let document = JSONDocument(command: "check", fields: Document(
            passed: passed, own: own.map(Own.init), leak_tests: leakTests.map { $0.verdicts.map(LeakTest.init) }))
        return try document.encoded()
    }

    private struct Document: Encodable {
        var passed: Bool
        var own: Own?
        var leak_tests: [LeakTest]?

        func encode(to encoder: Encoder) throws {
            try own?.encode(to: encoder)
            var container = encoder.container(keyedBy: JSONFrame.Key.self)
            try container.encode(passed, forKey: .init(stringValue: "passed"))
            if let leak_tests { try container.encode(leak_tests, forKey: .init(stringValue: "leak_tests")) }
        }
    }

    private struct Own: Encodable {
        struct Finding: Encodable {
            var size_diff: Int64; var count_diff: Int64; var sizes: [Int64]; var counts: [Int64]
            var traceback: [JSONFrame]; var size_diff_stderr: Int64; var size_stderrs: [Int64]
        }
        struct Snapshot: Encodable { var path: String; var seq: UInt32; var label: String }

        var key_type: String; var max_growth_per_site: Int64; var max_growth: JSONNullable<Int64>
        var total_size_diff: Int64; var total_count_diff: Int64; var total_exceeded: Bool
        var snapshots: [Snapshot]; var findings: [JSONSited<Finding>]
        var sampled: Bool; var sample_rate: UInt64; var total_size_diff_stderr: Int64

        init(_ report: CheckReport) {
            let result = report.result
            func bytes(_ standardError: Double) -> Int64 { Int64(exactly: standardError.rounded()) ?? .max }
            key_type = report.keyType.rawValue
            max_growth_per_site = report.policy.maxGrowthPerSite
            max_growth = JSONNullable(report.policy.maxTotalGrowth)
            total_size_diff = result.totalSizeDiff
            total_count_diff = result.totalCountDiff
            total_exceeded = result.totalExceeded
            snapshots = result.compared.map { Snapshot(path: $0.path, seq: $0.process.seq, label: $0.process.label) }
            findings = result.findings.map { finding in
                JSONSited(site: finding.site, fields: Finding(
                    size_diff: finding.sizeDiff, count_diff: finding.countDiff, sizes: finding.sizes,
                    counts: finding.counts, traceback: finding.traceback.map(JSONFrame.init),
                    size_diff_stderr: bytes(finding.sizeDiffStandardError),
                    size_stderrs: finding.sizes.indices.map {
                        bytes($0 < finding.sizeStandardErrors.count ? finding.sizeStandardErrors[$0] : 0)
                    }))
            }
            sampled = result.sampleRate > 0
            sample_rate = result.sampleRate
            total_size_diff_stderr = bytes(result.totalSizeDiffStandardError)
        }
    }

    /// One harness's verdict on one leak test, as `leak_tests` lists it.
    private struct LeakTest: Encodable {
        var status: String; var harness: String; var test: String; var pid: Int32; var snapshots: String
        var summary: String

        init(_ verdict: LeakTestVerdict) {
            status = verdict.status.name
            harness = verdict.harness
            test = verdict.test
            pid = verdict.pid
            snapshots = verdict.snapshots
            summary = verdict.summary
        }
    }
}
