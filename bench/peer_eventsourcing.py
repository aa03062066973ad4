#!/usr/bin/env python3
"""The workloads of `esrun bench`, written for Python's `eventsourcing` package on SQLite.

Prints one line per workload in esrun bench's format (name padded to 40, value, unit,
details), so scripts/bench.sh can pair the lines by name and print ratios.

Choices, all in the peer's favour where there was one:
- bulk append goes to the recorder (pre-serialised StoredEvents, 1000 per insert), as
  esrun's goes to its store with pre-encoded JSON;
- commands use the repository's aggregate cache (AGGREGATE_CACHE_MAXSIZE) without fast-forward
  and without deep copies, as esrun's engine keeps hydrated states in memory;
- the concurrent workload partitions counters over threads (as esrun routes keys to workers);
- SQLite runs with synchronous=NORMAL, as esrun's store does by default (the package leaves
  SQLite's FULL, an fsync per commit); --durable keeps FULL, to compare with esrun --durable.
"""

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.sqlite import SQLiteConnectionPool


class Counter(Aggregate):
    def __init__(self):
        self.count = 0

    @event("Incremented")
    def increment(self, by: int = 1):
        self.count += by


class Snapped(Counter):
    pass


class Bench(Application):
    snapshotting_intervals = {Snapped: 100}


def relax_sync():
    """Each new connection of the package's pool runs PRAGMA synchronous=NORMAL (esrun's default)."""
    create = SQLiteConnectionPool._create_connection

    def create_normal(self):
        connection = create(self)
        connection._sqlite_conn.execute("PRAGMA synchronous=NORMAL")
        return connection

    SQLiteConnectionPool._create_connection = create_normal


def report(name, value, unit, detail):
    text = f"{value:.3f} {unit}" if unit in ("ms", "MiB") else f"{value:.0f} {unit}"
    print(f"{name:<40} {text}  ({detail})", flush=True)


def percentiles(latencies):
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))]
    return f"p50 {pick(0.5):.3f} ms, p99 {pick(0.99):.3f} ms"


def progress(name, done, total):
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[K{name}: {100 * done // total}%")
        if done == total:
            sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


def make_app(path, **extra):
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, **extra}
    return Bench(env=env)


def templates(app, cls):
    """A stored Created and Incremented event of `cls`, to copy with other ids and versions."""
    aggregate = cls()
    aggregate.increment(by=1)
    app.save(aggregate)
    created, incremented = app.recorder.select_events(aggregate.id)
    return created, incremented


def fill(app, cls, n, timed_name=None):
    """Appends a stream of n events (Created + n-1 Incremented) through the recorder, 1000 per insert."""
    created, incremented = templates(app, cls)
    stream = uuid4()
    version = 0
    start = time.perf_counter()
    while version < n:
        size = min(1000, n - version)
        batch = [replace(incremented, originator_id=stream, originator_version=v)
                 for v in range(version + 1, version + size + 1)]
        if version == 0:
            batch[0] = replace(created, originator_id=stream, originator_version=1)
        app.recorder.insert_events(batch)
        version += size
        if timed_name and version % 100_000 == 0:
            progress(timed_name, version, n)
    return stream, time.perf_counter() - start


def sequential(path, commands, name, **env):
    app = make_app(path, AGGREGATE_CACHE_MAXSIZE="10000", AGGREGATE_CACHE_FASTFORWARD="n",
                   DEEPCOPY_FROM_AGGREGATE_CACHE="n", **env)
    ids = []
    for _ in range(100):
        counter = Counter()
        app.save(counter)
        ids.append(counter.id)
    latencies = []
    start = time.perf_counter()
    for i in range(commands):
        t = time.perf_counter()
        counter = app.repository.get(ids[i % 100])
        counter.increment(by=1)
        app.save(counter)
        latencies.append((time.perf_counter() - t) * 1000)
        if (i + 1) % 10_000 == 0:
            progress(name, i + 1, commands)
    elapsed = time.perf_counter() - start
    report(name, commands / elapsed, "commands/s", f"{percentiles(latencies)}, {commands} commands")


def concurrent(path, commands, keys, threads):
    name = "concurrent commands on 10,000 counters"
    app = make_app(path, AGGREGATE_CACHE_MAXSIZE=str(keys), AGGREGATE_CACHE_FASTFORWARD="n",
                   DEEPCOPY_FROM_AGGREGATE_CACHE="n")
    ids = []
    for _ in range(keys):
        counter = Counter()
        app.save(counter)
        ids.append(counter.id)
    lock = threading.Lock()
    latencies = []

    def work(part):
        mine = []
        for i in range(part, commands, threads):
            t = time.perf_counter()
            # counters partitioned by thread, so no two threads write one counter
            key = ids[(i * 2654435761 % keys) // threads * threads + part] if keys >= threads else ids[part]
            counter = app.repository.get(key)
            counter.increment(by=1)
            app.save(counter)
            mine.append((time.perf_counter() - t) * 1000)
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(work, range(threads)))
    elapsed = time.perf_counter() - start
    report(name, commands / elapsed, "commands/s",
           f"{percentiles(latencies)}, {commands} commands over {keys} counters, {threads} threads "
           "(the GIL runs one at a time)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--commands", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="small sizes that run in seconds")
    parser.add_argument("--durable", action="store_true", help="keep SQLite's synchronous=FULL")
    args = parser.parse_args()
    if not args.durable:
        relax_sync()
    if args.quick:
        args.events, args.commands, args.keys = 20_000, 2_000, 1_000
    n = args.events

    with tempfile.TemporaryDirectory(prefix="peer-bench-") as folder:
        path = os.path.join(folder, "bench.db")
        app = make_app(path)
        stream, elapsed = fill(app, Counter, n, timed_name="bulk append")
        report("bulk append (batches of 1000)", n / elapsed, "events/s",
               f"{n} events in {elapsed:.3f} s, recorder.insert_events")

        fresh = make_app(path)
        start = time.perf_counter()
        counter = fresh.repository.get(stream)
        elapsed = time.perf_counter() - start
        assert counter.count == n - 1, counter.count
        report("cold replay", n / elapsed, "events/s", f"{n} events in {elapsed:.3f} s, repository.get")

        snapped, _ = fill(app, Snapped, n)
        behind = n - (99 if n % 100 == 0 else n % 100)
        app.take_snapshot(snapped, version=behind)
        loads = []
        for _ in range(20):
            fresh = make_app(path)
            start = time.perf_counter()
            counter = fresh.repository.get(snapped)
            loads.append((time.perf_counter() - start) * 1000)
            assert counter.count == n - 1, counter.count
        loads.sort()
        report("load with snapshots every 100", loads[len(loads) // 2], "ms",
               f"median of 20 fresh applications; snapshot at {behind}, {n - behind} events after it")

        sequential(os.path.join(folder, "seq.db"), args.commands, "sequential commands on 100 counters")
        sequential(":memory:", args.commands, "sequential commands, in-memory store",
                   PERSISTENCE_MODULE="eventsourcing.popo")
        concurrent(os.path.join(folder, "concurrent.db"), args.commands, args.keys, args.threads)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report("peak memory", peak, "MiB", "ru_maxrss of the Python process")


if __name__ == "__main__":
    main()
