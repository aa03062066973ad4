#!/usr/bin/env bash
# A throwaway Redis server for the tests (the Redis snapshot store's suites).
#
#   scripts/redis-test-server.sh start DIR   installs redis-server from Debian when missing, makes a
#                                            CA and a server certificate in DIR (openssl), starts Redis
#                                            on a free loopback port (plain) and another (TLS), both
#                                            with a random password, and prints three lines:
#                                              ESRUN_TEST_REDIS_URL=redis://:PASSWORD@127.0.0.1:PORT/0
#                                              ESRUN_TEST_REDISS_URL=rediss://:PASSWORD@127.0.0.1:TLSPORT/0?tls_ca=DIR/ca.pem
#                                              ESRUN_TEST_REDIS_CA=DIR/ca.pem
#   scripts/redis-test-server.sh down DIR    stops that server at once (SHUTDOWN NOSAVE), keeping DIR
#   scripts/redis-test-server.sh up DIR      starts it again, same ports and password
#   scripts/redis-test-server.sh stop DIR    stops it and deletes DIR
#
# Nothing is persisted (--save '' --appendonly no); nothing listens beyond 127.0.0.1.
# DIR also holds other-ca.pem, a CA that signed nothing (for the tests of a wrong CA).
# Messages go to stderr; stdout carries the three lines only. Exit 1 when no server could be started.
set -euo pipefail

log() { echo "redis-test-server: $*" >&2; }

install_redis() {
    log "redis-server is not installed: apt-get install -y redis-server"
    export DEBIAN_FRONTEND=noninteractive
    # The package's own server is not needed: keep the installer from starting it.
    local policy=/usr/sbin/policy-rc.d created=""
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
    apt-get install -y redis-server >&2 || { apt-get update >&2 && apt-get install -y redis-server >&2; }
    if [ -n "$created" ]; then rm -f "$policy"; fi
}

port_in_use() { (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port
    for port in $(seq "$1" "$2"); do
        port_in_use "$port" || { echo "$port"; return 0; }
    done
    return 1
}

make_certificates() {
    local dir=$1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=esrun test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
        -keyout "$dir/other-ca.key" -out "$dir/other-ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
}

# Starts redis-server from DIR/redis.conf and waits until it answers PING.
launch() {
    local dir=$1 port password
    port=$(cat "$dir/port")
    password=$(cat "$dir/password")
    redis-server "$dir/redis.conf" >&2 || return 1
    for _ in $(seq 1 100); do
        if REDISCLI_AUTH=$password redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then return 0; fi
        sleep 0.05
    done
    return 1
}

start() {
    local dir=$1 port tls_port password
    command -v redis-server >/dev/null || install_redis
    command -v redis-server >/dev/null || { log "no redis-server found"; exit 1; }
    mkdir -p "$dir"
    make_certificates "$dir" || { log "openssl could not make the certificates"; exit 1; }
    password=$(openssl rand -hex 16)
    port=$(free_port 63790 63890) || { log "no free port"; exit 1; }
    tls_port=$(free_port $((port + 1)) 63990) || { log "no free port"; exit 1; }
    echo "$port" > "$dir/port"
    echo "$password" > "$dir/password"
    cat > "$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
tls-port $tls_port
tls-cert-file $dir/server.pem
tls-key-file $dir/server.key
tls-ca-cert-file $dir/ca.pem
tls-auth-clients no
requirepass $password
save ""
appendonly no
dir $dir
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
CONF
    if ! launch "$dir"; then
        log "the server did not start:"; cat "$dir/redis.log" >&2 2>/dev/null || true
        exit 1
    fi
    log "Redis $(redis-server --version | awk '{print $3}' | sed 's/v=//') in $dir on 127.0.0.1:$port, TLS on $tls_port"
    echo "ESRUN_TEST_REDIS_URL=redis://:$password@127.0.0.1:$port/0"
    echo "ESRUN_TEST_REDISS_URL=rediss://:$password@127.0.0.1:$tls_port/0?tls_ca=$dir/ca.pem"
    echo "ESRUN_TEST_REDIS_CA=$dir/ca.pem"
}

down() {
    local dir=$1
    [ -f "$dir/port" ] || return 0
    REDISCLI_AUTH=$(cat "$dir/password") redis-cli -h 127.0.0.1 -p "$(cat "$dir/port")" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do
        port_in_use "$(cat "$dir/port")" || return 0
        sleep 0.05
    done
    [ -f "$dir/redis.pid" ] && kill -9 "$(cat "$dir/redis.pid")" 2>/dev/null || true
}

up() {
    local dir=$1
    launch "$dir" || { log "the server did not start again:"; tail -5 "$dir/redis.log" >&2 2>/dev/null; exit 1; }
}

case "${1:-}" in
    start) start "${2:?usage: $0 start DIR}" ;;
    down) down "${2:?usage: $0 down DIR}" ;;
    up) up "${2:?usage: $0 up DIR}" ;;
    stop) down "${2:?usage: $0 stop DIR}"; rm -rf "$2" ;;
    *) echo "usage: $0 start DIR | down DIR | up DIR | stop DIR" >&2; exit 2 ;;
esac
