/// Groups a snapshot's live traces by key; the shared engine behind
/// `statistics(by:)` and `compare(to:by:)`.
struct TraceGrouping {
    struct Group {
        var key: GroupKey
        var size: Int64 = 0
        var count: Int64 = 0
        /// The trace with the most live bytes; it gives the group its site
        /// and traceback. Ties keep the first in file order, so results are
        /// the same on every run.
        var largest: Trace
        var site: Frame
        var traceback: [Frame] = []

        mutating func add(_ trace: Trace, site traceSite: Frame) {
            size = size.saturatingAdding(Int64(saturating: trace.liveBytes))
            count = count.saturatingAdding(Int64(saturating: trace.liveCount))
            if (trace.liveBytes, trace.liveCount) > (largest.liveBytes, largest.liveCount) {
                largest = trace
                site = traceSite
            }
        }
    }

    let keyType: KeyType
    let rule: AllocationSiteRule
    let symbolizer: Symbolizer

    /// Groups of the traces that still have live blocks, as tracemalloc
    /// only knows live blocks; freed-out traces make no group.
    func groups(of snapshot: Snapshot) -> [GroupKey: Group] {
        let map = AddressMap(modules: snapshot.modules)
        var groups: [GroupKey: Group] = [:]
        for trace in snapshot.traces where trace.liveCount > 0 {
            let (key, site) = classify(trace, map: map, modules: snapshot.modules)
            groups[key, default: Group(key: key, largest: trace, site: site)].add(trace, site: site)
        }
        return groups.mapValues { group in
            var group = group
            group.traceback = symbolize(group.largest.frames, map: map, modules: snapshot.modules)
            return group
        }
    }

    /// The key and allocation site of one trace. Only the site frame is
    /// symbolized, except for traceback keys which need every frame.
    private func classify(_ trace: Trace, map: AddressMap, modules: [Module]) -> (GroupKey, Frame) {
        let modulePaths = trace.frames.map { address in
            map.moduleIndex(containing: address).map { modules[$0].path } ?? ""
        }
        guard let siteIndex = rule.siteIndex(modulePaths: modulePaths) else {
            return (.noFrames, Frame(module: "", offset: 0))
        }
        if keyType == .traceback {
            let frames = symbolize(trace.frames, map: map, modules: modules)
            return (.traceback(frames.map { GroupKey.forFrame($0, by: .lineno) }), frames[siteIndex])
        }
        let site = symbolizer.symbolize(address: trace.frames[siteIndex], map: map, modules: modules)
        return (GroupKey.forFrame(site, by: keyType), site)
    }

    private func symbolize(_ addresses: [UInt64], map: AddressMap, modules: [Module]) -> [Frame] {
        addresses.map { symbolizer.symbolize(address: $0, map: map, modules: modules) }
    }
}
