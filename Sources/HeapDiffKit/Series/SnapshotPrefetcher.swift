import Foundation

/// Reads the snapshots of a series ahead of their use, on other threads, so
/// that reading (the file, its checksum, its records) overlaps with whatever
/// is done with the snapshots before: `TrendAnalysis.analyze(count:load:)`
/// takes `{ try prefetcher.snapshot(at: $0) }` as its `load`.
///
/// At most `window` snapshots are read but not yet taken at any time, so a
/// long series costs the memory of a few snapshots; `readers` threads read
/// them. Snapshots (or the errors of reading them) are handed out in order.
public final class SnapshotPrefetcher: Sendable {
    private let state: State

    /// `read` is called once per index, from any thread and possibly
    /// several at a time, so it must not depend on the order of the calls.
    public init(count: Int, readers: Int = ProcessInfo.processInfo.activeProcessorCount, window: Int? = nil,
                read: @escaping @Sendable (Int) throws -> Snapshot) {
        let readers = max(1, min(readers, count))
        state = State(count: count, window: max(window ?? 2 * readers, readers), read: read)
        for _ in 0..<readers {
            let state = self.state
            Thread { state.work() }.start()
        }
    }

    deinit {
        state.stop()
    }

    /// Snapshot `index`, waiting for it to be read; indices are taken in
    /// increasing order, each once.
    public func snapshot(at index: Int) throws -> Snapshot {
        try state.take(index).get()
    }

    private final class State: @unchecked Sendable {
        // Everything below is guarded by `condition`.
        private let condition = NSCondition()
        private let count: Int
        private let window: Int
        private let read: @Sendable (Int) throws -> Snapshot
        /// The next index a reader takes on.
        private var next = 0
        /// Indices below this have been taken by the user.
        private var taken = 0
        private var done: [Int: Result<Snapshot, any Error>] = [:]
        private var stopped = false

        init(count: Int, window: Int, read: @escaping @Sendable (Int) throws -> Snapshot) {
            self.count = count
            self.window = window
            self.read = read
        }

        /// A reader thread: takes the next index while it is within the
        /// window of the one the user waits for, until all are read.
        func work() {
            condition.lock()
            while true {
                while !stopped && next < count && next - taken >= window {
                    condition.wait()
                }
                if stopped || next >= count { break }
                let index = next
                next += 1
                condition.unlock()
                let result = Result { try read(index) }
                condition.lock()
                done[index] = result
                condition.broadcast()
            }
            condition.unlock()
        }

        func take(_ index: Int) -> Result<Snapshot, any Error> {
            condition.lock()
            defer { condition.unlock() }
            precondition(index == taken && index < count, "snapshots are taken in order, each once")
            while done[index] == nil {
                condition.wait()
            }
            taken = index + 1
            condition.broadcast()
            return done.removeValue(forKey: index)!
        }

        func stop() {
            condition.lock()
            stopped = true
            condition.broadcast()
            condition.unlock()
        }
    }
}
