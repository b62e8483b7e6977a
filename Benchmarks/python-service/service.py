"""A Python service loop: each request is a JSON round trip of a nested
dict (parse the request, build a response, serialize it), with a bounded
response cache, the way an API handler spends its time. Measured with the
default allocator (pymalloc) for the bare run, as users run it."""
import json
import sys

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 30000


def make_request(i):
    return json.dumps({
        "id": i,
        "user": {"name": f"user{i % 500}", "roles": ["reader", "writer"][: 1 + i % 2], "quota": i % 97},
        "items": [{"sku": f"sku-{(i * 7 + k) % 1000}", "qty": k + 1, "price": 1.5 * k} for k in range(8)],
    })


def handle(body, cache):
    request = json.loads(body)
    total = sum(item["qty"] * item["price"] for item in request["items"])
    response = {
        "id": request["id"],
        "user": request["user"]["name"],
        "lines": [{"sku": item["sku"], "amount": round(item["qty"] * item["price"], 2)} for item in request["items"]],
        "total": total,
    }
    text = json.dumps(response)
    cache[request["id"] % 256] = text
    return len(text)


def main():
    cache = {}
    size = 0
    for i in range(REQUESTS):
        size += handle(make_request(i), cache)
    print(size)


main()
