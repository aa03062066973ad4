#!/usr/bin/env bash
# esrun on PostgreSQL beside pgbench and Python's eventsourcing, on one server, in one run
# (scripts/bench.sh postgres calls this). Each round runs, one after another on the same server:
#   pgbench single-row INSERT into a table shaped like esrun's events (1 and 8 connections),
#   pgbench CALL of esrun's append_events_v5 procedure (1 and 8 connections; no Swift client),
#   store-probe postgres (esrun appends 1 and 8 threads, commands 1 engine and 4 engines),
#   esrun bench --postgres (sequential, concurrent, esrun serve --postgres under wrk -t2 -c32),
#   bench/peer_eventsourcing_postgres.py (eventsourcing's postgres module, 1 and 4 threads),
#   and where one append's time goes: pgbench SELECT 1 beside store-probe pg-latency (postgres-nio
#   round trips, the store's blocking bridge, time inside append_events_v5).
# Then bench/compare_postgres.py prints every rate as min-max over the rounds and the ratios.
#
#   scripts/bench.sh postgres                      a throwaway cluster (fsync on), 3 rounds
#   POSTGRES_URL=postgres://u@host:5432/db scripts/bench.sh postgres    an existing server
#   ROUNDS=3 PGBENCH_SECONDS=5 HTTP_SECONDS=10 EVENTS=10000 COMMANDS=3000 PROBE_SCALE=1 PEER_COMMANDS=1000 LATENCY_COUNT=500
#
# Outputs are kept in .bench-out/postgres/ (r<N>-<program>.txt). Every schema made is dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-5}
HTTP_SECONDS=${HTTP_SECONDS:-10}
COMMANDS=${COMMANDS:-3000}
EVENTS=${EVENTS:-10000}
PROBE_SCALE=${PROBE_SCALE:-1}
PEER_COMMANDS=${PEER_COMMANDS:-1000}
LATENCY_COUNT=${LATENCY_COUNT:-500}
EVENTSOURCING_VERSION=${EVENTSOURCING_VERSION:-9.5.6}
out=.bench-out/postgres
rm -rf "$out" && mkdir -p "$out"

