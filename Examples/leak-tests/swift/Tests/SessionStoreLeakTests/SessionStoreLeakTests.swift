import Glibc
import SessionStore
import XCTest

/// heapdiff_snapshot, found at run time: nil when not run under heapdiff,
/// so this test also runs (and passes) as an ordinary unit test.
private typealias SnapshotFunction = @convention(c) (UnsafePointer<CChar>?) -> Int32
private let heapdiffSnapshot: SnapshotFunction? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "heapdiff_snapshot")
    .map { unsafeBitCast($0, to: SnapshotFunction.self) }

final class SessionStoreLeakTests: XCTestCase {
    /// Log in and out 1,000 times per phase, five phases, a snapshot after
    /// each. `heapdiff check -- swift test` fails if a call site keeps growing.
    func testLoginLogoutCycleDoesNotGrow() {
        let store = SessionStore()
        for phase in 0..<5 {
            for user in 0..<1_000 {
                store.logout(store.login(user: "user-\(phase)-\(user)"))
            }
            _ = heapdiffSnapshot?("phase \(phase)")
        }
        XCTAssertEqual(store.activeSessions, 0)
    }
}
