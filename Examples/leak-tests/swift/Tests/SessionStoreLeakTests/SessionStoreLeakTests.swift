import HeapDiffTesting
import SessionStore
import XCTest

/// Leak tests with XCTest. Under `heapdiff run -- swift test` each
/// expectNoHeapGrowth body runs five rounds with a heap snapshot after each,
/// and the test fails naming the line that kept growing; run plainly, each
/// body runs once and the tests pass.
final class SessionStoreLeakTests: XCTestCase {
    /// Fails: logout leaves the audit trail behind (SessionStore.swift:18).
    func testLoginLogoutCycleDoesNotGrow() throws {
        let store = SessionStore()
        try expectNoHeapGrowth {
            for user in 0..<1_000 {
                store.logout(store.login(user: "user-\(user)"))
            }
        }
        XCTAssertEqual(store.activeSessions, 0)
    }

    /// Passes: refreshing a token frees the old one.
    func testTokenRefreshStaysBounded() throws {
        let store = SessionStore()
        let sessions = (0..<100).map { store.login(user: "user-\($0)") }
        try expectNoHeapGrowth {
            for _ in 0..<10 { sessions.forEach(store.refresh) }
        }
    }

    /// Passes: the same refreshes from child tasks, awaited; what the
    /// tasks themselves allocate is gone by the end of each round.
    func testConcurrentTokenRefreshStaysBounded() async throws {
        let service = SessionService()
        var sessions = [Int]()
        for user in 0..<100 { sessions.append(await service.login(user: "user-\(user)")) }
        try await expectNoHeapGrowth {
            await withTaskGroup(of: Void.self) { group in
                for id in sessions {
                    group.addTask { for _ in 0..<10 { await service.refresh(id) } }
                }
            }
        }
    }
}
