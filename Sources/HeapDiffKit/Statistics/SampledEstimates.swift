/// The arithmetic of sampled snapshots (`HEAPDIFF_SAMPLE`): the standard
/// error of an estimate, of the growth between two snapshots, and whether
/// a growth stands out from its noise.
///
/// The recorder places sample points on the bytes each thread allocates, at
/// exponentially distributed gaps of mean R, and records an allocation that
/// crosses n ≥ 1 points as n·R bytes; allocations of R bytes or more are
/// recorded whole. The points in s bytes are Poisson with mean s/R, so each
/// estimate is unbiased and has variance R·s, estimated without bias by
/// R²·n. Summed over the blocks of a group: bytes ≈ R·Σn + whole blocks,
/// standard error R·√Σn.
///
/// The growth between two snapshots of one process is the difference of two
/// estimates that share the blocks live in both: those cancel, so only the
/// points of blocks born since (live in the new one only) and of blocks
/// freed since (live in the old one only) add to its variance. Per stack,
/// from its live points L and cumulative allocated points A in each
/// snapshot (freed points F = A − L), at most
///     min(A₂ − A₁, L₂) + min(F₂ − F₁, L₁)
/// points differ: exactly the growth's points for a stack that only grows,
/// L₁ + L₂ for one whose blocks were all replaced. Snapshots of different
/// processes (or rates) share no blocks: their variances add.
public enum SampledEstimates {
    /// A growth is told from sampling noise when it exceeds this many
    /// standard errors (`check`, `trend`). With the bound above, which never
    /// understates, a site that did not grow passes this by chance less than
    /// once in 700 comparisons.
    public static let significance = 3.0

    /// The points by which one stack's live estimate may differ between two
    /// snapshots of the same process (see above); counts are points.
    public static func differingPoints(oldLive: UInt64, oldAllocated: UInt64,
                                       newLive: UInt64, newAllocated: UInt64) -> UInt64 {
        let allocated = newAllocated > oldAllocated ? newAllocated - oldAllocated : 0
        let oldFreed = oldAllocated > oldLive ? oldAllocated - oldLive : 0
        let newFreed = newAllocated > newLive ? newAllocated - newLive : 0
        let freed = newFreed > oldFreed ? newFreed - oldFreed : 0
        return min(allocated, newLive) + min(freed, oldLive)
    }

    /// Whether both snapshots come from the same recording: the same
    /// process (pid and start time) at the same rate, so that the blocks
    /// live in both are the same samples.
    public static func sameRecording(_ old: ProcessRecord, _ new: ProcessRecord) -> Bool {
        old.pid == new.pid && old.startMonotonicNs == new.startMonotonicNs && old.sampleRate == new.sampleRate
    }

    /// Per trace of `new` and of `old`, the variance (bytes²) it adds to
    /// the growth from `old` to `new`. Within one recording each new trace
    /// carries its stack's differing points and each old trace whose stack
    /// is gone its live points; otherwise each side carries its own live
    /// points. All 0 when neither snapshot is sampled.
    public static func growthVariances(old: Snapshot, new: Snapshot) -> (new: [Double], old: [Double]) {
        let oldRate = Double(old.process.sampleRate), newRate = Double(new.process.sampleRate)
        guard oldRate > 0 || newRate > 0 else {
            return ([Double](repeating: 0, count: new.traces.count), [Double](repeating: 0, count: old.traces.count))
        }
        guard sameRecording(old.process, new.process) else {
            return (new.traces.map { newRate * newRate * Double($0.liveSamples) },
                    old.traces.map { oldRate * oldRate * Double($0.liveSamples) })
        }
        let squared = newRate * newRate
        struct Points { var live: UInt64, allocated: UInt64, position: Int, matched: Bool }
        var oldPoints: [StackIdentity: Points] = [:]
        oldPoints.reserveCapacity(old.traces.count)
        for (position, trace) in old.traces.enumerated() where trace.allocSamples > 0 || trace.liveSamples > 0 {
            let key = StackIdentity(frames: trace.frames, truncated: trace.truncated)
            if var known = oldPoints[key] {   // same frames, other flags: one stack to this bound
                known.live += trace.liveSamples
                known.allocated += trace.allocSamples
                oldPoints[key] = known
            } else {
                oldPoints[key] = Points(live: trace.liveSamples, allocated: trace.allocSamples, position: position,
                                        matched: false)
            }
        }
        var newVariances = [Double](repeating: 0, count: new.traces.count)
        var redirected: [Int: Double] = [:]
        for (position, trace) in new.traces.enumerated() where trace.allocSamples > 0 || trace.liveSamples > 0 {
            let key = StackIdentity(frames: trace.frames, truncated: trace.truncated)
            let before = oldPoints[key]
            if before != nil { oldPoints[key]!.matched = true }
            let points = differingPoints(oldLive: before?.live ?? 0, oldAllocated: before?.allocated ?? 0,
                                         newLive: trace.liveSamples, newAllocated: trace.allocSamples)
            if trace.liveCount > 0 || before == nil {
                newVariances[position] = squared * Double(points)
            } else {
                // Grouping passes over a stack without live blocks: its old self carries it.
                redirected[before!.position, default: 0] += squared * Double(points)
            }
        }
        var oldVariances = [Double](repeating: 0, count: old.traces.count)
        for points in oldPoints.values where !points.matched {
            oldVariances[points.position] = squared * Double(points.live)
        }
        for (position, variance) in redirected { oldVariances[position] += variance }
        return (newVariances, oldVariances)
    }

    /// Per trace, the variance (bytes²) of its live estimate.
    public static func liveVariances(_ snapshot: Snapshot) -> [Double] {
        let rate = Double(snapshot.process.sampleRate)
        return snapshot.traces.map { rate * rate * Double($0.liveSamples) }
    }

    /// Whether `growth` stands out from a noise of `standardError`: always
    /// for an exact figure (standard error 0).
    public static func exceedsNoise(_ growth: Int64, standardError: Double) -> Bool {
        Double(growth) > significance * standardError
    }

    private struct StackIdentity: Hashable {
        var frames: TraceFrames
        var truncated: Bool
    }
}

/// Two snapshots whose estimates carry different errors: sampled at
/// different rates, or one sampled and one exact. `diff` refuses them
/// unless told to compare them anyway (`--rescale`): both sides are then
/// unbiased estimates of the true bytes at their own rates, and each row's
/// error adds both sides' variances.
public struct SampleRateMismatch: Error, Equatable, CustomStringConvertible {
    public var oldPath: String
    public var oldRate: UInt64
    public var newPath: String
    public var newRate: UInt64

    /// Nil when both were recorded the same way.
    public init?(old: Snapshot, new: Snapshot) {
        guard old.process.sampleRate != new.process.sampleRate else { return nil }
        oldPath = old.path
        oldRate = old.process.sampleRate
        newPath = new.path
        newRate = new.process.sampleRate
    }

    public var description: String {
        func how(_ rate: UInt64) -> String {
            rate == 0 ? "records every allocation" : "was sampled every \(SizeFormatting.size(Int64(rate)))"
        }
        return "\(oldPath) \(how(oldRate)) and \(newPath) \(how(newRate)), so their figures carry different errors; "
            + "pass --rescale to compare them anyway"
    }
}
