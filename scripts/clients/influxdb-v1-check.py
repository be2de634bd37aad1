#!/usr/bin/env python3
"""Drives the stock InfluxDB 1.x Python client (the `influxdb` package) through its first steps against a
Flotilla node: ping, create a database, list databases, write points, query them back (values, column order and
types checked), the SHOW statements, GROUP BY time with fill, delete_series and DELETE, drop the database.
Usage: influxdb-v1-check.py http://127.0.0.1:8902. Exits 0 when every step gave what InfluxDB gives, 1 otherwise."""
import sys
from urllib.parse import urlparse
from influxdb import InfluxDBClient

url = urlparse(sys.argv[1])
client = InfluxDBClient(host=url.hostname, port=url.port, timeout=30)
failures = []


def expect(what, got, wanted):
    if got != wanted:
        failures.append(f"{what}: got {got!r}, expected {wanted!r}")


version = client.ping()
expect("ping version", bool(version), True)
client.create_database("clientv1")
client.create_database("clientv1")  # InfluxDB's CREATE DATABASE is idempotent
expect("databases", "clientv1" in [d["name"] for d in client.get_list_database()], True)

base = 1_699_999_200  # seconds, a whole hour (intervals start on it)
points = []
for i in range(6):
    points.append({"measurement": "cpu", "tags": {"host": f"h{i % 2}", "region": "eu"},
                   "time": (base + 60 * i) * 1_000_000_000,
                   "fields": {"usage": 10.0 + i, "cores": i, "ok": i % 2 == 0, "note": f"n{i}"}})
expect("write_points", client.write_points(points, database="clientv1", time_precision="n"), True)

result = client.query("SELECT usage, cores, ok, note FROM cpu WHERE host = 'h0'", database="clientv1", epoch="s")
rows = list(result.get_points())
expect("h0 rows", [(r["time"], r["usage"], r["cores"], r["ok"], r["note"]) for r in rows],
       [(base, 10.0, 0, True, "n0"), (base + 120, 12.0, 2, True, "n2"), (base + 240, 14.0, 4, True, "n4")])
raw = client.query("SELECT usage, cores FROM cpu LIMIT 1", database="clientv1").raw
expect("column order", raw["series"][0]["columns"], ["time", "usage", "cores"])
expect("float stays float", type(raw["series"][0]["values"][0][1]), float)
expect("RFC 3339 time", raw["series"][0]["values"][0][0], "2023-11-14T22:00:00Z")

grouped = client.query("SELECT mean(usage), count(cores) FROM cpu GROUP BY host", database="clientv1")
expect("mean by host", {k[1]["host"]: list(v)[0]["mean"] for k, v in grouped.items()}, {"h0": 12.0, "h1": 13.0})

window = client.query(
    f"SELECT max(usage) FROM cpu WHERE time >= {base}s AND time < {base + 480}s GROUP BY time(2m) fill(none)",
    database="clientv1", epoch="s")
expect("GROUP BY time(2m)", [(p["time"], p["max"]) for p in window.get_points()],
       [(base, 11.0), (base + 120, 13.0), (base + 240, 15.0)])
filled = client.query(
    f"SELECT mean(usage) FROM cpu WHERE host = 'h0' AND time >= {base}s AND time < {base + 300}s "
    "GROUP BY time(1m) fill(previous)", database="clientv1", epoch="s")
expect("fill(previous)", [p["mean"] for p in filled.get_points()], [10.0, 10.0, 12.0, 12.0, 14.0])

client.switch_database("clientv1")
expect("measurements", client.get_list_measurements(), [{"name": "cpu"}])
tag_keys = client.query("SHOW TAG KEYS FROM cpu", database="clientv1")
expect("tag keys", [p["tagKey"] for p in tag_keys.get_points()], ["host", "region"])
tag_values = client.query('SHOW TAG VALUES FROM cpu WITH KEY = "host"', database="clientv1")
expect("tag values", [p["value"] for p in tag_values.get_points()], ["h0", "h1"])
fields = client.query("SHOW FIELD KEYS FROM cpu", database="clientv1")
expect("field keys", {p["fieldKey"]: p["fieldType"] for p in fields.get_points()},
       {"usage": "float", "cores": "integer", "ok": "boolean", "note": "string"})
series = client.get_list_series(database="clientv1")
expect("series", series, ["cpu,host=h0,region=eu", "cpu,host=h1,region=eu"])
policies = client.get_list_retention_policies(database="clientv1")
expect("retention policies", [(p["name"], p["default"]) for p in policies], [("autogen", True)])

try:
    client.query("SELEC nothing", database="clientv1")
    failures.append("a malformed query did not raise")
except Exception as error:  # the client raises InfluxDBClientError with the server's message
    expect("parse error names the problem", "error parsing query" in str(error), True)

client.delete_series(database="clientv1", measurement="cpu", tags={"host": "h1"})
left = client.query("SELECT count(usage) FROM cpu GROUP BY host", database="clientv1")
expect("delete_series took h1", {k[1]["host"]: list(v)[0]["count"] for k, v in left.items()}, {"h0": 3})
client.query(f"DELETE FROM cpu WHERE time < {base + 100}s", database="clientv1", method="POST")
expect("DELETE took h0's first point", [p["count"] for p in client.query(
    "SELECT count(usage) FROM cpu", database="clientv1").get_points()], [2])

client.drop_database("clientv1")
expect("dropped", "clientv1" in [d["name"] for d in client.get_list_database()], False)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"influxdb (1.x client) {version}: every step answered as InfluxDB does")
