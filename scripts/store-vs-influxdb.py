#!/usr/bin/env python3
"""The storage engine side by side with InfluxDB 1.x (Debian's `influxdb`, installed as it runs), one run:
one Flotilla node (release build, fsync on, `SHARD 4 REPLICA 1`) beside one InfluxDB, loaded with the same data
from one generator (series `cpu,host=h<k>`, 3 float fields, 1,000-point requests, 8 clients), then:

  load rate       points/s while loading (flushes and compactions run meanwhile)
  memory curve    resident memory of each server at every fifth of the load
  disk            bytes per point once both are idle (after their compactions)
  whole scan      SELECT * of everything (Flotilla streams it; InfluxDB with chunked=true): time, rows' bytes, and
                  the peak resident memory of each server while it answers
  restart         Flotilla: kill -9, start, time until the first query answers
  queries         median of 5 (--repeat) of the four queries (SQL on Flotilla, the same in InfluxQL on InfluxDB),
                  taken in turns after two untimed runs of each:
                  one series' last hour averaged per minute; count of everything; max per host over one day;
                  one raw series over one day

Usage: scripts/store-vs-influxdb.py [--points 2000000] [--series 100000] [--binary .build/release/flotilla]
"""
import argparse, http.client, os, shutil, signal, statistics, subprocess, sys, tempfile, threading, time, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module

bench = import_module("cluster-bench")

STEP_NS = 10 * 1_000_000_000  # a series' points are 10 s apart


