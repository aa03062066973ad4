#!/usr/bin/env python3
"""Python's `eventsourcing` on PostgreSQL (its `postgres` persistence module, psycopg): the
peer of esrun's PostgreSQL command workloads in `scripts/bench.sh postgres`.

An aggregate with one event per command (Counter.increment), commands through the
application (repository.get, the aggregate method, save: one transaction each), on a
schema of its own that is dropped at the end. As in peer_eventsourcing.py, the peer gets
the repository's aggregate cache (no fast-forward, no deep copy), as esrun's engine keeps
hydrated states in memory, and threads write disjoint counters (as esrun's 4 engines do).

Prints `commands, 1 thread   N commands/s (...)` and `commands, T threads ...`.
"""

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse
from uuid import uuid4

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Counter(Aggregate):
    def __init__(self):
        self.count = 0

    @event("Incremented")
    def increment(self, by: int = 1):
        self.count += by


class Bench(Application):
    pass


def report(name, value, unit, detail):
    print(f"{name:<40} {value:.0f} {unit}  ({detail})", flush=True)


def commands(env, total, threads, per_thread_keys=25):
    app = Bench(env={**env, "POSTGRES_POOL_SIZE": str(max(threads, 1)), "AGGREGATE_CACHE_MAXSIZE": "10000",
                     "AGGREGATE_CACHE_FASTFORWARD": "n", "DEEPCOPY_FROM_AGGREGATE_CACHE": "n"})
    keys = per_thread_keys * 4 if threads == 1 else per_thread_keys
    ids = []
    for _ in range(threads):
        mine = []
        for _ in range(keys):
            counter = Counter()
            app.save(counter)
            mine.append(counter.id)
        ids.append(mine)
    lock = threading.Lock()
    latencies = []

    def work(part):
        mine = []
        for i in range(total // threads):
            t = time.perf_counter()
            counter = app.repository.get(ids[part][i % keys])
            counter.increment(by=1)
            app.save(counter)
            mine.append((time.perf_counter() - t) * 1000)
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(work, range(threads)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))]
    done = total // threads * threads
    label = "commands, 1 thread" if threads == 1 else f"commands, {threads} threads"
    report(label, done / elapsed, "commands/s",
           f"p50 {pick(0.5):.3f} ms, p99 {pick(0.99):.3f} ms, {done} commands over {keys * threads} counters")
    app.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="postgres://USER@HOST:PORT/DATABASE")
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    url = urlparse(args.url)
    schema = "peer_" + uuid4().hex[:12]
    conninfo = dict(host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
                    password=url.password or "", dbname=url.path.lstrip("/") or "postgres")
    with psycopg.connect(**conninfo, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": conninfo["dbname"],
           "POSTGRES_HOST": conninfo["host"], "POSTGRES_PORT": str(conninfo["port"]),
           "POSTGRES_USER": conninfo["user"], "POSTGRES_PASSWORD": conninfo["password"],
           "POSTGRES_SCHEMA": schema}
    try:
        for threads in args.threads:
            commands(env, args.commands, threads)
    finally:
        with psycopg.connect(**conninfo, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
