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
                + "\(SizeFormatting.size(policy.maxGrowthPerSite))\(noise); \(total)")
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

    public func json() throws -> String {
        struct Frame: Encodable { var function: String?; var file: String?; var line: Int?; var module: String; var offset: UInt64 }
        struct Finding: Encodable {
            var file: String?; var line: Int?; var function: String?; var module: String
            var size_diff: Int64; var count_diff: Int64; var sizes: [Int64]; var counts: [Int64]; var traceback: [Frame]
            var size_diff_stderr: Int64; var size_stderrs: [Int64]
        }
        struct Snapshot: Encodable { var path: String; var seq: UInt32; var label: String }
        struct Report: Encodable {
            var passed: Bool; var key_type: String; var max_growth_per_site: Int64; var max_growth: Int64?
            var total_size_diff: Int64; var total_count_diff: Int64; var total_exceeded: Bool
            var snapshots: [Snapshot]; var findings: [Finding]
            var sampled: Bool; var sample_rate: UInt64; var total_size_diff_stderr: Int64
        }
        func bytes(_ standardError: Double) -> Int64 { Int64(exactly: standardError.rounded()) ?? .max }
        func frame(_ f: HeapDiffKit.Frame) -> Frame {
            Frame(function: f.function, file: f.file, line: f.line, module: f.module, offset: f.offset)
        }
        let report = Report(
            passed: result.passed, key_type: keyType.rawValue, max_growth_per_site: policy.maxGrowthPerSite,
            max_growth: policy.maxTotalGrowth, total_size_diff: result.totalSizeDiff,
            total_count_diff: result.totalCountDiff, total_exceeded: result.totalExceeded,
            snapshots: result.compared.map { Snapshot(path: $0.path, seq: $0.process.seq, label: $0.process.label) },
            findings: result.findings.map { finding in
                Finding(file: finding.site.file, line: finding.site.line, function: finding.site.function,
                        module: finding.site.module, size_diff: finding.sizeDiff, count_diff: finding.countDiff,
                        sizes: finding.sizes, counts: finding.counts, traceback: finding.traceback.map(frame),
                        size_diff_stderr: bytes(finding.sizeDiffStandardError),
                        size_stderrs: finding.sizes.indices.map {
                            bytes($0 < finding.sizeStandardErrors.count ? finding.sizeStandardErrors[$0] : 0)
                        })
            },
            sampled: result.sampleRate > 0, sample_rate: result.sampleRate,
            total_size_diff_stderr: bytes(result.totalSizeDiffStandardError))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }
}
