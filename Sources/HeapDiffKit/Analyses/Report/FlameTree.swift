/// One frame of a flame graph with everything called from it: `value` is the
/// bytes of every stack through it, so a node's children never add up to
/// more than it (the rest is its own, or its children too small to keep).
///
/// Encoded as `[name, value]` or `[name, value, [children…]]`, `name` an
/// index into `FlameGraphData.names`: a tree repeats few names many times.
public struct FlameNode: Encodable, Equatable, Sendable {
    public var name: Int
    public var value: UInt64
    /// Heaviest first, so the graph's left edge reads as "where most of it is".
    public var children: [FlameNode]

    public func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(name)
        try container.encode(value)
        if !children.isEmpty { try container.encode(children) }
    }
}

/// The two flame graphs of a report: live bytes in one snapshot, and growth
/// from an earlier one, over the same names table.
public struct FlameGraphData: Encodable, Equatable, Sendable {
    public var names: [String]
    public var live: FlameNode
    public var growth: FlameNode
    /// Indexes into the report's snapshots: `live` is of `liveSnapshot`,
    /// `growth` is `liveSnapshot` minus `baseSnapshot`.
    public var liveSnapshot: Int
    public var baseSnapshot: Int

    /// A frame narrower than this fraction of the whole is left out (its
    /// bytes stay in its caller's): it would be far under a pixel wide, and
    /// a heap with tens of thousands of deep stacks would otherwise make the
    /// page tens of megabytes.
    public static let minimumFraction = 1e-5

    /// `live` and `base` are bytes per folded stack (`FoldedStacks.bytesPerStack`);
    /// growth keeps the stacks that grew, by how much, as `export --base` does.
    public init(live: [String: UInt64], base: [String: UInt64], liveSnapshot: Int, baseSnapshot: Int) {
        var builder = FlameTreeBuilder()
        self.live = builder.tree(of: live)
        var grown: [String: UInt64] = [:]
        for (stack, bytes) in live where bytes > base[stack] ?? 0 {
            grown[stack] = bytes - (base[stack] ?? 0)
        }
        growth = builder.tree(of: grown)
        names = builder.names
        self.liveSnapshot = liveSnapshot
        self.baseSnapshot = baseSnapshot
    }
}

/// Merges folded stacks into trees, interning frame names across trees.
struct FlameTreeBuilder {
    static let rootName = "all"

    private(set) var names: [String] = [FlameTreeBuilder.rootName]
    private var nameIndex: [String: Int] = [FlameTreeBuilder.rootName: 0]

    /// A mutable node while the tree is being merged.
    private final class Growing {
        let name: Int
        var value: UInt64 = 0
        var children: [Int: Growing] = [:]
        init(name: Int) { self.name = name }
    }

    mutating func tree(of stacks: [String: UInt64]) -> FlameNode {
        let root = Growing(name: 0)
        for (stack, bytes) in stacks where bytes > 0 {
            root.value = root.value.addingSaturating(bytes)
            var node = root
            for frame in FoldedStacks.frames(of: stack) {
                let name = intern(frame)
                let child = node.children[name] ?? Growing(name: name)
                node.children[name] = child
                child.value = child.value.addingSaturating(bytes)
                node = child
            }
        }
        let minimum = UInt64(Double(root.value) * FlameGraphData.minimumFraction)
        return freeze(root, minimum: max(minimum, 1))
    }

    private mutating func intern(_ name: String) -> Int {
        if let known = nameIndex[name] { return known }
        names.append(name)
        nameIndex[name] = names.count - 1
        return names.count - 1
    }

    private func freeze(_ node: Growing, minimum: UInt64) -> FlameNode {
        let kept = node.children.values.filter { $0.value >= minimum }
            .sorted { $0.value != $1.value ? $0.value > $1.value : names[$0.name] < names[$1.name] }
        return FlameNode(name: node.name, value: node.value, children: kept.map { freeze($0, minimum: minimum) })
    }
}

private extension UInt64 {
    func addingSaturating(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}

extension FoldedStacks {
    /// Bytes per folded stack (`main;handle;malloc`), read back from `lines`:
    /// the flame graph is drawn from exactly the stacks `export --format
    /// folded` writes. A line ends with a space and its bytes; names may
    /// contain spaces (`operator new(unsigned long)`), never `;`.
    public static func bytesPerStack(of snapshot: Snapshot, symbolizer: Symbolizer) -> [String: UInt64] {
        var totals: [String: UInt64] = [:]
        for line in lines(of: snapshot, symbolizer: symbolizer) {
            guard let space = line.lastIndex(of: " "), let bytes = UInt64(line[line.index(after: space)...]) else { continue }
            totals[String(line[..<space])] = bytes
        }
        return totals
    }

    /// The frames of a folded stack, outermost first.
    static func frames(of stack: String) -> [String] {
        stack.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
    }
}
