"""A FastAPI service under load: uvicorn serves it on a thread of this
process, and the main thread sends REQUESTS HTTP requests over keep-alive
connections (JSON bodies validated by pydantic, a bounded cache of recent
orders and an audit list that only grows), then takes a snapshot when
traced. Needs fastapi and uvicorn (Benchmarks/python-service/venv.sh)."""
import ctypes
import http.client
import json
import socket
import sys
import threading
import time

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
app = FastAPI()
recent = {}
audit = []


class Line(BaseModel):
    sku: str
    qty: int
    price: float


class Order(BaseModel):
    customer: str
    lines: list[Line]


@app.post("/orders/{order_id}")
async def create(order_id: int, order: Order):
    total = sum(line.qty * line.price for line in order.lines)
    recent[order_id % 128] = order
    audit.append((order_id, order.customer, total))
    return {"id": order_id, "total": round(total, 2), "lines": len(order.lines)}


@app.get("/orders/{order_id}")
async def read(order_id: int):
    order = recent.get(order_id % 128)
    return {"id": order_id, "customer": order.customer if order else None}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(REQUESTS):
        if i % 2 == 0:
            body = json.dumps({"customer": f"c{i % 300}",
                               "lines": [{"sku": f"s{(i + k) % 900}", "qty": k + 1, "price": 2.5 * k} for k in range(4)]})
            connection.request("POST", f"/orders/{i}", body, {"Content-Type": "application/json"})
        else:
            connection.request("GET", f"/orders/{i - 1}")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"request {i}: HTTP {response.status}")
    connection.close()
    snapshot = getattr(ctypes.CDLL(None), "heapdiff_snapshot", None)
    if snapshot:
        snapshot(f"after {REQUESTS} requests".encode())
    server.should_exit = True
    thread.join()
    print(len(audit))


main()
