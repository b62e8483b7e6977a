/// The call stacks of one snapshot as a prefix tree, as format 2 stores
/// them: node 0 is the empty stack, every other node a frame and its parent,
/// the node of the stack's next frame outward. A stack is its innermost
/// frame's node; stacks that share outer frames share those nodes, so what
/// depends only on a stack's frames from the outermost in (a traceback key,
/// a frame's place in a flame graph) is worked out once per node.
///
/// Immutable once made; shared by reference between a snapshot's traces.
public final class StackTree: @unchecked Sendable {
    /// Per node: its frame (0 for the root).
    let frames: [UInt64]
    /// Per node: its parent, always a smaller number (the root's is 0).
    let parents: [Int32]
    /// Per node: how many frames its stack has (0 for the root).
    let depths: [UInt16]

    var count: Int { frames.count }

    /// A tree whose nodes are already checked: parents precede children,
    /// depths agree with parents.
    init(frames: [UInt64], parents: [Int32], depths: [UInt16]) {
        precondition(frames.count == parents.count && parents.count == depths.count && !frames.isEmpty)
        self.frames = frames
        self.parents = parents
        self.depths = depths
    }

    /// The frames of node `node`'s stack, innermost first.
    func stack(of node: Int32) -> [UInt64] {
        var frames: [UInt64] = []
        frames.reserveCapacity(Int(depths[Int(node)]))
        var node = Int(node)
        while node != 0 {
            frames.append(self.frames[node])
            node = Int(parents[node])
        }
        return frames
    }

    /// The tree of these stacks (innermost first), and each one's node.
    static func build<Stacks: Sequence>(_ stacks: Stacks) -> (tree: StackTree, nodes: [Int32])
    where Stacks.Element == TraceFrames {
        var builder = Builder()
        let nodes = stacks.map { stack in
            stack.withUnsafeBufferPointer { frames in
                var node: Int32 = 0
                for frame in frames.reversed() { node = builder.child(of: node, frame: frame) }
                return node
            }
        }
        return (StackTree(frames: builder.frames, parents: builder.parents, depths: builder.depths), nodes)
    }

    /// Interns (parent, frame) pairs: open addressing over a power-of-two
    /// slot array, like the recorder's own tree.
    private struct Builder {
        var frames: [UInt64] = [0]
        var parents: [Int32] = [0]
        var depths: [UInt16] = [0]
        /// Node + 1, or 0 for an empty slot.
        var slots = [Int32](repeating: 0, count: 1 << 12)

        mutating func child(of parent: Int32, frame: UInt64) -> Int32 {
            let mask = slots.count - 1
            var slot = Self.slot(parent, frame) & mask
            while slots[slot] != 0 {
                let node = Int(slots[slot] - 1)
                if frames[node] == frame && parents[node] == parent { return Int32(node) }
                slot = (slot + 1) & mask
            }
            let node = Int32(frames.count)
            frames.append(frame)
            parents.append(parent)
            depths.append(depths[Int(parent)] &+ 1)
            slots[slot] = node + 1
            if frames.count * 2 > slots.count { grow() }
            return node
        }

        private mutating func grow() {
            var bigger = [Int32](repeating: 0, count: slots.count * 2)
            let mask = bigger.count - 1
            for node in 1..<frames.count {
                var slot = Self.slot(parents[node], frames[node]) & mask
                while bigger[slot] != 0 { slot = (slot + 1) & mask }
                bigger[slot] = Int32(node + 1)
            }
            slots = bigger
        }

        private static func slot(_ parent: Int32, _ frame: UInt64) -> Int {
            var h = frame &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(UInt32(bitPattern: parent))
            h ^= h >> 33
            h = h &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 33
            return Int(truncatingIfNeeded: h)
        }
    }
}

/// A stack as a node of its snapshot's `StackTree`.
public struct StackNode: Sendable {
    let tree: StackTree
    let id: Int32
}

extension Snapshot {
    /// The traces' stacks as one tree, and each trace's node in it: the
    /// file's own tree when every trace still has its node there (format
    /// 2), otherwise a tree built from the traces' frames.
    func stackTree() -> (tree: StackTree, nodes: [Int32]) {
        if let tree = traces.first?.stack?.tree,
           traces.allSatisfy({ $0.stack?.tree === tree }) {
            return (tree, traces.map { $0.stack!.id })
        }
        return StackTree.build(traces.lazy.map(\.frames))
    }
}
