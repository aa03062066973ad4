#!/usr/bin/env bash
# esrun bench beside the same workloads on Python's eventsourcing (SQLite), with ratios.
#
#   scripts/bench.sh            full sizes (1,000,000 events, 100,000 commands; a few minutes)
#   scripts/bench.sh --quick    small sizes, seconds
#   EVENTS=200000 COMMANDS=20000 scripts/bench.sh
#   scripts/bench.sh postgres   esrun on PostgreSQL beside pgbench and eventsourcing on PostgreSQL,
#                               3 rounds on a throwaway cluster (scripts/bench-postgres.sh says more)
#
# Installs wrk (apt) when missing, builds esrun in release mode, creates .venv-bench with
# eventsourcing (EVENTSOURCING_VERSION, default 9.5.6) from PyPI. Output: esrun's lines, the
# peer's lines, then the comparison; all three are also kept in .bench-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "postgres" ]; then shift; exec scripts/bench-postgres.sh "$@"; fi
EVENTS=${EVENTS:-1000000}
COMMANDS=${COMMANDS:-100000}
EVENTSOURCING_VERSION=${EVENTSOURCING_VERSION:-9.5.6}
sizes=(--events "$EVENTS" --commands "$COMMANDS")
[ "${1:-}" = "--quick" ] && sizes=(--quick)

if ! command -v wrk >/dev/null; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "installing wrk" >&2
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk >/dev/null
fi
if [ ! -x .venv-bench/bin/python ] || ! .venv-bench/bin/python -c 'import eventsourcing' 2>/dev/null; then
  echo "creating .venv-bench with eventsourcing==$EVENTSOURCING_VERSION" >&2
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q "eventsourcing==$EVENTSOURCING_VERSION"
fi
swift build -c release --product esrun >&2

mkdir -p .bench-out
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== esrun $(.build/release/esrun --version), SQLite $(.venv-bench/bin/python -c 'import sqlite3; print(sqlite3.sqlite_version)') (Python's)"
echo "== esrun bench ${sizes[*]}"
.build/release/esrun bench "${sizes[@]}" | tee .bench-out/esrun.txt
echo "== eventsourcing $(.venv-bench/bin/pip show eventsourcing | sed -n 's/^Version: //p') on SQLite: bench/peer_eventsourcing.py ${sizes[*]}"
.venv-bench/bin/python bench/peer_eventsourcing.py "${sizes[@]}" | tee .bench-out/peer.txt
echo "== ratios (higher is better for esrun; load time: peer's ms / esrun's ms)"
.venv-bench/bin/python bench/compare.py .bench-out/esrun.txt .bench-out/peer.txt | tee .bench-out/compare.txt