def ensure_influxdb():
    if shutil.which("influxd"):
        return
    print("installing Debian's influxdb ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "influxdb"], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def bodies(points, series, start_ns):
    """Request bodies of 1,000 points: every series once per round, rounds 10 s apart (the same for both)."""
    per = 1000
    for first in range(0, points, per):
        lines = []
        for n in range(first, min(points, first + per)):
            k, round_ = n % series, n // series
            v = (n * 2654435761) % 1000
            lines.append(f"cpu,host=h{k} usage_user={v / 10},usage_system={v % 97 / 4},usage_idle={100 - v / 10} "
                         f"{start_ns + round_ * STEP_NS}")
        yield "\n".join(lines).encode()


class Server:
    def __init__(self, name, port, write_path, proc):
        self.name, self.port, self.write_path, self.proc = name, port, write_path, proc

    def request(self, method, path, body=None, timeout=600):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request(method, path, body=body)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data


def load(server, points, series, start_ns, samples):
    """8 clients, keep-alive; resident memory sampled at every fifth of the points."""
    gen = bodies(points, series, start_ns)
    lock = threading.Lock()
    done = [0]
    marks = [points * k // 5 for k in range(1, 6)]
    errors = []

    def client():
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        while True:
            with lock:
                body = next(gen, None)
            if body is None:
                return
            for _ in range(20):
                try:
                    c.request("POST", server.write_path, body=body)
                    r = c.getresponse()
                    r.read()
                    if r.status in (200, 204):
                        break
                    errors.append(r.status)
                except Exception as e:
                    errors.append(str(e))
                    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                time.sleep(0.2)
            with lock:
                done[0] += body.count(b"\n") + 1
                while marks and done[0] >= marks[0]:
                    samples.append((marks.pop(0), rss_mib(server.proc.pid)))

    started = time.time()
    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    elapsed = time.time() - started
    if errors:
        print(f"  {server.name}: {len(errors)} retried requests (first: {errors[0]})")
    return points / elapsed


def timed_ms(run):
    t = time.perf_counter()
    status, body = run()
    elapsed = (time.perf_counter() - t) * 1000
    if status != 200:
        raise SystemExit(f"query failed: {status} {body[:300]}")
    return elapsed


def medians_ms(first, second, times=5, warmup=2):
    """Medians of `times` runs of two queries, taken in turns (so that both meet the machine in the same state),
    after `warmup` untimed runs of each."""
    for _ in range(warmup):
        timed_ms(first)
        timed_ms(second)
    a, b = [], []
    for _ in range(times):
        a.append(timed_ms(first))
        b.append(timed_ms(second))
    return statistics.median(a), statistics.median(b)


def whole_scan(server, method, path, body=None):
    """Reads an answer to the end in 1 MiB pieces, sampling the server's resident memory every 20 ms meanwhile:
    (seconds, bytes, peak MiB)."""
    peak, stop = [rss_mib(server.proc.pid)], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mib(server.proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=3600)
    c.request(method, path, body=body)
    r = c.getresponse()
    size = 0
    while True:
        piece = r.read(1 << 20)
        if not piece:
            break
        size += len(piece)
    elapsed = time.perf_counter() - started
    c.close()
    stop.set()
    sampler.join()
    if r.status != 200:
        raise SystemExit(f"{server.name}: the whole scan answered {r.status}")
    return elapsed, size, peak[0]


def wait_idle(path, seconds=10, limit=300):
    """Until the directory's size has not changed for `seconds` (compactions done)."""
    last, since, deadline = -1, time.time(), time.time() + limit
    while time.time() < deadline:
        size = bench.du(path)
        if size != last:
            last, since = size, time.time()
        elif time.time() - since >= seconds:
            return size
        time.sleep(1)
    return last


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--points", type=int, default=2_000_000)
    p.add_argument("--series", type=int, default=100_000)
    p.add_argument("--binary", default=os.path.join(ROOT, ".build/release/flotilla"))
    p.add_argument("--repeat", type=int, default=5, help="timed runs of each query (after 2 untimed ones)")
    a = p.parse_args()
    ensure_influxdb()
    root = tempfile.mkdtemp(prefix="flotilla-vs-influx-")
    start_ns = (int(time.time()) - 86_400) // 60 * 60 * 1_000_000_000
    rounds = (a.points + a.series - 1) // a.series
    end_ns = start_ns + rounds * STEP_NS

    # InfluxDB 1.x, its own data directory and ports.
    iport, irpc = bench.free_ports(2)
    conf = f"{root}/influxdb.conf"
    with open(conf, "w") as f:
        f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{irpc}"
[meta]
  dir = "{root}/influx/meta"
[data]
  dir = "{root}/influx/data"
  wal-dir = "{root}/influx/wal"
  query-log-enabled = false
  max-series-per-database = 0
  max-values-per-tag = 0
[http]
  bind-address = "127.0.0.1:{iport}"
  log-enabled = false
""")
    iproc = subprocess.Popen(["influxd", "-config", conf], stdout=open(f"{root}/influxd.log", "wb"),
                             stderr=subprocess.STDOUT)
    influx = Server("InfluxDB", iport, "/write?db=bench", iproc)
    cluster = bench.Cluster(a.binary, nodes=1)
    fport = cluster.http[1]
    flot = Server("Flotilla", fport, "/api/v1/write?db=bench", cluster.procs[1])
    try:
        for _ in range(300):
            s1, _ = bench.http("GET", f"http://127.0.0.1:{iport}/ping")
            s2, _ = bench.http("POST", f"http://127.0.0.1:{fport}/api/v1/sql",
                               "CREATE DATABASE IF NOT EXISTS bench WITH SHARD 4 REPLICA 1")
            if s1 == 204 and s2 == 200:
                break
            time.sleep(0.2)
        influx.request("POST", "/query?q=" + urllib.parse.quote("CREATE DATABASE bench"))
        results = {}
        for server in (influx, flot):
            samples = []
            rate = load(server, a.points, a.series, start_ns, samples)
            results[server.name] = {"rate": rate, "rss": samples}
            print(f"{server.name}: loaded {a.points:,} points at {rate:,.0f} points/s", flush=True)
        time.sleep(40)  # a quiet vnode flushes its memtable within 30 s; InfluxDB compacts meanwhile
        results["InfluxDB"]["disk"] = wait_idle(f"{root}/influx")
        results["Flotilla"]["disk"] = wait_idle(cluster.root)
        for server in (influx, flot):
            results[server.name]["idle_rss"] = rss_mib(server.proc.pid)

        host = "h7"
        hour = max(start_ns, end_ns - 3_600 * 1_000_000_000)
        day = end_ns - 86_400 * 1_000_000_000
        sql = {
            "one series, last hour, mean per minute":
                f"SELECT date_bin(INTERVAL '1 minute', time) AS t, avg(usage_user) FROM cpu WHERE host = '{host}' "
                f"AND time >= {hour} GROUP BY date_bin(INTERVAL '1 minute', time)",
            "count of everything": "SELECT count(usage_user) FROM cpu",
            "max per host over one day":
                f"SELECT host, max(usage_user) FROM cpu WHERE time >= {day} GROUP BY host",
            "one raw series over one day": f"SELECT * FROM cpu WHERE host = '{host}' AND time >= {day}",
        }
        influxql = {
            "one series, last hour, mean per minute":
                f"SELECT mean(usage_user) FROM cpu WHERE host = '{host}' AND time >= {hour} GROUP BY time(1m)",
            "count of everything": "SELECT count(usage_user) FROM cpu",
            "max per host over one day": f"SELECT max(usage_user) FROM cpu WHERE time >= {day} GROUP BY host",
            "one raw series over one day": f"SELECT * FROM cpu WHERE host = '{host}' AND time >= {day}",
        }
        queries = []
        for name in sql:
            f_ms, i_ms = medians_ms(
                lambda: flot.request("POST", "/api/v1/sql?db=bench", sql[name].encode()),
                lambda: influx.request("GET", "/query?db=bench&epoch=ns&q=" + urllib.parse.quote(influxql[name])),
                times=a.repeat)
            queries.append((name, f_ms, i_ms))

        scans = {
            "Flotilla": whole_scan(flot, "POST", "/api/v1/sql?db=bench", b"SELECT * FROM cpu"),
            "InfluxDB": whole_scan(
                influx, "GET", "/query?db=bench&epoch=ns&chunked=true&q=" + urllib.parse.quote("SELECT * FROM cpu")),
        }

        # Restart: kill -9, start, time until the count answers again.
        cluster.kill9(1)
        restart, _ = cluster.start_until_answered(1, "SELECT count(usage_user) FROM cpu", "bench")
    finally:
        cluster.stop()
        iproc.send_signal(signal.SIGTERM)
        iproc.wait()

    f, i = results["Flotilla"], results["InfluxDB"]
    print(f"\n{a.points:,} points, {a.series:,} series, 3 float fields, 1,000-point requests, 8 clients")
    print(f"| figure | Flotilla | InfluxDB | ratio |\n|---|---|---|---|")
    print(f"| load rate (points/s) | {f['rate']:,.0f} | {i['rate']:,.0f} | {f['rate'] / i['rate']:.2f}x |")
    fb, ib = f["disk"] / a.points, i["disk"] / a.points
    print(f"| disk bytes per point, idle | {fb:.2f} | {ib:.2f} | {fb / ib:.2f}x |")
    print(f"| resident MiB, idle | {f['idle_rss']:.0f} | {i['idle_rss']:.0f} | {f['idle_rss'] / i['idle_rss']:.2f}x |")
    for name, f_ms, i_ms in queries:
        print(f"| {name} (ms, median of {a.repeat}) | {f_ms:.2f} | {i_ms:.2f} | {f_ms / i_ms:.2f}x |")
    for name, label in (("Flotilla", "CSV"), ("InfluxDB", "chunked JSON")):
        seconds, size, peak = scans[name]
        print(f"| SELECT * of everything, {name} ({label}): {seconds:.1f} s, {size / 2**20:,.0f} MiB, "
              f"peak resident {peak:.0f} MiB (idle {results[name]['idle_rss']:.0f}) | | | |")
    print(f"| restart after kill -9 until a query answers (s) | {restart:.2f} | | |")
    print("\nresident MiB while loading (points loaded: Flotilla, InfluxDB)")
    for (n, fr), (_, ir) in zip(f["rss"], i["rss"]):
        print(f"  {n:>12,}: {fr:7.0f} {ir:7.0f}")
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(cluster.root, ignore_errors=True)


if __name__ == "__main__":
    main()
