/// Groups a snapshot's live traces by key; the shared engine behind
/// `statistics` and `compare`.
struct TraceGrouping {
    struct Group {
        /// Its key's number in the grouping's `GroupKeyTable`.
        var key: Int32
        var size: Int64 = 0
        var count: Int64 = 0
        /// Of a sampled snapshot: the variance (bytes²) of `size`, or of its
        /// growth, as the caller's per-trace variances say; 0 when exact.
        var variance: Double = 0
        /// The variance of `size` itself (bytes²), whatever `variance` is.
        var liveVariance: Double = 0
        /// The position of the trace with the most live bytes; it gives the
        /// group its site and traceback. Ties keep the first in file order,
        /// so results are the same on every run.
        var largest: Int
        var largestMeasure: (bytes: UInt64, count: UInt64)
        var site: Frame

        mutating func add(_ trace: Trace, at position: Int, site traceSite: Frame, variance traceVariance: Double,
                          rateSquared: Double) {
            size = size.saturatingAdding(Int64(saturating: trace.liveBytes))
            count = count.saturatingAdding(Int64(saturating: trace.liveCount))
            variance += traceVariance
            liveVariance += rateSquared * Double(trace.liveSamples)
            if (trace.liveBytes, trace.liveCount) > largestMeasure {
                largest = position
                largestMeasure = (trace.liveBytes, trace.liveCount)
                site = traceSite
            }
        }
    }

    /// One snapshot's groups, and what makes their tracebacks.
    struct Groups {
        var groups: [Group] = []
        /// Per key number: its group's position in `groups` + 1, 0 when none.
        private var positions: [Int32] = []
        let resolver: StackResolver
        let traces: [Trace]
        /// Per trace, what it adds to its groups' variance.
        let variances: [Double]
        /// The snapshot's sampling rate, squared (0 when exact).
        let rateSquared: Double

        init(resolver: StackResolver, traces: [Trace], variances: [Double], rate: UInt64) {
            self.resolver = resolver
            self.traces = traces
            self.variances = variances
            rateSquared = Double(rate) * Double(rate)
        }

        subscript(key: Int32) -> Group? {
            Int(key) < positions.count && positions[Int(key)] > 0 ? groups[Int(positions[Int(key)]) - 1] : nil
        }

        mutating func add(_ trace: Trace, at position: Int, key: Int32, site: Frame) {
            if Int(key) >= positions.count {
                positions.append(contentsOf: repeatElement(0, count: max(Int(key) + 1 - positions.count, positions.count)))
            }
            if positions[Int(key)] == 0 {
                groups.append(Group(key: key, largest: position, largestMeasure: (0, 0), site: site))
                positions[Int(key)] = Int32(groups.count)
            }
            groups[Int(positions[Int(key)]) - 1].add(trace, at: position, site: site,
                                                     variance: position < variances.count ? variances[position] : 0,
                                                     rateSquared: rateSquared)
        }

        /// The full stack of the group's largest trace, innermost first.
        func traceback(of group: Group) -> [Frame] {
            resolver.stack(traces[group.largest].frames)
        }
    }

    let options: StatisticsOptions
    let symbolizer: Symbolizer
    /// Shared by every snapshot this grouping groups, so their numbers match.
    let keyTable = GroupKeyTable()

    /// What the filters make of a trace.
    private enum Admission {
        case dropped
        /// A stack without frames: it has no site, and matches no pattern.
        case noFrames
        case site(StackResolver.Position, Frame)
    }

