#!/usr/bin/env python3
"""Drives Debian's `influx` CLI (InfluxDB 1.x's shell, package influxdb-client) through its first steps against a
Flotilla node with -execute: create a database, INSERT points, SELECT them back as CSV and JSON (values and column
order checked), an aggregate by tag, the SHOW statements, and a malformed query (a non-zero exit naming the
problem). Usage: influx-cli-check.py http://127.0.0.1:8902. Exits 0 when every step gave what it should."""
import json, subprocess, sys
from urllib.parse import urlparse

url = urlparse(sys.argv[1])
failures = []


def influx(*args, database=None):
    command = ["influx", "-host", url.hostname, "-port", str(url.port)]
    if database:
        command += ["-database", database]
    done = subprocess.run(command + list(args), capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


def expect(what, got, wanted):
    if got != wanted:
        failures.append(f"{what}: got {got!r}, expected {wanted!r}")


code, out = influx("-execute", "CREATE DATABASE clicheck")
expect("CREATE DATABASE exit", (code, out.strip()), (0, ""))
for host, value, t in [("a", 1.5, 1700000000), ("b", 2.5, 1700000060), ("a", 3.5, 1700000120)]:
    code, out = influx("-execute", f"INSERT cpu,host={host} value={value},n={int(value)}i {t}000000000",
                       database="clicheck")
    expect(f"INSERT {host} {value}", (code, out.strip()), (0, ""))

code, out = influx("-format", "csv", "-execute", "SELECT value, n, host FROM cpu", database="clicheck")
expect("SELECT as CSV", (code, out.strip().splitlines()), (0, [
    "name,time,value,n,host", "cpu,1700000000000000000,1.5,1,a", "cpu,1700000060000000000,2.5,2,b",
    "cpu,1700000120000000000,3.5,3,a"]))

code, out = influx("-format", "json", "-precision", "rfc3339", "-execute",
                   "SELECT mean(value) FROM cpu WHERE time >= 1700000000s GROUP BY host", database="clicheck")
if code != 0:
    failures.append(f"mean by host: exit {code}: {out}")
else:
    answer = json.loads(out)
    series = answer["results"][0]["series"]
    expect("mean by host", [(s["tags"]["host"], s["columns"], s["values"][0][1]) for s in series],
           [("a", ["time", "mean"], 2.5), ("b", ["time", "mean"], 2.5)])
    expect("time of an aggregate is the range start", series[0]["values"][0][0], "2023-11-14T22:13:20Z")

code, out = influx("-format", "json", "-execute", "SHOW DATABASES")
expect("SHOW DATABASES lists it", code == 0 and ["clicheck"] in json.loads(out)["results"][0]["series"][0]["values"],
       True)
code, out = influx("-format", "csv", "-execute", "SHOW MEASUREMENTS; SHOW TAG KEYS; SHOW FIELD KEYS",
                   database="clicheck")
expect("SHOW statements exit", code, 0)
lines = out.strip().splitlines()
for wanted in ["measurements,cpu", "cpu,host", "cpu,n,integer", "cpu,value,float"]:
    expect(f"SHOW output has {wanted}", wanted in lines, True)

code, out = influx("-execute", "SELEC value FROM cpu", database="clicheck")
expect("a malformed query fails", code != 0 and "error parsing query" in out, True)

code, out = influx("-execute", "DROP DATABASE clicheck")
expect("DROP DATABASE", code, 0)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("influx CLI: create, insert, select (CSV and JSON), aggregate by tag, SHOW, parse error, drop: as InfluxDB")
