/// The code under test: a session store whose logout forgets the audit
/// trail it keeps per session, so memory grows with every login.
public final class SessionStore {
    public struct Session {
        public var user: String
        public var token: [UInt8]
    }

    private var sessions: [Int: Session] = [:]
    private var audit: [Int: [String]] = [:]
    private var nextID = 0

    public init() {}

    public func login(user: String) -> Int {
        nextID += 1
        sessions[nextID] = Session(user: user, token: [UInt8](repeating: 7, count: 64))
        audit[nextID] = ["login \(user) from a terminal with a fairly long description"]  // never removed
        return nextID
    }

    /// A new token for a session: the old one is freed, so this stays bounded.
    public func refresh(_ id: Int) {
        sessions[id]?.token = [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: 64)
    }

    public func logout(_ id: Int) {
        sessions[id] = nil   // bug: audit[id] stays
    }

    public var activeSessions: Int { sessions.count }
}
