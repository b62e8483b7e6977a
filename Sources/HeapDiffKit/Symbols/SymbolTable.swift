import CLibdw

/// One module's ELF symbols, sorted once by address, so that naming the
/// function an address falls in is a binary search. libdwfl's
/// `dwfl_module_addrinfo` scans the whole table on every call: on a binary
/// with hundreds of thousands of symbols (node's) that made `top` and `diff`
/// of a snapshot of ~1,000 stacks take seconds.
///
/// The choice follows libdwfl's: among defined symbols (not sections, files
/// or TLS) that start at or below the address, the closest one whose size
/// covers it, preferring global over weak over local names at one address;
/// failing that, the closest symbol without a size.
struct SymbolTable {
    private struct Entry {
        var start: UInt64
        var end: UInt64            // == start for a symbol without a size
        var rank: UInt8            // 0 global, 1 weak, 2 local
        var name: UnsafePointer<CChar>
    }

    /// Sorted by start, then by rank. Names point into libelf's string
    /// tables, which live as long as the module's Dwfl session.
    private let entries: [Entry]

    /// How far back from the closest symbol a lookup looks for one whose
    /// size covers the address (symbols nested in or overlapping others).
    private static let lookBehind = 16

    init(module: OpaquePointer) {
        let count = dwfl_module_getsymtab(module)
        var entries: [Entry] = []
        entries.reserveCapacity(max(0, Int(count)))
        var index: Int32 = 1   // entry 0 is the null symbol
        while index < count {
            defer { index += 1 }
            var symbol = GElf_Sym()
            var address: GElf_Addr = 0
            var section: GElf_Word = 0
            guard let name = dwfl_module_getsym_info(module, index, &symbol, &address, &section, nil, nil),
                  name.pointee != 0, section != UInt32(SHN_UNDEF), section != GElf_Word.max else { continue }
            let type = Int32(symbol.st_info & 0xf), binding = Int32(symbol.st_info >> 4)
            guard type != STT_SECTION, type != STT_FILE, type != STT_TLS else { continue }
            let rank: UInt8 = binding == STB_GLOBAL ? 0 : binding == STB_WEAK ? 1 : 2
            entries.append(Entry(start: address, end: address &+ symbol.st_size, rank: rank, name: name))
        }
        // Not a tuple comparison: unoptimized (a test bundle's HeapDiffTesting),
        // each one looks up the tuple's type metadata.
        entries.sort { $0.start != $1.start ? $0.start < $1.start : $0.rank < $1.rank }
        self.entries = entries
    }

    /// The name of the symbol `address` (as libdwfl places the module) lies in.
    func name(at address: UInt64) -> UnsafePointer<CChar>? {
        // The first entry that starts above the address.
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].start <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        var sizeless: Int?
        for index in stride(from: low - 1, through: max(0, low - Self.lookBehind), by: -1) {
            let entry = entries[index]
            if entry.end > entry.start {
                guard address < entry.end else { continue }
                // At one address the best rank sorts first: the first of the group that covers.
                var best = index
                while best > 0, entries[best - 1].start == entry.start { best -= 1 }
                while !(address < entries[best].end) { best += 1 }
                return entries[best].name
            } else if sizeless == nil || entries[sizeless!].start == entry.start {
                sizeless = index
            }
        }
        return sizeless.map { entries[$0].name }
    }
}
