#!/usr/bin/env bash
# A throwaway MongoDB for the tests (the MongoEventStore suites): nx-27017, a server speaking
# MongoDB's wire protocol over SQLite (no MongoDB server is packaged for Debian 12 or PyPI).
#
#   scripts/mongo-test-server.sh start DIR   installs nx-27017 into a virtual environment (the
#                                            cached, gitignored .venv-mongo/ of the checkout, made
#                                            when missing), starts it on a free loopback port from
#                                            45800 on, its databases and log in DIR, and prints its
#                                            URL: mongodb://127.0.0.1:PORT
#   scripts/mongo-test-server.sh stop DIR    stops that server and deletes DIR
#
# Nothing listens beyond 127.0.0.1; the server has no users (any client is let in).
# The tests add a database name of their own to the URL.
# Messages go to stderr; stdout carries the URL only. Exit 1 when no server could be started.
set -euo pipefail

log() { echo "mongo-test-server: $*" >&2; }

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${ESRUN_MONGO_VENV:-$root/.venv-mongo}

install_server() {
    if [ -x "$venv/bin/nx-27017" ]; then return 0; fi
    log "installing nx-27017 into $venv"
    python3 -m venv "$venv" >&2 || { log "python3 -m venv failed (apt-get install python3-venv)"; return 1; }
    "$venv/bin/pip" install --quiet 'nx-27017>=0.8,<0.9' >&2 || { log "pip install nx-27017 failed"; return 1; }
}

port_in_use() { (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
    local dir=$1 port pid
    install_server || exit 1
    mkdir -p "$dir/data"
    for port in $(seq 45800 45860); do
        port_in_use "$port" && continue
        # foreground (no -d): this script keeps the pid; one SQLite file per database in DIR/data
        "$venv/bin/nx-27017" --host 127.0.0.1 --port "$port" --data-dir "$dir/data" \
            --log-file "$dir/server.log" --pid-file "$dir/nx.pid" >"$dir/stdout.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 100); do
            if ! kill -0 "$pid" 2>/dev/null; then break; fi
            if port_in_use "$port"; then
                echo "$pid" > "$dir/server.pid"
                log "nx-27017 $("$venv/bin/pip" show nx-27017 2>/dev/null | sed -n 's/^Version: //p') in $dir on 127.0.0.1:$port"
                echo "mongodb://127.0.0.1:$port"
                return 0
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        grep -qi "in use" "$dir/stdout.log" 2>/dev/null || break
    done
    log "the server did not start:"; cat "$dir/stdout.log" >&2 2>/dev/null || true
    exit 1
}

stop() {
    local dir=$1
    local pid
    if [ -f "$dir/server.pid" ]; then
        pid=$(cat "$dir/server.pid")
        kill "$pid" 2>/dev/null || log "stopping the server in $dir failed"
        # nx-27017 may sit in a worker thread and ignore SIGTERM: give it 2 s, then SIGKILL
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "${2:?usage: $0 start DIR}" ;;
    stop) stop "${2:?usage: $0 stop DIR}" ;;
    *) echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac
