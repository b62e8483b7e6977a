import HeapDiffTesting
import SessionStore
import Testing

/// The same leak tests with Swift Testing, one at a time: a snapshot is of
/// the whole process, so tests running alongside would be measured too.
@Suite(.serialized) struct SessionStoreSwiftTestingLeakTests {
    /// Fails: logout leaves the audit trail behind (SessionStore.swift:18).
    /// Each case's rounds are judged, and kept, on their own.
    @Test(arguments: [1_000, 500]) func loginLogoutCycleDoesNotGrow(users: Int) throws {
        let store = SessionStore()
        try expectNoHeapGrowth(rounds: 4) {
            for user in 0..<users {
                store.logout(store.login(user: "user-\(user)"))
            }
        }
    }

    /// Passes: refreshing a token frees the old one.
    @Test func tokenRefreshStaysBounded() throws {
        let store = SessionStore()
        let sessions = (0..<100).map { store.login(user: "user-\($0)") }
        try expectNoHeapGrowth(maxGrowthPerSite: 1024) {
            for _ in 0..<10 { sessions.forEach(store.refresh) }
        }
    }
}
