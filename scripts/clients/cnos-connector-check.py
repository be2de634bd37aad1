#!/usr/bin/env python3
"""Drives CnosDB's own Python client (`cnos-connector`, module cnosdb_connector) through its first steps against a
Flotilla node: create and list databases, write line protocol, a PEP 249 cursor (`description` in the SELECT's
column order, floats as floats, times in CnosDB's format), `write_dataframe` (one `INSERT INTO … VALUES` per row,
every value quoted, as the client sends them) read back, DESCRIBE TABLE's four columns, and a bad statement.
Usage: cnos-connector-check.py http://127.0.0.1:8902. Exits 0 when every step gave what it should."""
import sys
import pandas
import cnosdb_connector

url = sys.argv[1].rstrip("/") + "/"
failures = []


def expect(what, got, wanted):
    if got != wanted:
        failures.append(f"{what}: got {got!r}, expected {wanted!r}")


conn = cnosdb_connector.connect(url=url, user="root", password="")
conn.create_database("cnosclient")
expect("list_database", "cnosclient" in [row["database_name"] for row in conn.list_database()], True)
conn.switch_database("cnosclient")
conn.write_lines([
    "air,station=XiaoMaiDao visibility=50.5,temperature=63i,ok=true 1700000000000000000",
    "air,station=LianYunGang visibility=42.0,temperature=61i,ok=false 1700000060000000000",
])
expect("list_table", conn.list_table(), [{"table_name": "air"}])

cursor = conn.cursor()
cursor.execute("SELECT visibility, station, time, temperature FROM air ORDER BY time")
expect("description", cursor.description,
       [["visibility", "float"], ["station", "str"], ["time", "str"], ["temperature", "int"]])
expect("rows", cursor.fetchall(), [
    [50.5, "XiaoMaiDao", "2023-11-14T22:13:20.000000000", 63],
    [42.0, "LianYunGang", "2023-11-14T22:14:20.000000000", 61]])

frame = pandas.DataFrame({
    "time": ["2023-11-14 22:20:00", "2023-11-14 22:21:00"],
    "station": ["DaLian", "DaLian"],
    "visibility": [10.25, 11.0],
    "temperature": [55, 56],
})
conn.write_dataframe(frame, "air", ["time", "station", "visibility", "temperature"])
cursor.execute("SELECT time, visibility, temperature FROM air WHERE station = 'DaLian' ORDER BY time")
expect("write_dataframe read back", cursor.fetchall(), [
    ["2023-11-14T22:20:00.000000000", 10.25, 55], ["2023-11-14T22:21:00.000000000", 11.0, 56]])

cursor.execute("SELECT station, avg(visibility) AS v FROM air GROUP BY station ORDER BY station")
expect("aggregate columns", [d[0] for d in cursor.description], ["station", "v"])

described = conn.execute("DESCRIBE TABLE air")
expect("DESCRIBE TABLE columns", list(described[0].keys()),
       ["column_name", "data_type", "column_type", "compression_codec"])
expect("DESCRIBE TABLE rows", [(r["column_name"], r["data_type"], r["column_type"]) for r in described], [
    ("time", "TIMESTAMP(NANOSECOND)", "TIME"), ("station", "STRING", "TAG"), ("ok", "BOOLEAN", "FIELD"),
    ("temperature", "BIGINT", "FIELD"), ("visibility", "DOUBLE", "FIELD")])

# The client logs an HTTP error and answers {} (its own way of reporting a failed statement).
expect("a bad statement", conn.execute("SELEC 1"), {})
conn.drop_database("cnosclient")
expect("dropped", "cnosclient" in [row["database_name"] for row in conn.list_database()], False)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("cnos-connector: databases, line protocol, PEP 249 cursor, write_dataframe, DESCRIBE: as CnosDB answers")
