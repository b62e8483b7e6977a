/// The session store behind an actor, as a server's handlers share it:
/// calls come from many tasks, on whichever threads the runtime picks.
public actor SessionService {
    private let store = SessionStore()

    public init() {}

    public func login(user: String) -> Int { store.login(user: user) }

    public func logout(_ id: Int) { store.logout(id) }

    public func refresh(_ id: Int) { store.refresh(id) }

    public var activeSessions: Int { store.activeSessions }
}
