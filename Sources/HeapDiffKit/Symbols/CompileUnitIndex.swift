import CLibdw

/// Finds the compile unit covering an address from the units' own address
/// ranges. libdwfl's lookup (`dwfl_module_addrdie`, `dwfl_module_getsrc`)
/// relies on `.debug_aranges`, which GCC emits but Clang and swiftc do not,
/// and elfutils 0.188 does not make up for its absence.
struct CompileUnitIndex {
    struct Unit {
        /// Owned by the module's libdwfl session, valid as long as it is.
        var die: UnsafeMutablePointer<Dwarf_Die>
        /// Added to a DWARF address to get a libdwfl address.
        var bias: Dwarf_Addr
    }

    private struct Entry {
        var range: Range<Dwarf_Addr>
        var die: UnsafeMutablePointer<Dwarf_Die>
    }

    /// Ranges in DWARF addresses, sorted by start.
    private let entries: [Entry]
    /// One for the whole module: all its units come from one debug file.
    private let bias: Dwarf_Addr

    init(module: OpaquePointer) {
        var entries: [Entry] = []
        var bias: Dwarf_Addr = 0
        var unit = dwfl_module_nextcu(module, nil, &bias)
        self.bias = bias
        while let die = unit {
            var base: Dwarf_Addr = 0
            var start: Dwarf_Addr = 0
            var end: Dwarf_Addr = 0
            var offset = dwarf_ranges(die, 0, &base, &start, &end)
            while offset > 0 {
                if start < end { entries.append(Entry(range: start..<end, die: die)) }
                offset = dwarf_ranges(die, offset, &base, &start, &end)
            }
            unit = dwfl_module_nextcu(module, die, &bias)
        }
        self.entries = entries.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// The unit whose ranges contain `address` (a libdwfl address).
    func unit(containing address: Dwarf_Addr) -> Unit? {
        let target = address &- bias
        return entries.element(containing: target) { $0.range }.map { Unit(die: $0.die, bias: bias) }
    }
}
