/// Growth over a series of snapshots of one process, per call site: a
/// least-squares fit of live bytes against time (or snapshot index), and a
/// verdict that tells a leak from a cache that warmed up and stopped.
///
/// A first-vs-last diff cannot make that distinction; the shape of the
/// series can. The verdict looks at the recent half of the series, because
/// what matters in an incident is whether memory is still climbing now.
public enum Trend {
    public enum Verdict: String, Sendable, CaseIterable {
        /// Still climbing, steadily: a leak suspect.
        case steadyGrowth = "steady growth"
        /// Grew, then stopped: a cache that warmed up, a pool that filled.
        case plateau
        /// Up and down without a clear direction.
        case fluctuating
        /// Going down.
        case shrinking
        /// Did not change.
        case flat
        /// Sampled snapshots only: it grew or shrank, but by no more than
        /// the sampling noise of its estimates (`SampledEstimates`).
        case noise = "within noise"
    }

    /// y ≈ slope · x + intercept, with the coefficient of determination r².
    public struct Fit: Equatable, Sendable {
        public var slope: Double
        public var intercept: Double
        public var r2: Double
    }

    /// The fit of the recent half of a series: what the site is doing now.
    public static func recentFit(x: [Double], y: [Double]) -> Fit {
        let half = max(2, (y.count + 1) / 2)
        return fit(x: Array(x.suffix(half)), y: Array(y.suffix(half)))
    }

    /// Ordinary least squares. A constant series fits perfectly (r² = 1).
    public static func fit(x: [Double], y: [Double]) -> Fit {
        let n = Double(min(x.count, y.count))
        guard n >= 2 else { return Fit(slope: 0, intercept: y.first ?? 0, r2: 1) }
        let meanX = x.prefix(Int(n)).reduce(0, +) / n, meanY = y.prefix(Int(n)).reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (xi, yi) in zip(x, y) {
            sxy += (xi - meanX) * (yi - meanY)
            sxx += (xi - meanX) * (xi - meanX)
            syy += (yi - meanY) * (yi - meanY)
        }
        guard sxx > 0 else { return Fit(slope: 0, intercept: meanY, r2: 0) }
        let slope = sxy / sxx
        let r2 = syy == 0 ? 1 : (sxy * sxy) / (sxx * syy)
        return Fit(slope: slope, intercept: meanY - slope * meanX, r2: r2)
    }

    /// The verdict for a series of sizes at positions x (at least 3 points).
    ///
    /// - flat: no change at all.
    /// - steady growth: the recent half climbs linearly (r² ≥ 0.8), fast
    ///   enough that over the whole span it would be more than 5% of the
    ///   series' range: a site that warmed up and then kept leaking slowly
    ///   is still a leak.
    /// - plateau: it grew, but its recent half is flat: by that same measure,
    ///   and staying within a tenth of the range (a sawtooth is not flat).
    /// - shrinking: the recent half goes down linearly, or it fell and stayed down.
    /// - fluctuating: anything else (sawtooth, bursts).
    public static func verdict(x: [Double], y: [Double]) -> Verdict {
        guard let low = y.min(), let high = y.max(), let firstX = x.first, let lastX = x.last else { return .flat }
        let range = high - low
        guard range > 0 else { return .flat }
        let recent = recentFit(x: x, y: y)
        let recentOverSpan = recent.slope * (lastX - firstX)
        let recentValues = y.suffix(max(2, (y.count + 1) / 2))
        let recentBand = (recentValues.max() ?? 0) - (recentValues.min() ?? 0)
        if abs(recentOverSpan) <= 0.05 * range && recentBand <= 0.1 * range {
            let (first, last) = (y.first ?? 0, y.last ?? 0)
            return last > first ? .plateau : last < first ? .shrinking : .fluctuating
        }
        if recent.r2 >= 0.8 {
            return recent.slope > 0 ? .steadyGrowth : .shrinking
        }
        return .fluctuating
    }
}