    /// Groups of the traces that still have live blocks and pass the
    /// filters, as tracemalloc only knows live blocks; freed-out traces make
    /// no group. Grouped by traceback, a trace's key comes from its stack's
    /// node in the snapshot's tree, each node keyed once. `variances`, per
    /// trace, are summed per group: by default each trace's live estimate's
    /// (`SampledEstimates.liveVariances`), all 0 for an exact snapshot.
    func groups(of snapshot: Snapshot, variances: [Double]? = nil) -> Groups {
        let resolver = StackResolver(snapshot: snapshot, symbolizer: symbolizer, rule: options.rule)
        var groups = Groups(resolver: resolver, traces: snapshot.traces,
                            variances: variances ?? SampledEstimates.liveVariances(snapshot),
                            rate: snapshot.process.sampleRate)
        var tracebacks: (keys: TracebackKeys, nodes: [Int32])?
        if options.keyType == .traceback {
            let (tree, nodes) = snapshot.stackTree()
            keyTable.reserve(tree.count)
            tracebacks = (TracebackKeys(tree: tree, resolver: resolver, table: keyTable), nodes)
        }
        let noFrames = keyTable.number(of: .noFrames)
        for (position, trace) in snapshot.traces.enumerated() where trace.liveCount > 0 {
            let site: Frame
            let sitePosition: StackResolver.Position
            switch admission(of: trace.frames, resolver: resolver, stack: Self.lazyStack(trace.frames, resolver)) {
            case .dropped:
                continue
            case .noFrames:
                groups.add(trace, at: position, key: noFrames, site: Frame(module: "", offset: 0))
                continue
            case let .site(position, frame):
                (sitePosition, site) = (position, frame)
            }
            if tracebacks != nil {
                let key = tracebacks!.keys.number(of: tracebacks!.nodes[position])
                groups.add(trace, at: position, key: key, site: site)
            } else if options.countsEveryFrame {
                // Once per distinct key, however often it repeats (recursion,
                // several inlined calls on one line), as tracemalloc counts them.
                var seen: Set<Int32> = []
                for frame in resolver.siteAndCallers(trace.frames, from: sitePosition) {
                    let key = keyTable.number(of: GroupKey.forFrame(frame, by: options.keyType))
                    if seen.insert(key).inserted { groups.add(trace, at: position, key: key, site: frame) }
                }
            } else {
                groups.add(trace, at: position, key: keyTable.number(of: GroupKey.forFrame(site, by: options.keyType)),
                           site: site)
            }
        }
        return groups
    }

    /// The live heap of the traces that pass the filters, each counted once;
    /// without filters, the recorder's own total, which also counts the
    /// blocks of stacks it had no room for. `variances` per trace (by
    /// default its live estimate's) make the total's `sizeVariance`.
    func total(of snapshot: Snapshot, variances: [Double]? = nil) -> HeapTotal {
        guard !options.filters.isEmpty else {
            var total = snapshot.total
            if let variances { total.sizeVariance = variances.reduce(0, +) }
            return total
        }
        let variances = variances ?? SampledEstimates.liveVariances(snapshot)
        let resolver = StackResolver(snapshot: snapshot, symbolizer: symbolizer, rule: options.rule)
        var total = HeapTotal(size: 0, count: 0)
        for (position, trace) in snapshot.traces.enumerated() where trace.liveCount > 0 {
            if case .dropped = admission(of: trace.frames, resolver: resolver,
                                         stack: Self.lazyStack(trace.frames, resolver)) {
                continue
            }
            total.size = total.size.saturatingAdding(Int64(saturating: trace.liveBytes))
            total.count = total.count.saturatingAdding(Int64(saturating: trace.liveCount))
            total.sizeVariance += variances[position]
        }
        return total
    }

    private func admission(of frames: TraceFrames, resolver: StackResolver, stack: () -> [Frame]) -> Admission {
        if options.skipsRuntimeCaches && resolver.isRuntimeCacheBlock(frames) {
            return .dropped
        }
        guard let (position, site) = resolver.site(of: frames) else {
            return options.filters.contains(where: \.inclusive) ? .dropped : .noFrames
        }
        return options.filters.admits(site: site, stack: stack) ? .site(position, site) : .dropped
    }

    /// The keys a trace with these frames counts under, each with the frame
    /// that gives it (its site); none when the filters drop the trace. They
    /// depend on the frames alone, so a series of snapshots of one process
    /// can work them out once per distinct stack (`SeriesGrouping`).
    func keys(of frames: TraceFrames, resolver: StackResolver) -> [(GroupKey, Frame)] {
        let stack = Self.lazyStack(frames, resolver)
        let position: StackResolver.Position
        let site: Frame
        switch admission(of: frames, resolver: resolver, stack: stack) {
        case .dropped: return []
        case .noFrames: return [(.noFrames, Frame(module: "", offset: 0))]
        case let .site(sitePosition, siteFrame): (position, site) = (sitePosition, siteFrame)
        }

        if options.keyType == .traceback {
            return [(.traceback(stack().map { GroupKey.forFrame($0, by: .lineno) }), site)]
        }
        guard options.countsEveryFrame else { return [(GroupKey.forFrame(site, by: options.keyType), site)] }
        // Once per distinct key, however often it repeats (recursion, several
        // inlined calls on one line), as tracemalloc counts cumulative keys.
        var seen: Set<GroupKey> = []
        return resolver.siteAndCallers(frames, from: position).compactMap { frame in
            let key = GroupKey.forFrame(frame, by: options.keyType)
            return seen.insert(key).inserted ? (key, frame) : nil
        }
    }

    /// A trace's every frame, expanded at most once and only if a filter or
    /// a key needs them all.
    private static func lazyStack(_ addresses: TraceFrames, _ resolver: StackResolver) -> () -> [Frame] {
        var frames: [Frame]?
        return {
            if let frames { return frames }
            let expanded = resolver.stack(addresses)
            frames = expanded
            return expanded
        }
    }
}
