#!/usr/bin/env bash
# Installs the system packages LuaES builds against, when they are missing (Debian/Ubuntu).
set -euo pipefail
# lua-check: luacheck, the linter scripts/test.sh runs over the Lua prelude
# wrk: the load generator of the HTTP bench workloads (esrun bench, and its test)
# libmongoc-dev, libbson-dev: the MongoDB store (LuaESMongo); python3-venv: the MongoDB test
# server's virtual environment (scripts/mongo-test-server.sh)
needed=(liblua5.4-dev libsqlite3-dev libedit-dev pkg-config lua-check wrk libmongoc-dev libbson-dev python3-venv)
missing=()
for pkg in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# the REPL's terminal tests drive esrun through a pseudo-terminal with pexpect
python3 -c 'import pexpect' 2>/dev/null || missing+=(python3-pexpect)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
