#!/usr/bin/env bash
# A throwaway DynamoDB for the tests (the DynamoEventStore suites): moto's server mode.
#
#   scripts/moto-test-server.sh start DIR   installs moto[server] into a virtual environment (the
#                                           cached, gitignored .venv-moto/ of the checkout, made
#                                           when missing), starts moto's server (one request at a
#                                           time) on a free loopback port from 45700 on, logging
#                                           to DIR, and prints its
#                                           endpoint: http://127.0.0.1:PORT
#   scripts/moto-test-server.sh stop DIR    stops that server and deletes DIR
#
# Nothing listens beyond 127.0.0.1; moto keeps everything in memory and accepts any credentials.
# Messages go to stderr; stdout carries the endpoint only. Exit 1 when no server could be started.
set -euo pipefail

log() { echo "moto-test-server: $*" >&2; }

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${ESRUN_MOTO_VENV:-$root/.venv-moto}

install_moto() {
    if [ -x "$venv/bin/moto_server" ]; then return 0; fi
    log "installing moto[server] into $venv"
    python3 -m venv "$venv" >&2 || { log "python3 -m venv failed"; return 1; }
    "$venv/bin/pip" install --quiet 'moto[server]>=5,<6' >&2 || { log "pip install 'moto[server]' failed"; return 1; }
}

port_in_use() { (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
    local dir=$1 port pid
    install_moto || exit 1
    mkdir -p "$dir"
    for port in $(seq 45700 45760); do
        port_in_use "$port" && continue
        # Not moto_server itself: it serves requests on threads without a lock, so two requests
        # can interleave inside DynamoDB operations (a transaction's condition checks and its
        # writes are not atomic against a concurrent write), which real DynamoDB never does.
        # One request at a time in moto restores DynamoDB's isolation; the store's tests rely on
        # it. (Connections stay on threads: a single-threaded server stalls on idle keep-alives.)
        "$venv/bin/python" -c '
import sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
def one_at_a_time(environ, start_response):
    with lock:
        return list(app(environ, start_response))
run_simple(sys.argv[1], int(sys.argv[2]), one_at_a_time, threaded=True, request_handler=MotoRequestHandler)
' 127.0.0.1 "$port" >"$dir/server.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 100); do
            if ! kill -0 "$pid" 2>/dev/null; then break; fi
            if curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null || port_in_use "$port"; then
                echo "$pid" > "$dir/moto.pid"
                log "moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)') in $dir on 127.0.0.1:$port"
                echo "http://127.0.0.1:$port"
                return 0
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        grep -q "in use" "$dir/server.log" 2>/dev/null || break
    done
    log "the server did not start:"; cat "$dir/server.log" >&2 2>/dev/null || true
    exit 1
}

stop() {
    local dir=$1
    if [ -f "$dir/moto.pid" ]; then kill "$(cat "$dir/moto.pid")" 2>/dev/null || log "stopping the server in $dir failed"; fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "${2:?usage: $0 start DIR}" ;;
    stop) stop "${2:?usage: $0 stop DIR}" ;;
    *) echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac
