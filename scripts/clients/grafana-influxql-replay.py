#!/usr/bin/env python3
"""Replays, as HTTP requests, the InfluxQL that Grafana's InfluxDB data source sends (its query builder's output:
the default panel query with `$timeFilter` and `$__interval` expanded, tag filters, GROUP BY a tag, the math and
alias parts, raw mode, and the metadata queries behind its editor and template variables), against a Flotilla
node, in both of Grafana's HTTP modes (GET with parameters, POST with a form body) and with `epoch=ms` as Grafana
asks. Checks each answer's shape as Grafana's response parser reads it (series with name, tags, columns, values;
times as integers) and the values. Usage: grafana-influxql-replay.py http://127.0.0.1:8902. Exits 0 when all hold."""
import gzip, json, sys, urllib.parse, urllib.request

url = sys.argv[1]
failures = []
DB = "grafana"
base_ms = 1_699_999_200_000  # a whole hour, in milliseconds


def query(q, method="GET"):
    params = {"db": DB, "q": q, "epoch": "ms"}
    if method == "GET":
        request = urllib.request.Request(f"{url}/query?{urllib.parse.urlencode(params)}")
    else:
        request = urllib.request.Request(f"{url}/query", data=urllib.parse.urlencode(params).encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def expect(what, got, wanted):
    if got != wanted:
        failures.append(f"{what}: got {got!r}, expected {wanted!r}")


def series_of(answer, statement=0):
    result = answer["results"][statement]
    if "error" in result:
        failures.append(f"statement {statement} failed: {result['error']}")
        return []
    for series in result.get("series", []):
        for key in ("columns", "values"):
            if key not in series:
                failures.append(f"a series lacks {key}: {series}")
    return result.get("series", [])


urllib.request.urlopen(urllib.request.Request(f"{url}/query?q=CREATE+DATABASE+{DB}", method="POST"), timeout=30)
lines = []
for minute in range(10):
    for host, dc in (("web1", "eu"), ("web2", "us")):
        value = minute * 10 + (1 if host == "web1" else 2)
        lines.append(f"cpu,host={host},dc={dc} value={value},idle={100 - value}i {(base_ms + minute * 60_000) * 1_000_000}")
urllib.request.urlopen(urllib.request.Request(f"{url}/write?db={DB}", data="\n".join(lines).encode(), method="POST"),
                       timeout=30)
time_filter = f"time >= {base_ms}ms and time <= {base_ms + 10 * 60_000 - 1}ms"

for method in ("GET", "POST"):
    # The data source's health check, then the editor's metadata queries.
    expect(f"{method} health check", series_of(query("SHOW MEASUREMENTS LIMIT 1", method))[0]["values"], [["cpu"]])
    expect(f"{method} measurements", series_of(query("SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)CP/ LIMIT 100",
                                                     method))[0]["values"], [["cpu"]])
    expect(f"{method} retention policies", series_of(query(f'SHOW RETENTION POLICIES on "{DB}"', method))[0]["values"][0][0],
           "autogen")
    expect(f"{method} field keys", series_of(query('SHOW FIELD KEYS FROM "cpu"', method))[0]["values"],
           [["idle", "integer"], ["value", "float"]])
    expect(f"{method} tag keys", series_of(query('SHOW TAG KEYS FROM "cpu"', method))[0]["values"], [["dc"], ["host"]])
    expect(f"{method} tag values", series_of(query('SHOW TAG VALUES FROM "cpu" WITH KEY = "host" WHERE "dc" = \'us\'',
                                                   method))[0]["values"], [["host", "web2"]])

    # The default panel query, $__interval = 2m.
    panel = series_of(query(f'SELECT mean("value") FROM "autogen"."cpu" WHERE {time_filter} GROUP BY time(2m) fill(null)',
                            method))
    expect(f"{method} panel columns", panel[0]["columns"], ["time", "mean"])
    expect(f"{method} panel values", panel[0]["values"],
           [[base_ms + k * 120_000, 10.0 * (2 * k) + 1.5 + 5.0] for k in range(5)])

    # Tag filter (regex, as a multi-value variable expands), GROUP BY a tag, math and alias.
    grouped = series_of(query(
        f'SELECT max("value") * 2 AS "double" FROM "cpu" WHERE ("host" =~ /^(web1|web2)$/) AND {time_filter} '
        f'GROUP BY time(5m), "host" fill(none)', method))
    expect(f"{method} grouped tags", [s["tags"] for s in grouped], [{"host": "web1"}, {"host": "web2"}])
    expect(f"{method} grouped values", [s["values"] for s in grouped],
           [[[base_ms, 82.0], [base_ms + 300_000, 182.0]], [[base_ms, 84.0], [base_ms + 300_000, 184.0]]])

    # Raw mode with a field condition, newest first.
    raw = series_of(query(f'SELECT "value", "host"::tag FROM "cpu" WHERE "value" > 85 AND {time_filter} '
                          'ORDER BY time DESC LIMIT 2', method))
    expect(f"{method} raw", sorted(raw[0]["values"], key=lambda row: row[2]) if raw else raw,
           [[base_ms + 540_000, 91.0, "web1"], [base_ms + 540_000, 92.0, "web2"]])

    # Two queries of a panel in one request.
    both = query(f'SELECT count("value") FROM "cpu" WHERE {time_filter}; SELECT last("idle") FROM "cpu" WHERE '
                 f'"host" = \'web1\' AND {time_filter}', method)
    expect(f"{method} two statements", [series_of(both, 0)[0]["values"][0][1], series_of(both, 1)[0]["values"][0][1]],
           [20, 9])

# count() is 0 in an interval without points; a tag a series lacks reads as "" (InfluxDB's rules).
counted = series_of(query(f'SELECT count("value") FROM "cpu" WHERE "host" = \'web1\' AND time >= {base_ms}ms '
                          f'AND time < {base_ms + 20 * 60_000}ms GROUP BY time(5m)'))
expect("count in empty intervals", [row[1] for row in counted[0]["values"]], [5, 5, 0, 0])
urllib.request.urlopen(urllib.request.Request(
    f"{url}/write?db={DB}", data=f"mem,host=a v=1 {base_ms * 1_000_000}\nmem v=2 {base_ms * 1_000_000}".encode(),
    method="POST"), timeout=30)
expect("a missing tag is not 'a'", [row[1] for row in series_of(query('SELECT v FROM mem WHERE host != \'a\''))[0]["values"]],
       [2.0])
expect("a missing tag is ''", [row[1] for row in series_of(query('SELECT v FROM mem WHERE host = \'\''))[0]["values"]],
       [2.0])

# Grafana's HTTP client asks for gzip: the answer comes compressed and inflates to the same JSON.
params = urllib.parse.urlencode({"db": DB, "q": f'SELECT "value" FROM "cpu" WHERE {time_filter}', "epoch": "ms"})
with urllib.request.urlopen(urllib.request.Request(f"{url}/query?{params}", headers={"Accept-Encoding": "gzip"}),
                            timeout=30) as response:
    expect("gzip answer", response.headers.get("Content-Encoding"), "gzip")
    inflated = json.loads(gzip.decompress(response.read()))
    expect("gzip answer rows", len(inflated["results"][0]["series"][0]["values"]), 20)

urllib.request.urlopen(urllib.request.Request(f"{url}/query?q=DROP+DATABASE+{DB}", method="POST"), timeout=30)
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("Grafana's InfluxQL (GET and POST): metadata, panel, tag filter, math, raw and multi-statement queries answered")
