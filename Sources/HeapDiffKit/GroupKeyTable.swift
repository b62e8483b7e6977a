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
    private var tracebackIndex: [UInt64: Int32] = [:]
    private var labels: [Int32: String] = [:]

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
        if let known = tracebackIndex[packed] { return known }
        let number = append(key: nil, outer: outer, frameKey: frame)
        tracebackIndex[packed] = number
        return number
    }

    private func append(key: GroupKey?, outer: Int32, frameKey: Int32) -> Int32 {
        keys.append(key)
        self.outer.append(outer)
        self.frameKey.append(frameKey)
        return Int32(keys.count - 1)
    }

    private func isTraceback(_ number: Int32) -> Bool {
        frameKey[Int(number)] >= 0
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
        KeyOrder(table: self, plainKeys: plainIndex.values, isTraceback: isTraceback, frameKeys: frameKeys)
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
    private let isTraceback: (Int32) -> Bool
    private let frameKeys: (Int32) -> [Int32]
    /// Per key number: its rank among keys other than tracebacks.
    private var ranks: [Int32]
    private var paths: [[Int32]?]

    init(table: GroupKeyTable, plainKeys: some Collection<Int32>, isTraceback: @escaping (Int32) -> Bool,
         frameKeys: @escaping (Int32) -> [Int32]) {
        self.table = table
        self.isTraceback = isTraceback
        self.frameKeys = frameKeys
        ranks = [Int32](repeating: -1, count: table.count)
        paths = [[Int32]?](repeating: nil, count: table.count)
        let sorted = plainKeys.sorted { lhs, rhs in
            let (left, right) = (table.label(lhs), table.label(rhs))
            if left != right { return left < right }
            return String(reflecting: table.key(lhs)) < String(reflecting: table.key(rhs))
        }
        for (rank, number) in sorted.enumerated() { ranks[Int(number)] = Int32(rank) }
    }

    func precedes(_ lhs: Int32, _ rhs: Int32) -> Bool {
        guard lhs != rhs else { return false }
        switch (isTraceback(lhs), isTraceback(rhs)) {
        case (false, false):
            return ranks[Int(lhs)] < ranks[Int(rhs)]
        case (true, true):
            let (left, right) = (path(lhs), path(rhs))
            for (a, b) in zip(left, right) where a != b { return a < b }
            return left.count < right.count
        default:  // a traceback beside `<no frames>`: rare enough to spell out
            let (left, right) = (table.label(lhs), table.label(rhs))
            if left != right { return left < right }
            return String(reflecting: table.key(lhs)) < String(reflecting: table.key(rhs))
        }
    }

    private func path(_ number: Int32) -> [Int32] {
        if let known = paths[Int(number)] { return known }
        let path = frameKeys(number).map { ranks[Int($0)] }
        paths[Int(number)] = path
        return path
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
    /// Per return address: the key numbers of the frames it expands to.
    private var addressKeys: [UInt64: [Int32]] = [:]
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
            for key in keys(at: tree.frames[Int(node)]) {
                number = table.traceback(number, adding: key)
            }
            numbers[Int(node)] = number
        }
        return number
    }

    /// The `lineno` key numbers of the frames an address expands to, from
    /// the outermost (the function that contains the inlined calls) in.
    private mutating func keys(at address: UInt64) -> [Int32] {
        if let known = addressKeys[address] { return known }
        let keys = resolver.frames(at: address).reversed().map { table.number(of: GroupKey.forFrame($0, by: .lineno)) }
        addressKeys[address] = keys
        return keys
    }
}
