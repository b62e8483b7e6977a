/// Group keys as small numbers, shared by the snapshots that one analysis
/// groups, so that grouping adds numbers instead of hashing strings, and
/// two snapshots' groups match by number.
///
/// A traceback key is a path in a trie of frame keys, from the outermost
/// frame in: its number is the trie node of its innermost frame. A trace's
/// traceback number therefore follows from its stack's node in the
/// snapshot's `StackTree`, worked out once per tree node (`TracebackKeys`),
/// and the `GroupKey.traceback` array is made only for the rows reported.
final class GroupKeyTable {
    /// Per number: the key, made on first use for traceback numbers.
    private var keys: [GroupKey?] = []
    /// Per number: for a traceback, its outer part's number (-1 when it is
    /// the outermost frame) and its innermost frame's key number; -1, -1
    /// for other keys.
    private var outer: [Int32] = []
    private var frameKey: [Int32] = []
    private var plainIndex: [GroupKey: Int32] = [:]
    /// (outer + 1) << 32 | frame key -> number.
    private var tracebackIndex = IntegerTable()
    private var labels: [Int32: String] = [:]

    /// Room for `count` numbers in all, e.g. one per node of a stack tree:
    /// the second snapshot of a diff mostly finds the first one's.
    func reserve(_ count: Int) {
        keys.reserveCapacity(count)
        outer.reserveCapacity(count)
        frameKey.reserveCapacity(count)
        tracebackIndex.reserve(count)
    }

    /// The number of a key other than a traceback.
    func number(of key: GroupKey) -> Int32 {
        if let known = plainIndex[key] { return known }
        let number = append(key: key, outer: -1, frameKey: -1)
        plainIndex[key] = number
        return number
    }

    /// The traceback `outer` (-1 for none) with one more frame inside it,
    /// whose frame key is number `frame`.
    func traceback(_ outer: Int32, adding frame: Int32) -> Int32 {
        let packed = UInt64(UInt32(bitPattern: outer &+ 1)) << 32 | UInt64(UInt32(bitPattern: frame))
        return tracebackIndex.value(for: packed) { append(key: nil, outer: outer, frameKey: frame) }
    }

    private func append(key: GroupKey?, outer: Int32, frameKey: Int32) -> Int32 {
        keys.append(key)
        self.outer.append(outer)
        self.frameKey.append(frameKey)
        return Int32(keys.count - 1)
    }

    /// The frame-key numbers of a traceback, innermost first.
    private func frameKeys(of number: Int32) -> [Int32] {
        var path: [Int32] = []
        var number = number
        while number >= 0 {
            path.append(frameKey[Int(number)])
            number = outer[Int(number)]
        }
        return path
    }

    /// The key itself.
    func key(_ number: Int32) -> GroupKey {
        if let key = keys[Int(number)] { return key }
        let key = GroupKey.traceback(frameKeys(of: number).map { self.key($0) })
        keys[Int(number)] = key
        return key
    }

    var count: Int { keys.count }

    func label(_ number: Int32) -> String {
        if let known = labels[number] { return known }
        let label = key(number).label()
        labels[number] = label
        return label
    }

    /// The order in which rows that tie on every number are listed; see
    /// `KeyOrder`.
    func order() -> KeyOrder {
        KeyOrder(table: self, plainKeys: plainIndex.values, outer: outer, frameKey: frameKey)
    }
}

/// A total order of a table's keys, for rows that tie on every number: by
/// label, then by the key's full spelling; tracebacks frame by frame from
/// the innermost, each frame by the same order, so that their long labels
/// are never made. Made once per sort: every key other than a traceback is
/// ranked up front (there are few: lines, functions, files), and each
/// traceback's frames become a path of ranks the first time it is compared.
final class KeyOrder {
    private let table: GroupKeyTable
    private let outer: [Int32]
    private let frameKey: [Int32]
    /// Per key number: its rank among keys other than tracebacks.
    private var ranks: [Int32]

    init(table: GroupKeyTable, plainKeys: some Collection<Int32>, outer: [Int32], frameKey: [Int32]) {
        self.table = table
        self.outer = outer
        self.frameKey = frameKey
        ranks = [Int32](repeating: -1, count: table.count)
        let sorted = plainKeys.sorted { lhs, rhs in
            let (left, right) = (table.label(lhs), table.label(rhs))
            if left != right { return left < right }
            return String(reflecting: table.key(lhs)) < String(reflecting: table.key(rhs))
        }
        for (rank, number) in sorted.enumerated() { ranks[Int(number)] = Int32(rank) }
    }

