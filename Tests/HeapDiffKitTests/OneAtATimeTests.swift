import Foundation
import Synchronization
import Testing
@testable import HeapDiffTesting

/// HeapDiffTesting's turns: expectations, synchronous (on threads of their
/// own) and async (tasks that suspend inside their turn, so they may resume
/// on another thread), never overlap, and every one of them gets its turn.
@Suite struct OneAtATimeTests {
    final class Turns: Sendable {
        let turns = OneAtATime()
        let inside = Atomic(0)
        let mostInside = Atomic(0)
        let finished = Atomic(0)

        func began() {
            let now = inside.add(1, ordering: .sequentiallyConsistent).newValue
            mostInside.max(now, ordering: .sequentiallyConsistent)
        }

        func ended() {
            inside.subtract(1, ordering: .sequentiallyConsistent)
            finished.add(1, ordering: .sequentiallyConsistent)
        }
    }

    @Test(.timeLimit(.minutes(1))) func turnsNeverOverlapAndNoneIsLost() async {
        let counts = Turns()
        let threads = (0..<4).map { _ in
            Thread {
                for _ in 0..<50 {
                    counts.turns.take()
                    counts.began()
                    usleep(50)
                    counts.ended()
                    counts.turns.release()
                }
            }
        }
        threads.forEach { $0.start() }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    await counts.turns.take()
                    counts.began()
                    await Task.yield()
                    try? await Task.sleep(nanoseconds: 20_000)
                    counts.ended()
                    counts.turns.release()
                }
            }
        }
        while counts.finished.load(ordering: .sequentiallyConsistent) < 400 {
            try? await Task.sleep(nanoseconds: 1_000_000)
        }
        #expect(counts.mostInside.load(ordering: .sequentiallyConsistent) == 1)
        #expect(counts.finished.load(ordering: .sequentiallyConsistent) == 400)
    }
}
