#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (the PostgresEventStore suites).
#
#   scripts/postgres-test-server.sh start DIR   installs PostgreSQL from Debian when missing, creates
#                                               a cluster in DIR/data (initdb as user postgres), starts
#                                               it on a free loopback port from 54329 on and prints its
#                                               URL: postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/postgres-test-server.sh stop DIR    stops that server and deletes DIR
#
# Nothing listens beyond 127.0.0.1; authentication is "trust" (loopback only, throwaway data).
# Messages go to stderr; stdout carries the URL only. Exit 1 when no server could be started.
set -euo pipefail

log() { echo "postgres-test-server: $*" >&2; }

find_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then echo "$dir"; return 0; fi
    done
    return 1
}

install_postgres() {
    log "PostgreSQL is not installed: apt-get install -y postgresql"
    export DEBIAN_FRONTEND=noninteractive
    # The package's own cluster is not needed: keep the installer from starting it.
    local policy=/usr/sbin/policy-rc.d created=""
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
    apt-get install -y postgresql >&2 || { apt-get update >&2 && apt-get install -y postgresql >&2; }
    if [ -n "$created" ]; then rm -f "$policy"; fi
}

port_in_use() { (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Runs a command as the postgres user: initdb and postgres refuse to run as root.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    local dir=$1 bin port
    bin=$(find_bin) || { install_postgres; bin=$(find_bin); } || { log "no PostgreSQL binaries found"; exit 1; }
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
    as_postgres "$bin/initdb" -D "$dir/data" --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { log "initdb failed:"; cat "$dir/initdb.log" >&2; exit 1; }
    for port in $(seq 54329 54379); do
        port_in_use "$port" && continue
        if as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c max_connections=200" >&2; then
            log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $dir on 127.0.0.1:$port"
            echo "postgres://postgres@127.0.0.1:$port/postgres"
            return 0
        fi
        grep -q "could not bind\|already in use" "$dir/server.log" 2>/dev/null || break
    done
    log "the server did not start:"; cat "$dir/server.log" >&2 2>/dev/null || true
    exit 1
}

stop() {
    local dir=$1 bin
    if [ -f "$dir/data/postmaster.pid" ] && bin=$(find_bin); then
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || log "stopping the server in $dir failed"
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "${2:?usage: $0 start DIR}" ;;
    stop) stop "${2:?usage: $0 stop DIR}" ;;
    *) echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac
