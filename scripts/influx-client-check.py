#!/usr/bin/env python3
"""Writes through a stock InfluxDB client (the `influxdb-client` package, /api/v2/write) and reads the points
back through Flotilla's /api/v1/sql. Usage: influx-client-check.py http://127.0.0.1:8902

Exits 0 when every point reads back with its values, 1 otherwise (printing what differed)."""
import json, sys, urllib.request
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

url = sys.argv[1]
base = 1_700_000_000_000_000_000


def sql(statement, db="public"):
    req = urllib.request.Request(f"{url}/api/v1/sql?db={db}&epoch=ns", data=statement.encode(), method="POST",
                                 headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


failures = []
# Plain and gzip-compressed bodies, Point objects and a line-protocol record in milliseconds.
for gzip in (False, True):
    with InfluxDBClient(url=url, token="not-checked", org="cnosdb", enable_gzip=gzip, timeout=30_000) as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        points = [
            Point("weather").tag("city", f"c{i}").tag("gzip", str(gzip)).field("temp", 20.5 + i).field("ok", i % 2 == 0)
            .field("count", i).time(base + i, WritePrecision.NS)
            for i in range(50)
        ]
        write.write(bucket="public", org="cnosdb", record=points)
        write.write(bucket="public", org="cnosdb", record=f"events,gzip={gzip} msg=\"hello \\\"world\\\"\" 1700000000123",
                    write_precision=WritePrecision.MS)

rows = sql("SELECT city, gzip, temp, ok, count, time FROM weather ORDER BY time")
by_key = {(r["city"], r["gzip"]): r for r in rows}
for gzip in ("False", "True"):
    for i in range(50):
        row = by_key.get((f"c{i}", gzip))
        expected = {"temp": 20.5 + i, "ok": i % 2 == 0, "count": i, "time": base + i}
        if row is None or any(row[k] != v for k, v in expected.items()):
            failures.append(f"weather c{i} gzip={gzip}: got {row}, expected {expected}")
events = sql("SELECT gzip, msg, time FROM events")
if sorted((e["gzip"], e["msg"], e["time"]) for e in events) != [
        ("False", 'hello "world"', 1_700_000_000_123_000_000), ("True", 'hello "world"', 1_700_000_000_123_000_000)]:
    failures.append(f"events: got {events}")

if failures:
    print("\n".join(failures[:20]))
    sys.exit(1)
print(f"influxdb-client: {len(rows)} weather points and {len(events)} events written and read back")
