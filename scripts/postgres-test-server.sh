#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (the PostgresEventStore suites).
#
#   scripts/postgres-test-server.sh start DIR   installs PostgreSQL from Debian when missing, creates
#                                               a cluster in DIR/data (initdb as user postgres), starts
#                                               it on a free loopback port from 54329 on and prints its
#                                               URL: postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/postgres-test-server.sh start-tls DIR
#                                               the same, but TLS only and SCRAM-SHA-256 passwords: makes
#                                               a CA (DIR/ca.crt), a server certificate for "localhost"
#                                               only (not 127.0.0.1, so that verify-full can be seen to
#                                               check the name) and a second, unrelated CA (DIR/other-ca.crt);
#                                               connections without TLS are rejected. Prints
#                                               postgres://postgres:PASSWORD@localhost:PORT/postgres
#   scripts/postgres-test-server.sh crash DIR   stops that server at once, as a crash would (pg_ctl -m immediate)
#   scripts/postgres-test-server.sh resume DIR  starts it again on the same port (recovery replays the WAL)
#   scripts/postgres-test-server.sh stop DIR    stops that server and deletes DIR
#
# Nothing listens beyond loopback; authentication is "trust" (loopback only, throwaway data),
# or a password over TLS (start-tls).
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

# A CA, a server certificate it signs for DNS:localhost, and a second CA that signs nothing.
make_certificates() {
    local dir=$1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=esrun test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=esrun unrelated CA" \
        -keyout "$dir/other-ca.key" -out "$dir/other-ca.crt" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
    printf 'subjectAltName=DNS:localhost\n' > "$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile "$dir/server.ext" -out "$dir/server.crt" >/dev/null 2>&1
    chmod 600 "$dir/server.key"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/server.key" "$dir/server.crt"; fi
    chmod 644 "$dir/ca.crt" "$dir/other-ca.crt"
}

start() {
    local dir=$1 tls=${2:-} bin port auth=(--auth=trust) options="" url_base="postgres://postgres@127.0.0.1" listen=127.0.0.1
    bin=$(find_bin) || { install_postgres; bin=$(find_bin); } || { log "no PostgreSQL binaries found"; exit 1; }
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
    if [ -n "$tls" ]; then
        command -v openssl >/dev/null || apt-get install -y openssl >&2
        make_certificates "$dir"
        local password=esrun-test-secret
        echo "$password" > "$dir/password"
        if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/password"; fi
        auth=(--auth-local=trust --auth-host=scram-sha-256 --pwfile="$dir/password")
        options="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key -c password_encryption=scram-sha-256"
        url_base="postgres://postgres:$password@localhost"
        listen=localhost
    fi
    as_postgres "$bin/initdb" -D "$dir/data" "${auth[@]}" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { log "initdb failed:"; cat "$dir/initdb.log" >&2; exit 1; }
    if [ -n "$tls" ]; then
        # TLS only: a connection without it is rejected before the password is asked.
        { echo "local all all trust"
          echo "hostssl all all 127.0.0.1/32 scram-sha-256"
          echo "hostssl all all ::1/128 scram-sha-256"
          echo "hostnossl all all 0.0.0.0/0 reject"
          echo "hostnossl all all ::/0 reject"; } > "$dir/data/pg_hba.conf"
    fi
    for port in $(seq 54329 54379); do
        port_in_use "$port" && continue
        if as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
            -o "-c listen_addresses=$listen -p $port -c unix_socket_directories=$dir -c max_connections=200 $options" >&2; then
            echo "-c listen_addresses=$listen -p $port -c unix_socket_directories=$dir -c max_connections=200 $options" > "$dir/options"
            log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $dir on loopback port $port${tls:+ (TLS only, SCRAM passwords)}"
            echo "$url_base:$port/postgres"
            return 0
        fi
        grep -q "could not bind\|already in use" "$dir/server.log" 2>/dev/null || break
    done
    log "the server did not start:"; cat "$dir/server.log" >&2 2>/dev/null || true
    exit 1
}

crash() {
    local dir=$1 bin
    bin=$(find_bin)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || log "stopping the server in $dir failed"
}

resume() {
    local dir=$1 bin
    bin=$(find_bin)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o "$(cat "$dir/options")" >&2
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
    start-tls) start "${2:?usage: $0 start-tls DIR}" tls ;;
    crash) crash "${2:?usage: $0 crash DIR}" ;;
    resume) resume "${2:?usage: $0 resume DIR}" ;;
    stop) stop "${2:?usage: $0 stop DIR}" ;;
    *) echo "usage: $0 start DIR | start-tls DIR | crash DIR | resume DIR | stop DIR" >&2; exit 2 ;;
esac