    func precedes(_ lhs: Int32, _ rhs: Int32) -> Bool {
        guard lhs != rhs else { return false }
        switch (frameKey[Int(lhs)] >= 0, frameKey[Int(rhs)] >= 0) {
        case (false, false):
            return ranks[Int(lhs)] < ranks[Int(rhs)]
        case (true, true):
            // Both paths walked from the innermost frame out, side by side.
            var (left, right) = (Int(lhs), Int(rhs))
            while left >= 0 && right >= 0 {
                let (a, b) = (ranks[Int(frameKey[left])], ranks[Int(frameKey[right])])
                if a != b { return a < b }
                (left, right) = (Int(outer[left]), Int(outer[right]))
            }
            return left < 0 && right >= 0
        default:  // a traceback beside `<no frames>`: rare enough to spell out
            let (left, right) = (table.label(lhs), table.label(rhs))
            if left != right { return left < right }
            return String(reflecting: table.key(lhs)) < String(reflecting: table.key(rhs))
        }
    }
}

/// UInt64 -> Int32, open addressing with linear probing: the trie's index,
/// looked up once per tree node, where a `Dictionary`'s hashing would cost
/// more than the rest of the work. Key and value share a slot, so a lookup
/// touches one cache line.
struct IntegerTable {
    private struct Slot {
        var key: UInt64
        /// Value + 1; 0 for an empty slot.
        var value: Int32
    }

    private var slots = [Slot](repeating: Slot(key: 0, value: 0), count: 1 << 10)
    private var count = 0

    /// Room for `total` entries without growing.
    mutating func reserve(_ total: Int) {
        while total * 2 > slots.count { grow() }
    }

    /// The value for `key`, made by `make` and kept the first time.
    mutating func value(for key: UInt64, make: () -> Int32) -> Int32 {
        let mask = slots.count - 1
        var index = Self.slot(key) & mask
        while true {
            let slot = slots[index]
            if slot.value == 0 { break }
            if slot.key == key { return slot.value - 1 }
            index = (index + 1) & mask
        }
        let value = make()
        slots[index] = Slot(key: key, value: value + 1)
        count += 1
        if count * 2 > slots.count { grow() }
        return value
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(key: 0, value: 0), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.value != 0 {
            var index = Self.slot(slot.key) & mask
            while slots[index].value != 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }

    /// MurmurHash3's finalizer: keys are two small numbers side by side.
    private static func slot(_ key: UInt64) -> Int {
        var h = key
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return Int(truncatingIfNeeded: h)
    }
}

/// The traceback number of every node of one snapshot's stack tree, worked
/// out on demand, each node once from its parent's.
struct TracebackKeys {
    private let tree: StackTree
    private let resolver: StackResolver
    private let table: GroupKeyTable
    /// Per node: its traceback number; -1 for the root, `unknown` until asked.
    private var numbers: [Int32]
    /// Per return address, the key numbers of the frames it expands to,
    /// outermost first: `keys[starts[i]..<starts[i + 1]]` for the i-th
    /// address met, found by `addresses`.
    private var addresses = IntegerTable()
    private var starts: [Int32] = [0]
    private var keys: [Int32] = []
    private static let unknown = Int32.min

    init(tree: StackTree, resolver: StackResolver, table: GroupKeyTable) {
        self.tree = tree
        self.resolver = resolver
        self.table = table
        numbers = [Int32](repeating: Self.unknown, count: tree.count)
        numbers[0] = -1
    }

    mutating func number(of node: Int32) -> Int32 {
        if numbers[Int(node)] != Self.unknown { return numbers[Int(node)] }
        var chain: [Int32] = []
        var known = node
        while numbers[Int(known)] == Self.unknown {
            chain.append(known)
            known = tree.parents[Int(known)]
        }
        var number = numbers[Int(known)]
        for node in chain.reversed() {
            let address = addressIndex(tree.frames[Int(node)])
            for index in Int(starts[address])..<Int(starts[address + 1]) {
                number = table.traceback(number, adding: keys[index])
            }
            numbers[Int(node)] = number
        }
        return number
    }

    /// The address's place in `starts`, its keys worked out the first time:
    /// the `lineno` keys of the frames it expands to, the outermost (the
    /// function that contains the inlined calls) first.
    private mutating func addressIndex(_ address: UInt64) -> Int {
        let known = starts.count - 1
        let index = Int(addresses.value(for: address) { Int32(known) })
        if index == known {
            for frame in resolver.frames(at: address).reversed() {
                keys.append(table.number(of: GroupKey.forFrame(frame, by: .lineno)))
            }
            starts.append(Int32(keys.count))
        }
        return index
    }
}
