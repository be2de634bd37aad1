#!/usr/bin/env python3
"""Replays, as HTTP requests, the SQL that CnosDB's Grafana data source plugin sends (its query model's output:
DATE_BIN with an origin aliased as time, an aggregate with an alias, tag conditions, the time filter in
nanoseconds, GROUP BY the bin and a tag, ORDER BY time, LIMIT 1000; and its health check), against a Flotilla
node, and reads the answers as the plugin does: a JSON array of objects whose `time` is a string in one of the
four layouts it parses (`2006-01-02T15:04:05` with 0, 3, 6 or 9 fraction digits, no zone) and whose values are
JSON numbers, strings or booleans. Usage: cnosdb-grafana-replay.py http://127.0.0.1:8902. Exits 0 when all hold."""
import datetime, json, sys, urllib.request

url = sys.argv[1]
failures = []
DB = "cnosgrafana"
base_ns = 1_699_999_200_000_000_000  # a whole hour


def sql(statement):
    request = urllib.request.Request(f"{url}/api/v1/sql?db={DB}", data=statement.encode(), method="POST",
                                     headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        return json.loads(body) if body else []


def plugin_time(text):
    """The plugin's ParseTimeString: the layout chosen by the string's length, none with a zone."""
    layouts = {19: "%Y-%m-%dT%H:%M:%S", 23: "%Y-%m-%dT%H:%M:%S.%f", 26: "%Y-%m-%dT%H:%M:%S.%f"}
    if len(text) == 29:  # nine digits: Python's %f takes six, so the last three must be read apart
        moment = datetime.datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
        return int(moment.timestamp()) * 1_000_000_000 + int(text[20:29])
    moment = datetime.datetime.strptime(text, layouts[len(text)]).replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp() * 1_000_000_000)


def expect(what, got, wanted):
    if got != wanted:
        failures.append(f"{what}: got {got!r}, expected {wanted!r}")


with urllib.request.urlopen(f"{url}/api/v1/ping", timeout=30) as response:
    expect("health check status", response.status // 100, 2)
sql(f"CREATE DATABASE {DB}")
lines = [f"ma,ta=t{i % 2} fa={float(i)} {base_ns + i * 60_000_000_000}" for i in range(20)]
request = urllib.request.Request(f"{url}/api/v1/write?db={DB}", data="\n".join(lines).encode(), method="POST")
urllib.request.urlopen(request, timeout=30)

start, end = base_ns, base_ns + 20 * 60_000_000_000
bin_sql = "DATE_BIN(INTERVAL '10 minutes', time, TIMESTAMP '1970-01-01T00:00:00Z')"
rows = sql(f'SELECT {bin_sql} AS time, avg("fa") AS "value" FROM ma WHERE time >= {start} AND time <= {end} '
           f"GROUP BY {bin_sql} ORDER BY time ASC LIMIT 1000")
expect("binned rows", [(plugin_time(r["time"]), r["value"]) for r in rows],
       [(base_ns, 4.5), (base_ns + 600_000_000_000, 14.5)])
expect("column order", [list(r.keys()) for r in rows[:1]], [["time", "value"]])

rows = sql(f'SELECT {bin_sql} AS time, max("fa") FROM ma WHERE "ta" = \'t1\' AND time >= {start} AND time <= {end} '
           f'GROUP BY {bin_sql}, "ta" ORDER BY time ASC LIMIT 1000')
expect("tag filter and GROUP BY tag", [(plugin_time(r["time"]), r["max(fa)"]) for r in rows],
       [(base_ns, 9.0), (base_ns + 600_000_000_000, 19.0)])

rows = sql(f'SELECT time, "fa" FROM ma WHERE time >= {start} AND time <= {end} ORDER BY time ASC LIMIT 3')
expect("raw rows", [(plugin_time(r["time"]), r["fa"]) for r in rows],
       [(base_ns, 0.0), (base_ns + 60_000_000_000, 1.0), (base_ns + 120_000_000_000, 2.0)])
expect("floats are JSON floats", all(isinstance(r["fa"], float) for r in rows), True)

sql(f"DROP DATABASE {DB}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("CnosDB's Grafana plugin SQL: health check, DATE_BIN panels, tag filters, raw rows: parsed as the plugin does")
