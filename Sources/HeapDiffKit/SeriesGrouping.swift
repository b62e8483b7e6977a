#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Groups the snapshots of one process's series, one after another, exactly
/// as `TraceGrouping` groups each, but working out the keys of each distinct
/// call stack once for the whole series instead of once per snapshot.
///
/// Consecutive snapshots of a process hold mostly the same stacks, and what
/// a stack counts under (its keys and sites, after the filters) depends only
/// on its return addresses and on the modules they fall in. So each stack's
/// addresses are looked up in a table; only a stack not seen before with
/// the same modules is symbolized and keyed, by a `StackResolver` shared by
/// the snapshots with those modules. Each snapshot then costs one table
/// lookup per trace and a few additions per key.
///
/// Groups come out as rows of numbers (key, size, count, and which stack
/// was the group's largest trace); keys, sites and tracebacks are made
/// from them only for what is reported (`site`, `traceback`).
struct SeriesGrouping {
    /// One group of one snapshot, as a `Statistic` without its strings.
    struct Row {
        /// Index in `keys`.
        var key: Int32
        /// The (stack, key) pair of the group's largest trace: its site and traceback.
        var entry: Int32
        var size: Int64
        var count: Int64
    }

    let options: StatisticsOptions
    private let grouping: TraceGrouping

    /// Every key met so far; rows refer to them by index.
    private(set) var keys: [GroupKey] = []
    private var keyIndex: [GroupKey: Int32] = [:]

    /// Snapshots with the same modules share a resolver (and stacks); a
    /// series of one process usually has a single layout.
    private var layouts: [(context: Snapshot, resolver: StackResolver)] = []
    private var stacks = StackTable()
    /// The stack of each trace of the previous snapshot, by position.
    private var previousStackAt: [Int32] = []

    /// Per stack, its entries: the keys it counts under, each with its site.
    /// Stack i's are `entryStart[i]..<entryStart[i + 1]`.
    private var entryStart: [Int32] = [0]
    private var entryKey: [Int32] = []
    private var entrySite: [Frame] = []
    private var entryStack: [Int32] = []

    init(options: StatisticsOptions, symbolizer: Symbolizer) {
        self.options = options
        grouping = TraceGrouping(options: options, symbolizer: symbolizer)
    }

    /// The groups of `snapshot` with at least `options.minimumSize` live
    /// bytes, as `Snapshot.statistics` has them, in no particular order.
    mutating func group(_ snapshot: Snapshot) -> [Row] {
        let layout = layoutIndex(snapshot)
        // Per key: this snapshot's sums and largest trace so far. `first`
        // holds the key's row in `rows` + 1, 0 while the key has none.
        var rows: [Row] = []
        var first = [Int32](repeating: 0, count: keys.count)
        var largest: [(bytes: UInt64, count: UInt64)] = []
        let traces = snapshot.traces
        var stackAt = [Int32](repeating: -1, count: traces.count)
        for position in traces.indices where traces[position].liveCount > 0 {
            // The recorder writes its stacks in much the same order each
            // time: the stack at this position last time is tried first.
            let guess = position < previousStackAt.count ? Int(previousStackAt[position]) : -1
            let stack = traces[position].frames.withUnsafeBufferPointer { frames in
                guess >= 0 && stacks.stack(guess, is: frames, layout: layout)
                    ? guess : stacks.index(of: frames, layout: layout)
            }
            if stack == entryStart.count - 1 {  // a stack not seen before
                addEntries(of: traces[position].frames, layout: layout)
                if first.count < keys.count { first.append(contentsOf: repeatElement(0, count: keys.count - first.count)) }
            }
            stackAt[position] = Int32(stack)
            let measure = (bytes: traces[position].liveBytes, count: traces[position].liveCount)
            let bytes = Int64(saturating: measure.bytes), count = Int64(saturating: measure.count)
            for entry in Int(entryStart[stack])..<Int(entryStart[stack + 1]) {
                let key = Int(entryKey[entry])
                let row = Int(first[key]) - 1
                if row < 0 {
                    // The first trace of a group is its largest until a larger one comes.
                    first[key] = Int32(rows.count + 1)
                    rows.append(Row(key: Int32(key), entry: Int32(entry), size: bytes, count: count))
                    largest.append(measure)
                    continue
                }
                rows[row].size = rows[row].size.saturatingAdding(bytes)
                rows[row].count = rows[row].count.saturatingAdding(count)
                // Ties keep the first in file order, as `TraceGrouping` does.
                if measure > largest[row] {
                    largest[row] = measure
                    rows[row].entry = Int32(entry)
                }
            }
        }
        previousStackAt = stackAt
        return rows.filter { $0.size >= options.minimumSize }
    }

