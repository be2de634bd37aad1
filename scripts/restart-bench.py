#!/usr/bin/env python3
"""Restart of a node with many gigabytes on disk: one Flotilla node (release build, fsync on,
`SHARD 4 REPLICA 1`) is loaded through HTTP with the generator of store-vs-influxdb.py, killed with -9, and
each of its vnodes is grown offline with old data (`engine-bench --grow`: column files of a 30-float-field
measurement `history`, 25,000 series a vnode, written as a vnode's oldest layers, the covered index kept) until
the data directory holds `--gib` GiB. The node is started again and the script reports the time until a query
of everything answers, resident memory then, and the disk size; then once more after a clean kill -9.

Usage: scripts/restart-bench.py [--gib 10] [--points 5000000] [--binary .build/release/flotilla]
"""
import argparse, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module

bench = import_module("cluster-bench")
store = import_module("store-vs-influxdb")

BYTES_PER_GROWN_POINT = 260  # 30 noisy float fields (Gorilla codes) and a timestamp, measured


def vnode_directories(node_root):
    found = []
    for dirpath, _, names in os.walk(os.path.join(node_root, "vnodes")):
        if "MANIFEST" in names:
            found.append(dirpath)
    return sorted(found)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gib", type=float, default=10)
    p.add_argument("--points", type=int, default=5_000_000)
    p.add_argument("--series", type=int, default=100_000)
    p.add_argument("--binary", default=os.path.join(ROOT, ".build/release/flotilla"))
    p.add_argument("--engine-bench", default=os.path.join(ROOT, ".build/release/engine-bench"))
    a = p.parse_args()
    cluster = bench.Cluster(a.binary, nodes=1)
    port = cluster.http[1]
    node_root = f"{cluster.root}/node1"
    try:
        cluster.wait(lambda: bench.http("POST", cluster.url(1, "/api/v1/sql"),
                                        "CREATE DATABASE IF NOT EXISTS bench WITH SHARD 4 REPLICA 1")[0] == 200,
                     60, "the database is created")
        start_ns = (int(time.time()) - 86_400) // 60 * 60 * 1_000_000_000
        server = store.Server("Flotilla", port, "/api/v1/write?db=bench", cluster.procs[1])
        rate = store.load(server, a.points, a.series, start_ns, [])
        print(f"loaded {a.points:,} points at {rate:,.0f} points/s", flush=True)
        cluster.kill9(1)

        vnodes = vnode_directories(node_root)
        missing = a.gib * 2**30 - bench.du(node_root)
        per_vnode = max(0, int(missing / BYTES_PER_GROWN_POINT / len(vnodes)))
        print(f"growing {len(vnodes)} vnodes by {per_vnode:,} points each ...", flush=True)
        t = time.time()
        for first in range(0, len(vnodes), 2):  # two at a time: one per core
            growers = [subprocess.Popen(
                [a.engine_bench, "--grow", d, "--series", "25000", "--fields", "30", "--points", str(per_vnode),
                 "--points-per-file", "2000000", "--noisy"],
                stdout=subprocess.DEVNULL) for d in vnodes[first:first + 2]]
            for g in growers:
                if g.wait() != 0:
                    raise SystemExit(f"engine-bench --grow failed ({g.returncode})")
        print(f"grown in {time.time() - t:.0f} s", flush=True)
        disk = bench.du(node_root)
        files = sum(len([n for n in os.listdir(d) if n.endswith(".tsf")]) for d in vnodes)

        count = "SELECT count(usage_user) FROM cpu"
        first, answer = cluster.start_until_answered(1, count, "bench")
        rss = cluster.rss_kib(1) / 1024
        cluster.kill9(1)
        second, _ = cluster.start_until_answered(1, count, "bench")
        print(f"\n{disk / 2**30:.2f} GiB on disk ({files} column files in {len(vnodes)} vnodes), "
              f"{a.points:,} points loaded through HTTP")
        print(f"| restart after kill -9 until a count of everything answers | {first:.2f} s, then {second:.2f} s |")
        print(f"| resident MiB right after | {rss:.0f} |")
        print(f"| the count | {answer.strip().splitlines()[-1]} |")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
