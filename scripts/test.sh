#!/usr/bin/env bash
# The project's test command (what .ci/run calls): install what is missing, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# the trusted Lua prelude must lint clean (.luacheckrc) before anything is built
luacheck --no-color Sources/CLuaShim/prelude
swift build --build-tests

# A throwaway PostgreSQL server for the PostgreSQL store's tests, stopped on exit. Without
# one (none could be started, and ESRUN_TEST_POSTGRES_URL is not set) those tests are skipped.
# A second one, TLS only with SCRAM passwords, for the TLS modes (PostgresTLSTests).
servers=()
stop_servers() {
  for dir in "${servers[@]}"; do ./scripts/postgres-test-server.sh stop "$dir"; done
}
trap stop_servers EXIT
if [ -z "${ESRUN_TEST_POSTGRES_URL:-}" ]; then
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/esrun-pg-test.XXXXXX")
  servers+=("$pg_dir")
  if url=$(./scripts/postgres-test-server.sh start "$pg_dir"); then
    export ESRUN_TEST_POSTGRES_URL=$url
  else
    echo "WARNING: no PostgreSQL server could be started: the PostgreSQL tests will be SKIPPED" >&2
  fi
fi
if [ -z "${ESRUN_TEST_POSTGRES_TLS_URL:-}" ]; then
  tls_dir=$(mktemp -d "${TMPDIR:-/tmp}/esrun-pg-tls-test.XXXXXX")
  servers+=("$tls_dir")
  if url=$(./scripts/postgres-test-server.sh start-tls "$tls_dir"); then
    export ESRUN_TEST_POSTGRES_TLS_URL=$url ESRUN_TEST_POSTGRES_TLS_DIR=$tls_dir
  else
    echo "WARNING: no TLS PostgreSQL server could be started: the PostgreSQL TLS tests will be SKIPPED" >&2
  fi
fi

swift test --skip-build --parallel --num-workers 2
