/// Finds the module whose executable range contains a runtime address.
///
/// Built once per snapshot; lookups are binary searches because a snapshot
/// can hold many thousand stacks of up to 256 frames each.
struct AddressMap {
    private struct Entry {
        var range: Range<UInt64>
        var moduleIndex: Int
    }

    private let entries: [Entry]

    init(modules: [Module]) {
        var entries: [Entry] = []
        for (index, module) in modules.enumerated() {
            for range in module.ranges where !range.isEmpty {
                entries.append(Entry(range: range, moduleIndex: index))
            }
        }
        self.entries = entries.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// Index into the snapshot's `modules`, or nil for an address in none.
    func moduleIndex(containing address: UInt64) -> Int? {
        entries.element(containing: address) { $0.range }?.moduleIndex
    }
}
