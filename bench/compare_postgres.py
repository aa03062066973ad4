#!/usr/bin/env python3
"""The table of `scripts/bench.sh postgres`: reads the outputs of every round in a folder
(r1-pgbench-insert-1.txt, r1-probe.txt, r1-esrun.txt, r1-peer.txt, ...), prints each rate as
min-max over the rounds, and the ratios esrun/pgbench and esrun/python computed within each
round (the programs of one round ran minutes apart on the same server), as min-max too."""

import glob
import os
import re
import sys

BENCH_LINE = re.compile(r"^(?P<name>.{40}) (?P<value>[\d.]+) (?P<unit>\S+)\s+\((?P<detail>.*)\)$")
PROBE_LINE = re.compile(r"^\s+(?P<name>[a-z0-9, ]+):\s+(?P<value>\d+)/s")
TPS = re.compile(r"^tps = (?P<value>[\d.]+)")
LATENCY = re.compile(r"^latency average = (?P<value>[\d.]+) ms")
LATENCY_LINE = re.compile(r"^(?P<name>.+?):\s+(?P<value>[\d.]+) µs")
PER_TRANSACTION = re.compile(r"([\d.]+) commands per transaction")

# (key, label, file suffix, what to read)
ROWS = [
    ("pg_insert_1", "pgbench INSERT, 1 connection", "pgbench-insert-1", "tps"),
    ("pg_insert_8", "pgbench INSERT, 8 connections", "pgbench-insert-8", "tps"),
    ("pg_call_1", "pgbench CALL append_events, 1 connection", "pgbench-call-1", "tps"),
    ("pg_call_8", "pgbench CALL append_events, 8 connections", "pgbench-call-8", "tps"),
    ("appends_1", "esrun appends, 1 thread (store-probe)", "probe", "appends, 1 thread"),
    ("appends_8", "esrun appends, 8 threads (store-probe)", "probe", "appends, 8 threads"),
    ("commands_1", "esrun commands, 1 engine (store-probe)", "probe", "commands, 1 engine"),
    ("commands_4", "esrun commands, 4 engines (store-probe)", "probe", "commands, 4 engines on 4 threads"),
    ("bench_seq", "esrun bench sequential commands", "esrun", "sequential commands on 100 counters"),
    ("bench_conc", "esrun bench concurrent (2 workers)", "esrun", "concurrent commands on 10,000 counters"),
    ("serve_hot", "esrun serve + wrk, one hot counter", "esrun", "HTTP commands, one hot counter"),
    ("serve", "esrun serve + wrk, 10,000 counters", "esrun", "HTTP commands on 10,000 counters"),
    ("python_1", "python eventsourcing, 1 thread", "peer", "commands, 1 thread"),
    ("python_4", "python eventsourcing, 4 threads", "peer", "commands, 4 threads"),
]

# store-probe pg-latency's lines, and pgbench's latency for the same kinds of statement
LATENCIES = [
    ("pgbench SELECT 1, 1 connection (latency)", "pgbench-select1-1", None),
    ("SELECT 1, postgres-nio, one task", "latency", "SELECT 1, postgres-nio, one task"),
    ("SELECT max(version), postgres-nio", "latency", "SELECT max(version), postgres-nio"),
    ("SELECT max(version), store.version(of:)", "latency", "SELECT max(version), store.version(of:)"),
    ("empty detached task + semaphore", "latency", "empty detached task + semaphore"),
    ("pgbench INSERT, 1 connection (latency)", "pgbench-insert-1", None),
    ("pgbench CALL append_events, 1 connection (latency)", "pgbench-call-1", None),
    ("esrun append (one CALL), store-probe", "latency", "append of one event (CALL append_events)"),
    ("inside append_events (server, per CALL)", "latency", "inside append_events (server, per CALL)"),
]

