"""A Flask tracking API, driven by Flask's test client: every event is
appended to a global list and never dropped. The recent-events deque,
bounded at 1000, is the steady control."""
import sys
from collections import deque

from flask import Flask, request

from heapdiff_phase import snapshot

app = Flask(__name__)
events = []
recent = deque(maxlen=1000)


@app.post("/track")
def track():
    events.append({"user": request.args.get("user"), "body": request.get_data(as_text=True)})  # @site events
    recent.append({"user": request.args.get("user"), "size": request.content_length})
    return {"stored": len(events)}


def drive(first, count):
    for i in range(first, first + count):
        # A client per request, as each request of a real server is on its
        # own: a long-lived test client keeps a little of what it served.
        response = app.test_client().post(f"/track?user=u{i % 50}", data="e" * 300)
        assert response.status_code == 200


warmup, requests = int(sys.argv[1]), int(sys.argv[2])
drive(0, warmup)
snapshot("before")
drive(warmup, requests)
snapshot("after")
