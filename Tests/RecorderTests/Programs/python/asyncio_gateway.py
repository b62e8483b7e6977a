"""An asyncio gateway: every request starts a background audit task that is
kept in a set and never removed, and caches its response forever. The
TaskManager, whose tasks remove themselves when done, is the steady
control."""
import asyncio
import json
import sys

from heapdiff_phase import snapshot

background_tasks = set()
responses = {}


class TaskManager:
    def __init__(self):
        self.tasks = set()

    def spawn(self, coroutine):
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


async def audit(request_id):
    await asyncio.sleep(0)
    return request_id


async def handle_request(request_id, manager):
    body = json.dumps({"id": request_id, "path": f"/items/{request_id}", "payload": "x" * 200})
    background_tasks.add(asyncio.ensure_future(audit(request_id)))  # @site task_set
    responses[request_id] = body.encode()  # @site responses
    manager.spawn(audit(request_id))
    return len(body)


async def serve(first, count, manager):
    for request_id in range(first, first + count):
        await handle_request(request_id, manager)
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)


async def main(warmup, requests):
    manager = TaskManager()
    await serve(0, warmup, manager)
    snapshot("before")
    await serve(warmup, requests, manager)
    snapshot("after")
    assert not manager.tasks


asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
