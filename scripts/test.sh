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
cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT
if [ -z "${ESRUN_TEST_POSTGRES_URL:-}" ]; then
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/esrun-pg-test.XXXXXX")
  cleanup+=('./scripts/postgres-test-server.sh stop "$pg_dir"')
  if url=$(./scripts/postgres-test-server.sh start "$pg_dir"); then
    export ESRUN_TEST_POSTGRES_URL=$url
  else
    echo "WARNING: no PostgreSQL server could be started: the PostgreSQL tests will be SKIPPED" >&2
  fi
fi
if [ -z "${ESRUN_TEST_POSTGRES_TLS_URL:-}" ]; then
  tls_dir=$(mktemp -d "${TMPDIR:-/tmp}/esrun-pg-tls-test.XXXXXX")
  cleanup+=('./scripts/postgres-test-server.sh stop "$tls_dir"')
  if url=$(./scripts/postgres-test-server.sh start-tls "$tls_dir"); then
    export ESRUN_TEST_POSTGRES_TLS_URL=$url ESRUN_TEST_POSTGRES_TLS_DIR=$tls_dir
  else
    echo "WARNING: no TLS PostgreSQL server could be started: the PostgreSQL TLS tests will be SKIPPED" >&2
  fi
fi

# A throwaway Redis server (plain and TLS, with a password) for the Redis snapshot store's
# tests, stopped on exit; without one those tests are skipped, loudly.
if [ -z "${ESRUN_TEST_REDIS_URL:-}" ]; then
  redis_dir=$(mktemp -d "${TMPDIR:-/tmp}/esrun-redis-test.XXXXXX")
  cleanup+=('./scripts/redis-test-server.sh stop "$redis_dir"')
  if settings=$(./scripts/redis-test-server.sh start "$redis_dir"); then
    while IFS='=' read -r name value; do export "$name=$value"; done <<< "$settings"
  else
    echo "WARNING: no Redis server could be started: the Redis tests will be SKIPPED" >&2
  fi
fi

# A throwaway moto server (DynamoDB in server mode) for the DynamoDB store's tests, stopped on exit.
# Without one (none could be started, and ESRUN_TEST_DYNAMODB_ENDPOINT is not set) those tests are skipped.
if [ -z "${ESRUN_TEST_DYNAMODB_ENDPOINT:-}" ]; then
  moto_dir=$(mktemp -d "${TMPDIR:-/tmp}/esrun-moto-test.XXXXXX")
  cleanup+=('./scripts/moto-test-server.sh stop "$moto_dir"')
  if endpoint=$(./scripts/moto-test-server.sh start "$moto_dir"); then
    export ESRUN_TEST_DYNAMODB_ENDPOINT=$endpoint
  else
    echo "WARNING: no moto (DynamoDB) server could be started: the DynamoDB tests will be SKIPPED" >&2
  fi
fi

# A throwaway MongoDB wire-protocol server (nx-27017) for the MongoDB store's tests, stopped on exit.
# Without one (none could be started, and ESRUN_TEST_MONGODB_URL is not set) those tests are skipped.
if [ -z "${ESRUN_TEST_MONGODB_URL:-}" ]; then
  mongo_dir=$(mktemp -d "${TMPDIR:-/tmp}/esrun-mongo-test.XXXXXX")
  cleanup+=('./scripts/mongo-test-server.sh stop "$mongo_dir"')
  if url=$(./scripts/mongo-test-server.sh start "$mongo_dir"); then
    export ESRUN_TEST_MONGODB_URL=$url
  else
    echo "WARNING: no MongoDB test server could be started: the MongoDB tests will be SKIPPED" >&2
  fi
fi

swift test --skip-build --parallel --num-workers 2
