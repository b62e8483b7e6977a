"""A session store with a bug: it keeps every request body in its audit
history, so memory grows with traffic although every session is bounded."""


class SessionStore:
    def __init__(self, capacity=50):
        self.capacity = capacity
        self.sessions = {}
        self.history = []

    def handle(self, user, body):
        session = self.sessions.setdefault(user, {"requests": 0})
        session["requests"] += 1
        self.history.append(body.decode())  # the leak: never trimmed
        if len(self.sessions) > self.capacity:
            self.sessions.pop(next(iter(self.sessions)))
        return session["requests"]
