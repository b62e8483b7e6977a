import Dispatch
import Synchronization

/// Lets one expectation measure at a time: two measuring at once would see
/// each other's growth. Async expectations wait without holding a thread
/// (their bodies await across threads, where a thread's lock would be
/// released by another thread); synchronous ones block theirs. Turns are
/// handed over in the order they were asked for.
final class OneAtATime: Sendable {
    private enum Waiter {
        case task(CheckedContinuation<Void, Never>)
        case thread(DispatchSemaphore)
    }

    private struct State {
        var busy = false
        var waiting: [Waiter] = []
    }

    private let state = Mutex(State())

    /// Blocks this thread until it is this caller's turn.
    func take() {
        let semaphore = DispatchSemaphore(value: 0)
        if !takeNowOrWait(as: .thread(semaphore)) { semaphore.wait() }
    }

    /// Suspends this task until it is this caller's turn.
    func take() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if takeNowOrWait(as: .task(continuation)) { continuation.resume() }
        }
    }

    /// Takes the turn if it is free (true); otherwise queues `waiter`, whom
    /// `release` will wake with the turn taken for it.
    private func takeNowOrWait(as waiter: Waiter) -> Bool {
        state.withLock { state in
            guard state.busy else {
                state.busy = true
                return true
            }
            state.waiting.append(waiter)
            return false
        }
    }

    /// Ends this turn: the next waiter's starts (the turn stays taken), or none is taken.
    func release() {
        let next = state.withLock { state -> Waiter? in
            guard !state.waiting.isEmpty else {
                state.busy = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        switch next {
        case .task(let continuation): continuation.resume()
        case .thread(let semaphore): semaphore.signal()
        case nil: break
        }
    }
}
