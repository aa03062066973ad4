#!/usr/bin/env python3
"""Pairs the lines of `esrun bench` and bench/peer_eventsourcing.py by workload name and
prints esrun's figure, the peer's and how many times better esrun is (ms: lower is better)."""

import re
import sys

LINE = re.compile(r"^(?P<name>.{40}) (?P<value>[\d.]+) (?P<unit>\S+)")


def figures(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                out[m["name"].strip()] = (float(m["value"]), m["unit"])
    return out


def main():
    ours, peer = figures(sys.argv[1]), figures(sys.argv[2])
    print(f"{'workload':<40} {'esrun':>22} {'eventsourcing':>22} {'esrun/peer':>10}")
    for name, (value, unit) in ours.items():
        if name not in peer:
            continue
        other, _ = peer[name]
        if unit == "MiB":
            ratio = "-"
        elif unit == "ms":
            ratio = f"{other / value:.1f}x" if value else "-"
        else:
            ratio = f"{value / other:.1f}x" if other else "-"
        print(f"{name:<40} {show(value, unit):>22} {show(other, unit):>22} {ratio:>10}")


def show(value, unit):
    return f"{value:.3f} {unit}" if unit in ("ms", "MiB") else f"{value:,.0f} {unit}"

if __name__ == "__main__":
    main()
