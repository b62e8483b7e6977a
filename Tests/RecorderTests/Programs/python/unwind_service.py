"""A deterministic request loop (no time, randomness or files): run twice,
it allocates the same blocks from the same stacks, so the recorder's
traceback tables from the fast unwinder and from unw_backtrace can be
compared line for line (UnwindExactnessTests). Python recursion, C code
calling back into Python (sorted with a key, json with a default), and
exceptions raised through both."""
import collections
import json
import re
import sys

WORD = re.compile(r"[a-z]+")


class Rejected(Exception):
    pass


def nested(depth, seed):
    if depth == 0:
        return {"leaf": seed, "words": WORD.findall("alpha beta %d gamma" % seed)}
    return {"child": nested(depth - 1, seed * 31 % 1009), "items": [seed + i for i in range(depth * 3)]}


def encode(value):
    if isinstance(value, collections.Counter):
        return dict(value)
    raise TypeError(type(value).__name__)


def handle(request_id, cache):
    body = nested(request_id % 7, request_id)
    body["counts"] = collections.Counter(str(request_id * 7919 % 97))
    text = json.dumps(body, default=encode, sort_keys=True)
    decoded = json.loads(text)
    ranked = sorted(decoded.get("items", [1, 2]), key=lambda x: -x)
    if request_id % 11 == 0:
        try:
            validate(request_id, 5)
        except Rejected as rejected:
            cache[("rejected", request_id % 50)] = str(rejected)
    cache[request_id % 200] = (text[:64], ranked[:3])


def validate(request_id, depth):
    if depth == 0:
        raise Rejected("request %d" % request_id)
    validate(request_id, depth - 1)


def main(requests):
    cache = {}
    for request_id in range(requests):
        handle(request_id, cache)
    print(len(cache))


main(int(sys.argv[1]))
