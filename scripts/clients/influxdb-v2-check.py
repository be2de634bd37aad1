#!/usr/bin/env python3
"""Drives the stock InfluxDB 2.x Python client (the `influxdb-client` package) through its first steps against a
Flotilla node: ping, health and version; buckets (create with a retention, find, list, delete) under an org name
Flotilla does not know (it stands for the default tenant); writes through /api/v2/write (plain and gzip, Point
objects and line protocol in milliseconds, a `db/rp` bucket name), read back through /api/v1/sql; and a Flux query,
which must fail with a clear 501; the delete API with a predicate and a time range. Usage: influxdb-v2-check.py http://127.0.0.1:8902
Exits 0 when every step gave what it should, 1 otherwise (printing what differed)."""
import json, sys, urllib.request
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

url = sys.argv[1]
base = 1_700_000_000_000_000_000
failures = []


def expect(what, got, wanted):
    if got != wanted:
        failures.append(f"{what}: got {got!r}, expected {wanted!r}")


def sql(statement, db="public"):
    req = urllib.request.Request(f"{url}/api/v1/sql?db={db}&epoch=ns", data=statement.encode(), method="POST",
                                 headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


with InfluxDBClient(url=url, token="not-checked", org="my-org", timeout=30_000) as client:
    expect("ping", client.ping(), True)
    expect("health", client.health().status, "pass")
    expect("version", bool(client.version()), True)
    buckets = client.buckets_api()
    created = buckets.create_bucket(bucket_name="clientv2", retention_rules=[{"type": "expire", "everySeconds": 0}],
                                    org="my-org")
    expect("created bucket name", created.name, "clientv2")
    expect("found by name", buckets.find_bucket_by_name("clientv2").id, created.id)
    expect("listed", "clientv2" in [b.name for b in buckets.find_buckets().buckets], True)
    expect("public listed", "public" in [b.name for b in buckets.find_buckets().buckets], True)
    try:
        client.query_api().query('from(bucket: "clientv2") |> range(start: -1h)')
        failures.append("a Flux query did not fail")
    except ApiException as error:
        expect("Flux answer", error.status, 501)
        expect("Flux message says why", "Flux is not supported" in str(error.body), True)
    buckets.delete_bucket(created)
    expect("deleted", buckets.find_bucket_by_name("clientv2"), None)

# Plain and gzip-compressed bodies, Point objects and a line-protocol record in milliseconds.
for gzip in (False, True):
    with InfluxDBClient(url=url, token="not-checked", org="my-org", enable_gzip=gzip, timeout=30_000) as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        points = [
            Point("weather").tag("city", f"c{i}").tag("gzip", str(gzip)).field("temp", 20.5 + i).field("ok", i % 2 == 0)
            .field("count", i).time(base + i, WritePrecision.NS)
            for i in range(50)
        ]
        write.write(bucket="public/autogen", org="my-org", record=points)
        write.write(bucket="public", record=f"events,gzip={gzip} msg=\"hello \\\"world\\\"\" 1700000000123",
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

# The delete API: one city's points of the gzip run, by predicate and time range (both ends inclusive).
with InfluxDBClient(url=url, token="not-checked", org="my-org", timeout=30_000) as client:
    client.delete_api().delete("2023-11-14T22:13:20.000000000Z", "2023-11-14T22:13:20.000000003Z",
                               '_measurement="weather" AND gzip="True" AND city!="c0"', bucket="public", org="my-org")
left = sql("SELECT city, gzip FROM weather WHERE gzip = 'True' ORDER BY city")
expect("after the delete API, the gzip run's cities", sorted(r["city"] for r in left),
       sorted(f"c{i}" for i in range(50) if i == 0 or i > 3))

if failures:
    print("\n".join(failures[:20]))
    sys.exit(1)
print(f"influxdb-client (2.x): ping, health, buckets, Flux refused; {len(rows)} weather points and "
      f"{len(events)} events written and read back; the delete API took {len(rows) // 2 - len(left)} points")