    /// The frame that gives an entry's key: the site of its group.
    func site(of entry: Int32) -> Frame {
        entrySite[Int(entry)]
    }

    /// Every frame of the entry's stack, as `Statistic.traceback` has it.
    func traceback(of entry: Int32) -> [Frame] {
        let stack = Int(entryStack[Int(entry)])
        let resolver = layouts[stacks.layout(of: stack)].resolver
        return resolver.stack(Array(stacks.frames(of: stack)))
    }

    private mutating func layoutIndex(_ snapshot: Snapshot) -> Int {
        let context = Self.context(of: snapshot)
        if let last = layouts.indices.last, layouts[last].context == context { return last }
        if let known = layouts.firstIndex(where: { $0.context == context }) { return known }
        layouts.append((context, StackResolver(snapshot: snapshot, symbolizer: grouping.symbolizer, rule: options.rule)))
        return layouts.count - 1
    }

    /// What the frames of a snapshot's stacks depend on besides their
    /// addresses: the snapshot without its traces, path and process record,
    /// so its modules and whatever else it holds (and a resolver may use).
    /// Snapshots with equal contexts can share their stacks' keys.
    private static func context(of snapshot: Snapshot) -> Snapshot {
        var context = snapshot
        context.path = ""
        context.process = ProcessRecord()
        context.traces = []
        return context
    }

    /// Works out the keys of the stack just added to `stacks`.
    private mutating func addEntries(of frames: TraceFrames, layout: Int) {
        let stack = Int32(entryStart.count - 1)
        for (key, site) in grouping.keys(of: frames, resolver: layouts[layout].resolver) {
            let index: Int32
            if let known = keyIndex[key] {
                index = known
            } else {
                index = Int32(keys.count)
                keys.append(key)
                keyIndex[key] = index
            }
            entryKey.append(index)
            entrySite.append(site)
            entryStack.append(stack)
        }
        entryStart.append(Int32(entryKey.count))
    }
}

/// The distinct stacks of a series: each stack's frames (and layout) get a
/// number, found again by hashing its frames. Open addressing with linear
/// probing over a power-of-two slot array; frames are kept back to back.
struct StackTable {
    private var frames: [UInt64] = []
    /// Stack i's frames are `frames[starts[i]..<starts[i + 1]]`.
    private var starts: [Int] = [0]
    private var layouts: [Int32] = []
    private var hashes: [UInt64] = []
    /// Stack number + 1, or 0 for an empty slot.
    private var slots = [Int32](repeating: 0, count: 1024)

    var count: Int { hashes.count }

    func frames(of stack: Int) -> ArraySlice<UInt64> {
        frames[starts[stack]..<starts[stack + 1]]
    }

    func layout(of stack: Int) -> Int {
        Int(layouts[stack])
    }

    /// The number of the stack with these frames in this layout, adding it
    /// if it is new (as number `count - 1`).
    mutating func index(of stack: UnsafeBufferPointer<UInt64>, layout: Int) -> Int {
        let hash = Self.hash(stack, layout: layout)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let occupant = Int(slots[slot]) - 1
            if occupant < 0 { break }
            if hashes[occupant] == hash && self.stack(occupant, is: stack, layout: layout) {
                return occupant
            }
            slot = (slot + 1) & mask
        }
        let index = hashes.count
        hashes.append(hash)
        layouts.append(Int32(layout))
        frames.append(contentsOf: stack)
        starts.append(frames.count)
        slots[slot] = Int32(index + 1)
        if hashes.count * 2 > slots.count { grow() }
        return index
    }

    /// Whether stack number `index` has these frames in this layout.
    func stack(_ index: Int, is stack: UnsafeBufferPointer<UInt64>, layout: Int) -> Bool {
        let start = starts[index]
        guard starts[index + 1] - start == stack.count, layouts[index] == Int32(layout) else { return false }
        guard let wanted = stack.baseAddress, !stack.isEmpty else { return true }
        return frames.withUnsafeBufferPointer { stored in
            memcmp(stored.baseAddress! + start, wanted, stack.count * MemoryLayout<UInt64>.stride) == 0
        }
    }

    private mutating func grow() {
        var bigger = [Int32](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        for (index, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while bigger[slot] != 0 { slot = (slot + 1) & mask }
            bigger[slot] = Int32(index + 1)
        }
        slots = bigger
    }

    /// A multiply-xorshift mix of every frame, finished as MurmurHash3's
    /// fmix64: return addresses differ mostly in their low bits, and the
    /// slot is taken from the low bits of the result.
    private static func hash(_ stack: UnsafeBufferPointer<UInt64>, layout: Int) -> UInt64 {
        var hash = UInt64(truncatingIfNeeded: stack.count) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: layout)
        for frame in stack {
            hash = (hash ^ frame) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
        }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        hash = hash &* 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return hash
    }
}
