#!/usr/bin/env python3
"""Cluster measurements on real `flotilla server` processes (release build, loopback, fsync on).

  failover  kill -9 the leader of a group under a write load, time until the next write succeeds; restart it.
  idle      N groups on 3 nodes: once every group has a leader and went quiet, CPU per node over a window,
            and resident memory per group (against a cluster with only the meta group, measured in the same run).

  move      4 nodes, a `SHARD 1 REPLICA 3` database under a write load (16 clients, 1,000-point requests,
            100 k series, 3 float fields); after `--fill` seconds, `MOVE VNODE` of the leader's vnode to the
            fourth node while the load goes on: time until it answers, write rate before and during, bytes the
            target received, failed requests.

Set FLOTILLA_BENCH_KEEP=1 to keep the nodes' directories and logs.

Usage: scripts/cluster-bench.py failover [--trials 20]
       scripts/cluster-bench.py idle [--groups 1000 10000]
       scripts/cluster-bench.py move [--fill 110]
"""
import argparse, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s); ports.append(s.getsockname()[1])
    for s in socks: s.close()
    return ports


def http(method, url, body=None, timeout=3.0):
    req = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except Exception as e:
        return None, str(e)


class Cluster:
    def __init__(self, binary, nodes=3, args=()):
        self.binary, self.args = binary, list(args)
        self.root = tempfile.mkdtemp(prefix="flotilla-bench-")
        ports = free_ports(2 * nodes)
        self.http = {i: ports[2 * (i - 1)] for i in range(1, nodes + 1)}
        self.raft = {i: ports[2 * (i - 1) + 1] for i in range(1, nodes + 1)}
        self.initial = ",".join(f"{i}=127.0.0.1:{self.raft[i]}" for i in self.http)
        self.procs = {}
        for i in self.http: self.start(i)

    def start(self, i):
        d = f"{self.root}/node{i}"; os.makedirs(d, exist_ok=True)
        log = open(f"{d}/flotilla.log", "ab")
        self.procs[i] = subprocess.Popen(
            [self.binary, "server", "--node-id", str(i), "--data-dir", d, "--http-addr", f"127.0.0.1:{self.http[i]}",
             "--raft-addr", f"127.0.0.1:{self.raft[i]}", "--initial-cluster", self.initial] + self.args,
            stdout=log, stderr=log)

    def kill9(self, i):
        self.procs[i].send_signal(signal.SIGKILL); self.procs[i].wait()

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None: p.send_signal(signal.SIGTERM)
        for p in self.procs.values(): p.wait()
        if os.environ.get("FLOTILLA_BENCH_KEEP"):
            print(f"kept {self.root} (FLOTILLA_BENCH_KEEP)")
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, i, path): return f"http://127.0.0.1:{self.http[i]}{path}"

    def start_until_answered(self, i, statement, db):
        """Starts node i and times it until `statement` answers 200 there; returns (seconds, answer body)."""
        t = time.time()
        self.start(i)
        while True:
            s, body = http("POST", self.url(i, f"/api/v1/sql?db={db}"), statement, timeout=30)
            if s == 200:
                return time.time() - t, body
            time.sleep(0.02)

    def groups(self, i):
        status, body = http("GET", self.url(i, "/api/v1/cluster"), timeout=10)
        return json.loads(body)["groups"] if status == 200 else None

    def wait(self, condition, seconds, what):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if condition(): return
            time.sleep(0.1)
        raise SystemExit(f"timed out after {seconds} s: {what} (logs in {self.root})")

    def all_led(self, count, quiet=False):
        for i, p in self.procs.items():
            if p.poll() is not None: continue
            g = self.groups(i)
            if g is None or len(g) != count or any(x["leader"] is None for x in g): return False
            if quiet and not all(x["quiet"] for x in g): return False
        return True

    def cpu(self, i):
        with open(f"/proc/{self.procs[i].pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self, i):
        with open(f"/proc/{self.procs[i].pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"): return int(line.split()[1])


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def failover(binary, trials):
    c = Cluster(binary, args=["--kv-groups", "1"])
    try:
        c.wait(lambda: c.all_led(2), 30, "leaders")
        stop = threading.Event(); acked = []

        def load(node):  # a steady write load through one node
            n = 0
            while not stop.is_set():
                if c.procs[node].poll() is None:
                    s, _ = http("PUT", c.url(node, f"/api/v1/kv/load{node}-{n}"), "x", timeout=6)
                    if s == 200: acked.append(f"load{node}-{n}")
                n += 1
        threads = [threading.Thread(target=load, args=(i,), daemon=True) for i in c.http]
        for t in threads: t.start()
        times = []
        for trial in range(trials):
            leader = next(x["leader"] for x in c.groups(next(i for i in c.http if c.procs[i].poll() is None)) if x["kind"] == "kv")
            others = [i for i in c.http if i != leader]
            c.kill9(leader)
            t0 = time.time(); k = 0
            while True:
                s, _ = http("PUT", c.url(others[k % 2], f"/api/v1/kv/probe{trial}"), "1", timeout=3)
                if s == 200: break
                k += 1
            times.append(time.time() - t0)
            print(f"trial {trial + 1}: leader {leader} killed, next write after {times[-1] * 1000:.0f} ms", flush=True)
            c.start(leader)
            c.wait(lambda: c.all_led(2), 30, "restarted node sees leaders")
        stop.set()
        for t in threads: t.join()
        # Every acknowledged write of the load reads back.
        missing = [k for k in acked[::max(1, len(acked) // 200)] if http("GET", c.url(1, f"/api/v1/kv/{k}"))[0] != 200]
        print(f"failover over {trials} trials: p50 {percentile(times, 50) * 1000:.0f} ms, "
              f"p99 {percentile(times, 99) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; "
              f"{len(acked)} acknowledged load writes, {len(missing)} of a sample missing")
    finally:
        c.stop()


def idle(binary, group_counts, window):
    baseline = None
    for groups in [0] + list(group_counts):
        c = Cluster(binary, args=["--kv-groups", str(groups)])
        try:
            started = time.time()
            c.wait(lambda: c.all_led(groups + 1), 300, f"{groups} groups led")
            led = time.time() - started
            c.wait(lambda: c.all_led(groups + 1, quiet=True), 300, f"{groups} groups quiet")
            before = {i: c.cpu(i) for i in c.http}; t0 = time.time()
            time.sleep(window)
            elapsed = time.time() - t0
            cpu = {i: (c.cpu(i) - before[i]) / elapsed * 100 for i in c.http}
            rss = {i: c.rss_kib(i) for i in c.http}
            if groups == 0:
                baseline = sum(rss.values()) / len(rss)
                print(f"baseline (meta group only): RSS {baseline / 1024:.1f} MiB per node", flush=True)
                continue
            per_group = (sum(rss.values()) / len(rss) - baseline) * 1024 / groups
            print(f"{groups} groups: all led after {led:.1f} s; idle CPU per node "
                  + ", ".join(f"{cpu[i]:.2f}%" for i in sorted(cpu))
                  + f"; RSS per node {', '.join(f'{rss[i] / 1024:.1f} MiB' for i in sorted(rss))}; "
                  f"{per_group / 1024:.2f} KiB per group beyond the baseline", flush=True)
        finally:
            c.stop()


def metric(c, i, name):
    """The sum of a counter over its label sets on node i (0 if absent)."""
    try:
        with urllib.request.urlopen(c.url(i, "/metrics"), timeout=3) as r:
            text = r.read().decode()
    except Exception:
        return 0.0
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name) and not line.startswith("#"))


def sql_json(c, i, statement, db="mv", timeout=600):
    req = urllib.request.Request(c.url(i, f"/api/v1/sql?db={db}"), data=statement.encode(), method="POST",
                                 headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"[]")


def du(path):
    """Bytes in the files under path (a file deleted meanwhile counts nothing)."""
    total = 0
    for d, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(d, name))
            except OSError:
                pass
    return total


def move(binary, fill):
    import http.client as httpclient
    c = Cluster(binary, nodes=4)
    try:
        c.wait(lambda: all(http("GET", c.url(i, "/api/v1/ping"))[0] == 200 for i in c.http), 60, "nodes up")
        c.wait(lambda: http("POST", c.url(1, "/api/v1/sql"), "CREATE DATABASE mv WITH SHARD 1 REPLICA 3")[0] == 200,
               60, "database created")
        acks, failures, lock, stop = [], [0], threading.Lock(), [False]
        start_ns = (int(time.time()) - 86_400) * 1_000_000_000

        def client(k):
            node = 1 + k % 4
            conn = httpclient.HTTPConnection("127.0.0.1", c.http[node], timeout=60)
            n = k
            while not stop[0]:
                lines = [f"cpu,host=h{(n * 1000 + j) % 100_000} usage_user={j % 100},usage_system={j % 7},"
                         f"usage_idle={j % 13} {start_ns + (n * 1000 + j) // 100_000 * 10_000_000_000}"
                         for j in range(1000)]
                n += 16
                try:
                    conn.request("POST", "/api/v1/write?db=mv", "\n".join(lines).encode())
                    r = conn.getresponse(); r.read()
                    ok = r.status in (200, 204)
                except Exception:
                    ok = False
                    conn = httpclient.HTTPConnection("127.0.0.1", c.http[node], timeout=60)
                with lock:
                    if ok: acks.append(time.time())
                    else: failures[0] += 1

        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(16)]
        for t in threads: t.start()
        time.sleep(fill)
        vnodes = sql_json(c, 1, "SHOW VNODES")
        replicas = sql_json(c, 1, "SHOW REPLICAS")
        location = next(r["location"] for r in replicas if r["database"] == "mv")
        members = {int(x.rstrip("*")) for x in location.split(",")}
        set_id = next(r["replica_id"] for r in replicas if r["database"] == "mv")
        # The group's leader as a member sees it (SHOW REPLICAS' mark is a hint, possibly stale).
        def group_leader():
            s, body = http("GET", c.url(min(members), "/api/v1/cluster"))
            found = next((g["leader"] for g in json.loads(body)["groups"] if g["id"] == set_id), None) if s == 200 else None
            return found if found in members else None
        c.wait(lambda: group_leader() is not None, 30, "the group's leader")
        leader = group_leader()
        target = next(i for i in c.http if i not in members)
        vnode = next(v["vnode_id"] for v in vnodes if v["node_id"] == leader and v["database"] == "mv")
        received0 = metric(c, target, "flotilla_transport_received_bytes_total")
        progress, watching = [], [True]

        def watch():
            """Every half second: the group on the old leader and on the target (role, commit, applied)."""
            while watching[0]:
                row = [time.time()]
                for node in (leader, target):
                    s, body = http("GET", c.url(node, "/api/v1/cluster"), timeout=5)
                    groups = json.loads(body).get("groups", []) if s == 200 else []
                    g = next((g for g in groups if g.get("id") == set_id), None)
                    row.append(f"{g['role']} {g['commit']}/{g['applied']}" if g else "-")
                progress.append(row)
                time.sleep(0.5)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        failed0, t0 = failures[0], time.time()
        status, body = http("POST", c.url(target, "/api/v1/sql?db=mv"), f"MOVE VNODE {vnode} TO NODE {target}",
                            timeout=600)
        t1 = time.time()
        watching[0] = False
        watcher.join()
        received = metric(c, target, "flotilla_transport_received_bytes_total") - received0
        print(f"the group during the move (s after MOVE; node {leader}: role commit/applied; node {target}: same):")
        for row in progress:
            print(f"  {row[0] - t0:6.1f}  {row[1]:<24} {row[2]}")
        time.sleep(5)
        stop[0] = True
        for t in threads: t.join()
        acked_before = sum(1 for a in acks if a < t0)

        def rate(a, b): return sum(1 for x in acks if a <= x < b) * 1000 / max(b - a, 1e-9)
        print(f"MOVE VNODE {vnode} (node {leader}, the leader) TO NODE {target}: {status} {body.strip()[:200]}")
        print(f"| vnode at the move (points acknowledged) | {acked_before * 1000 / 1e6:.1f} M |")
        print(f"| vnode files on the target afterwards | {du(f'{c.root}/node{target}/vnodes') / 1e6:.0f} MB |")
        print(f"| `MOVE VNODE` answered after | {t1 - t0:.1f} s |")
        print(f"| bytes node {target} received by then | {received / 1e6:.0f} MB |")
        print(f"| writes/s in the 10 s before the move | {rate(t0 - 10, t0):,.0f} points/s |")
        print(f"| writes/s over the whole move | {rate(t0, t1):,.0f} points/s ({rate(t0, t1) / rate(t0 - 10, t0):.0%}) |")
        print(f"| writes/s in the 5 s after | {rate(t1, t1 + 5):,.0f} points/s |")
        print(f"| failed requests during the move | {failures[0] - failed0} of "
              f"{failures[0] - failed0 + sum(1 for x in acks if t0 <= x < t1)} |")
    finally:
        c.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["failover", "idle", "move"])
    parser.add_argument("--binary", default=f"{ROOT}/.build/release/flotilla")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--groups", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--window", type=float, default=10)
    parser.add_argument("--fill", type=float, default=110)
    a = parser.parse_args()
    if a.mode == "failover": failover(a.binary, a.trials)
    elif a.mode == "move": move(a.binary, a.fill)
    else: idle(a.binary, a.groups, a.window)


if __name__ == "__main__":
    main()
