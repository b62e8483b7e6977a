"""A Python service for `make bench-trend` (TREND_PROGRAM=python): imports
the standard-library modules a web service uses, then serves requests for
SECONDS seconds, each request parsing JSON, building objects and formatting
a response through many code paths, and keeping one response in a cache
that is never trimmed (the leak `trend` should name). Recorded with
HEAPDIFF_INTERVAL, each periodic snapshot lists the code objects its own
stacks name, each line table as far as they need it."""
import asyncio, csv, dataclasses, datetime, decimal, email.message, http.client, io, json, logging
import sqlite3, sys, time, typing, urllib.parse, uuid, xml.etree.ElementTree as ET

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
cache = {}


@dataclasses.dataclass
class Order:
    id: str
    items: list
    total: decimal.Decimal
    when: datetime.datetime


def parse(body):
    data = json.loads(body)
    return Order(str(uuid.UUID(int=data["n"])), data["items"], decimal.Decimal(data["total"]),
                 datetime.datetime.fromtimestamp(data["t"]))


def as_csv(order):
    out = io.StringIO()
    writer = csv.writer(out)
    for item in order.items:
        writer.writerow([order.id, item, order.total])
    return out.getvalue()


def as_xml(order):
    root = ET.Element("order", id=order.id)
    for item in order.items:
        ET.SubElement(root, "item").text = str(item)
    return ET.tostring(root)


def as_mail(order):
    message = email.message.EmailMessage()
    message["Subject"] = f"order {order.id}"
    message.set_content(urllib.parse.urlencode({"total": str(order.total)}))
    return message.as_bytes()


def handle(n):
    body = json.dumps({"n": n, "items": list(range(n % 7)), "total": f"{n}.50", "t": 1700000000 + n})
    order = parse(body)
    response = [as_csv, as_xml, as_mail][n % 3](order)
    if n % 10 == 0:
        cache[order.id] = response   # the leak: never trimmed
    return len(response)


def main():
    start, n = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        for _ in range(100):
            handle(n)
            n += 1
    print(f"{n} requests, {len(cache)} cached")


main()