# (numerator, denominator, label, goal)
RATIOS = [
    ("appends_1", "pg_insert_1", "appends 1 thread / pgbench INSERT 1-conn", 0.8),
    ("commands_1", "pg_insert_1", "commands 1 engine / pgbench INSERT 1-conn", 0.8),
    ("bench_seq", "pg_insert_1", "bench sequential / pgbench INSERT 1-conn", 0.8),
    ("appends_1", "pg_call_1", "appends 1 thread / pgbench CALL 1-conn", None),
    ("pg_call_1", "pg_insert_1", "pgbench CALL / pgbench INSERT, 1-conn", None),
    ("appends_8", "pg_insert_8", "appends 8 threads / pgbench INSERT 8-conn", None),
    ("commands_4", "pg_insert_8", "commands 4 engines / pgbench INSERT 8-conn", None),
    ("serve", "pg_insert_8", "serve 10,000 counters / pgbench INSERT 8-conn", 1.0),
    ("commands_1", "python_1", "commands 1 engine / python 1 thread", 5.0),
    ("bench_seq", "python_1", "bench sequential / python 1 thread", 5.0),
    ("commands_4", "python_4", "commands 4 engines / python 4 threads", 5.0),
    ("serve", "python_4", "serve 10,000 counters / python 4 threads", 5.0),
]


def read(path, what):
    """The rate `what` in the output at `path` and its detail (latency, commands per transaction)."""
    if not os.path.exists(path):
        return None, ""
    value, detail = None, ""
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if what == "tps":
                if m := TPS.match(line):
                    value = float(m["value"])
                elif m := LATENCY.match(line):
                    detail = f"latency {m['value']} ms"
            elif (m := BENCH_LINE.match(line)) and m["name"].strip() == what:
                value = float(m["value"])
                if t := PER_TRANSACTION.search(m["detail"]):
                    detail = f"{t[1]} commands/transaction"
                elif t := re.search(r"p50 ([\d.]+) ms", m["detail"]):
                    detail = f"p50 {t[1]} ms"
            elif (m := PROBE_LINE.match(line)) and m["name"].strip() == what:
                value = float(m["value"])
    return value, detail


def latency(path, what):
    """Microseconds: a pg-latency line named `what`, or pgbench's latency average when `what` is None."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for line in f:
            if what is None and (m := LATENCY.match(line)):
                return float(m["value"]) * 1000
            if what is not None and (m := LATENCY_LINE.match(line)) and m["name"].strip() == what:
                return float(m["value"])
    return None


def span(values, fmt="{:,.0f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    low, high = min(values), max(values)
    return fmt.format(low) if fmt.format(low) == fmt.format(high) else f"{fmt.format(low)} - {fmt.format(high)}"


def main():
    folder = sys.argv[1]
    rounds = sorted({int(re.match(r"r(\d+)-", os.path.basename(p))[1]) for p in glob.glob(os.path.join(folder, "r*-*.txt"))})
    data = {r: {} for r in rounds}
    details = {}
    for r in rounds:
        for key, _, suffix, what in ROWS:
            value, detail = read(os.path.join(folder, f"r{r}-{suffix}.txt"), what)
            data[r][key] = value
            if detail:
                details.setdefault(key, []).append(detail)
    print(f"{len(rounds)} rounds; rates as min - max over the rounds\n")
    print(f"| {'workload':<44} | {'per second':>17} | detail (each round) |")
    print(f"|{'-' * 46}|{'-' * 19}|---|")
    for key, label, _, _ in ROWS:
        shown = "; ".join(details.get(key, []))
        print(f"| {label:<44} | {span([data[r][key] for r in rounds]):>17} | {shown} |")
    print(f"\n| {'ratio (within each round)':<52} | {'min - max':>13} | goal |")
    print(f"|{'-' * 54}|{'-' * 15}|---|")
    for top, bottom, label, goal in RATIOS:
        ratios = [data[r][top] / data[r][bottom] for r in rounds if data[r].get(top) and data[r].get(bottom)]
        verdict = "" if goal is None else f">= {goal:g}" + (" met" if ratios and min(ratios) >= goal else
                                                               " missed" if ratios and max(ratios) < goal else " mixed")
        print(f"| {label:<52} | {span(ratios, '{:.2f}'):>13} | {verdict} |")
    print(f"\n| {'one call on one connection, mean':<52} | {'µs':>17} |")
    print(f"|{'-' * 54}|{'-' * 19}|")
    for label, suffix, what in LATENCIES:
        values = [latency(os.path.join(folder, f"r{r}-{suffix}.txt"), what) for r in rounds]
        print(f"| {label:<52} | {span(values):>17} |")


if __name__ == "__main__":
    main()