command -v wrk >/dev/null || { echo "installing wrk" >&2; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || { echo "installing postgresql-client" >&2; apt-get install -y -qq postgresql-client >/dev/null; }
if [ ! -x .venv-bench/bin/python ] || ! .venv-bench/bin/python -c 'import eventsourcing.postgres, psycopg' 2>/dev/null; then
  echo "creating .venv-bench with eventsourcing[postgres]==$EVENTSOURCING_VERSION" >&2
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q "eventsourcing[postgres]==$EVENTSOURCING_VERSION"
fi
swift build -c release --product esrun >&2
swift build -c release --product store-probe >&2

cluster=""
if [ -z "${POSTGRES_URL:-}" ]; then
  cluster=$(mktemp -d /tmp/esrun-bench-pg.XXXXXX)
  POSTGRES_URL=$(scripts/postgres-test-server.sh start "$cluster")
  # the time inside append_events_v5 per CALL (pg_stat_user_functions), for store-probe pg-latency
  psql -q "$POSTGRES_URL" -c "ALTER SYSTEM SET track_functions = 'pl'" -c "SELECT pg_reload_conf()" >/dev/null
fi
suffix=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
pgb="pgbench_$suffix"  # pgbench's schema: the events-shaped table and an esrun schema for the CALL
cleanup() {
  psql -q "$POSTGRES_URL" -c "DROP SCHEMA IF EXISTS $pgb CASCADE" -c "DROP SCHEMA IF EXISTS ${pgb}_esrun CASCADE" >/dev/null 2>&1 || true
  if [ -n "$cluster" ]; then scripts/postgres-test-server.sh stop "$cluster"; fi
}
trap cleanup EXIT

psql -q -v ON_ERROR_STOP=1 "$POSTGRES_URL" >/dev/null <<SQL
CREATE SCHEMA $pgb;
CREATE TABLE $pgb.events (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, aggregate text NOT NULL, "key" text NOT NULL,
    version bigint NOT NULL, type text NOT NULL, schema integer NOT NULL, data bytea NOT NULL, meta bytea NOT NULL,
    recorded_at bigint NOT NULL, command_id text, xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (aggregate, "key", version));
SQL
# esrun makes its schema (events table and append_events_v5 procedure) on first use. The CALL passes no
# channel, as esrun does: it notifies after the CALL, once per round trip (PostgresCommitAnnouncer).
.build/release/esrun tail --postgres "$POSTGRES_URL?schema=${pgb}_esrun" --limit 0
# One event on a stream of its own per transaction (the random key never repeats in practice).
cat > "$out/insert.sql" <<SQL
\set k random(1, 1000000000000)
INSERT INTO $pgb.events (aggregate, "key", version, type, schema, data, meta, recorded_at)
VALUES ('Counter', 'c-' || :client_id || '-' || :k, 1, 'Incremented', 1, '{"by":1}', '{}', 0);
SQL
echo "SELECT 1;" > "$out/select1.sql"
cat > "$out/call.sql" <<SQL
\set k random(1, 1000000000000)
CALL ${pgb}_esrun.append_events_v5(ARRAY['Counter'], ARRAY['c-' || :client_id || '-' || :k], ARRAY[0]::int8[], ARRAY[1]::int8[],
    ARRAY['Incremented'], ARRAY[1]::int8[], ARRAY['{"by":1}'::bytea], ARRAY[0]::int8[], ARRAY[4]::int8[], ARRAY['{}'::bytea],
    ARRAY['00000000-0000-0000-0000-000000000000'::uuid], ARRAY[''], ARRAY[''], ARRAY[false],
    0, 42, '', 0, NULL, NULL);
SQL

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(psql -tA "$POSTGRES_URL" -c 'SELECT version()' | cut -d, -f1), fsync=$(psql -tA "$POSTGRES_URL" -c 'SHOW fsync'),"\
  "synchronous_commit=$(psql -tA "$POSTGRES_URL" -c 'SHOW synchronous_commit'); esrun $(.build/release/esrun --version);"\
  "eventsourcing $(.venv-bench/bin/pip show eventsourcing | sed -n 's/^Version: //p'), psycopg $(.venv-bench/bin/python -c 'import psycopg; print(psycopg.__version__)')"
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round of $ROUNDS (load $(cut -d' ' -f1-3 /proc/loadavg))"
  for kind in select1 insert call; do
    for clients in 1 8; do
      if [ "$kind" = select1 ] && [ "$clients" = 8 ]; then continue; fi
      pgbench -n -T "$PGBENCH_SECONDS" -c "$clients" -j "$((clients < 2 ? 1 : 2))" -f "$out/$kind.sql" "$POSTGRES_URL" \
        > "$out/r$round-pgbench-$kind-$clients.txt" 2>&1
      echo "pgbench $kind, $clients connection(s): $(grep -E '^(tps|latency average)' "$out/r$round-pgbench-$kind-$clients.txt" | tr '\n' ' ')"
    done
  done
  .build/release/store-probe postgres "$POSTGRES_URL" "$PROBE_SCALE" | tee "$out/r$round-probe.txt"
  .build/release/store-probe pg-latency "$POSTGRES_URL" "$LATENCY_COUNT" | tee "$out/r$round-latency.txt"
  .build/release/esrun bench --postgres "$POSTGRES_URL" --events "$EVENTS" --commands "$COMMANDS" \
    --connections 32 --http-seconds "$HTTP_SECONDS" | tee "$out/r$round-esrun.txt"
  .venv-bench/bin/python bench/peer_eventsourcing_postgres.py --url "$POSTGRES_URL" --commands "$PEER_COMMANDS" \
    | tee "$out/r$round-peer.txt"
done
echo "== summary (load $(cut -d' ' -f1-3 /proc/loadavg))"
.venv-bench/bin/python bench/compare_postgres.py "$out" | tee "$out/summary.txt"
