"""A CPython workload: builds and drops request-like dicts, lists and
strings, with a bounded cache, the way a web handler allocates. Run with
PYTHONMALLOC=malloc so every object allocation reaches the C allocator."""
import sys

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
cache = {}
total = 0
for i in range(rounds):
    request = {"id": i, "path": f"/items/{i % 1000}", "headers": {"accept": "json", "user": f"u{i % 97}"},
               "body": [j * i for j in range(20)]}
    response = {"status": 200, "items": [str(x) for x in request["body"]], "echo": request["path"] * 2}
    cache[request["path"]] = response
    if len(cache) > 500:
        cache.pop(next(iter(cache)))
    total += len(response["items"]) + len(request["headers"])
print(total)
