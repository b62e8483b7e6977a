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
/// on its return addresses and on what its snapshot says about them (the
/// modules they fall in, the Python code objects they name): the
/// snapshot's context. So each stack's addresses are looked up in a table;
/// only a stack not seen before in the same context is symbolized and keyed,
/// by a `StackResolver` shared by the snapshots with that context. Each
/// snapshot then costs one table lookup per trace and a few additions per key.
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
        /// Of a sampled snapshot: the sample points of the group's live
        /// blocks, and of all its stacks ever allocated (`SampledEstimates`).
        var liveSamples: UInt64 = 0
        var allocSamples: UInt64 = 0
    }

    let options: StatisticsOptions
    private let grouping: TraceGrouping

    /// Every key met so far; rows refer to them by index.
    private(set) var keys: [GroupKey] = []
    private var keyIndex: [GroupKey: Int32] = [:]

    /// Snapshots with the same context share stacks; a series of one
    /// process usually has a single context, unless it loads or unloads
    /// libraries between snapshots (see `layoutIndex` for Python code).
    private var layouts: [Layout] = []
    private struct Layout {
        var context: Snapshot
        /// Index in `resolvers` of the resolver new stacks are keyed with.
        var resolver: Int
        /// Stacks with a Python frame whose code object the context lacked.
        var lackingCode: [Int] = []
    }
    private var resolvers: [StackResolver] = []
    /// How many layouts the snapshots so far made (tests).
    var layoutCount: Int { layouts.count }
    private var stacks = StackTable()
    /// Per stack, the resolver it was keyed with, which makes its traceback.
    private var stackResolver: [Int32] = []
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
        // A sampled snapshot's stacks without live blocks still count
        // towards their group's allocated sample points.
        let sampled = snapshot.isSampled
        for position in traces.indices where traces[position].liveCount > 0 || (sampled && traces[position].allocSamples > 0) {
            // The recorder writes its stacks in much the same order each
            // time: the stack at this position last time is tried first.
            let guess = position < previousStackAt.count ? Int(previousStackAt[position]) : -1
            let stack = traces[position].frames.withUnsafeBufferPointer { frames in
                guess >= 0 && stacks.stack(guess, is: frames, layout: layout)
                    ? guess : stacks.index(of: frames, layout: layout)
            }
            if stack >= entryStart.count - 1 {  // a stack not seen before, so without entries
                addEntries(of: traces[position].frames, layout: layout)
                if first.count < keys.count { first.append(contentsOf: repeatElement(0, count: keys.count - first.count)) }
            }
            stackAt[position] = Int32(stack)
            let measure = (bytes: traces[position].liveBytes, count: traces[position].liveCount)
            let bytes = Int64(saturating: measure.bytes), count = Int64(saturating: measure.count)
            let liveSamples = traces[position].liveSamples, allocSamples = traces[position].allocSamples
            for entry in Int(entryStart[stack])..<Int(entryStart[stack + 1]) {
                let key = Int(entryKey[entry])
                let row = Int(first[key]) - 1
                if row < 0 {
                    // The first trace of a group is its largest until a larger one comes.
                    first[key] = Int32(rows.count + 1)
                    rows.append(Row(key: Int32(key), entry: Int32(entry), size: bytes, count: count,
                                    liveSamples: liveSamples, allocSamples: allocSamples))
                    largest.append(measure)
                    continue
                }
                rows[row].size = rows[row].size.saturatingAdding(bytes)
                rows[row].count = rows[row].count.saturatingAdding(count)
                rows[row].liveSamples &+= liveSamples
                rows[row].allocSamples &+= allocSamples
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
        return resolvers[Int(stackResolver[stack])].stack(Array(stacks.frames(of: stack)))
    }

    /// The layout of the snapshot's context, made or extended if needed.
    ///
    /// Each snapshot of a Python process lists the code objects its stacks
    /// name (an exit snapshot, every one seen), each line table only as far
    /// as its frames need it; so consecutive snapshots list overlapping sets,
    /// some tables longer in one than in the other. A code object's id is
    /// never reused, and a Python frame's `Frame` depends only on the code
    /// object its id names: so contexts that differ only in their listings
    /// of code objects, and agree on every id both list, are one layout
    /// listing the union, each table at its longest. Stacks keyed before keep
    /// their keys (their instructions were within the tables then), except
    /// those that named a code object missing then, keyed again when next
    /// seen. (Without this, every periodic snapshot of a Python service was
    /// a layout of its own, its stacks symbolized and keyed again.) A
    /// snapshot whose stacks name a code object it does not list (its record
    /// lost) keeps a layout of its own: the union would name it.
    private mutating func layoutIndex(_ snapshot: Snapshot) -> Int {
        let context = Self.context(of: snapshot)
        if let last = layouts.indices.last, layouts[last].context == context { return last }
        if let known = layouts.firstIndex(where: { $0.context == context }) { return known }
        if let same = layouts.lastIndex(where: { Self.context(context, agreesWith: $0.context) }),
           let codes = context.python?.codes, let listed = layouts[same].context.python?.codes,
           !Self.namesUnlistedCode(snapshot) {   // (its frames scanned only when a layout would take it)
            let more = codes.filter { id, code in
                listed[id].map { code.lineTable.bytes.count > $0.lineTable.bytes.count } ?? true
            }
            if !more.isEmpty {
                if more.keys.contains(where: { listed[$0] == nil }) {
                    for stack in layouts[same].lackingCode { stacks.retire(stack) }
                    layouts[same].lackingCode = []
                }
                layouts[same].context.python?.codes.merge(more) { _, longer in longer }
                resolvers[layouts[same].resolver].addPythonCodes(more)
            }
            return same
        }
        resolvers.append(StackResolver(snapshot: snapshot, symbolizer: grouping.symbolizer, rule: options.rule))
        layouts.append(Layout(context: context, resolver: resolvers.count - 1))
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

    /// Whether a stack of the snapshot names a Python code object it does not list.
    private static func namesUnlistedCode(_ snapshot: Snapshot) -> Bool {
        guard let codes = snapshot.python?.codes else { return false }
        // Ids are small and dense: a table of them, not a hash lookup a frame.
        var listed = [Bool](repeating: false, count: Int(codes.keys.max() ?? 0) + 1)
        for id in codes.keys { listed[Int(id)] = true }
        return snapshot.traces.contains { trace in
            trace.frames.contains { frame in
                guard PythonFrameAddress.isPython(frame) else { return false }
                let id = Int(PythonFrameAddress.codeID(frame))
                return id >= listed.count || !listed[id]
            }
        }
    }

    /// Whether `new` and `old` differ at most in their listings of Python
    /// code objects, with the same code object for every id both list.
    private static func context(_ new: Snapshot, agreesWith old: Snapshot) -> Bool {
        guard let newPython = new.python, let oldPython = old.python else { return false }
        var (newRest, oldRest) = (new, old)
        newRest.python?.codes = [:]
        oldRest.python?.codes = [:]
        return newRest == oldRest
            && newPython.codes.allSatisfy { id, code in oldPython.codes[id].map(code.isListing(ofSameCodeAs:)) ?? true }
    }

    /// Works out the keys of the stack just added to `stacks`.
    private mutating func addEntries(of frames: TraceFrames, layout: Int) {
        let stack = Int32(entryStart.count - 1)
        let resolver = layouts[layout].resolver
        stackResolver.append(Int32(resolver))
        if let python = layouts[layout].context.python,
           frames.contains(where: { PythonFrameAddress.isPython($0) && python.codes[PythonFrameAddress.codeID($0)] == nil }) {
            layouts[layout].lackingCode.append(Int(stack))
        }
        for (key, site) in grouping.keys(of: frames, resolver: resolvers[resolver]) {
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

    /// Stack number `index` is found no more: the next trace with its
    /// frames gets a new number.
    mutating func retire(_ index: Int) {
        layouts[index] = -1
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
