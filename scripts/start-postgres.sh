#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1:$PG_PORT without systemd (initdb + pg_ctl in $PG_BASE).
# Installs Debian's postgresql if missing. Idempotent. Progress -> stderr; LAST stdout line = Npgsql CS.
set -euo pipefail
PG_PORT="${PG_PORT:-55432}"; PG_USER="${PG_USER:-pleokeys}"; PG_PASSWORD="${PG_PASSWORD:-pleokeys}"
PG_DB="${PG_DB:-pleokeys_test}"; PG_BASE="${PG_BASE:-/tmp/pleokeys-pg-$PG_PORT}"
DATA="$PG_BASE/data"; SOCK="$PG_BASE/sock"; LOG="$PG_BASE/postgres.log"   # socket path must stay < 107 chars
log() { echo "[start-postgres] $*" >&2; }; die() { log "ERROR: $*"; exit 1; }
export LC_ALL=C.UTF-8 LANG=C.UTF-8      # C.UTF-8 always exists on Debian 12; CI's LANG may not
[ "$(id -u)" -eq 0 ] && SUDO="" || SUDO="$(command -v sudo || true)"
find_bindir() {   # existing cluster -> its own major version; else newest installed
  local v; [ -s "$DATA/PG_VERSION" ] && v="$(cat "$DATA/PG_VERSION")" && [ -x "/usr/lib/postgresql/$v/bin/initdb" ] \
    && { echo "/usr/lib/postgresql/$v/bin"; return; }
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r b; do [ -x "$b/initdb" ] && echo "$b"; done | tail -n1
}
BIN="$(find_bindir || true)"
if [ -z "$BIN" ]; then
  [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ] || die "postgresql not installed and not root (no sudo)"
  log "PostgreSQL server not found; apt-get installing ..."; t0=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
  log "apt-get update+install took $(( $(date +%s) - t0 ))s"
  BIN="$(find_bindir || true)"; [ -n "$BIN" ] || die "initdb not found after install"
fi
log "using $("$BIN/postgres" --version)"
if [ "$(id -u)" -eq 0 ]; then   # postgres refuses to run as root -> run as OS user 'postgres'
  OSU=postgres; id "$OSU" >/dev/null 2>&1 || useradd --system -d /var/lib/postgresql -s /bin/bash "$OSU"
  as_pg() { (cd / && runuser -u "$OSU" -- env LC_ALL=C.UTF-8 LANG=C.UTF-8 "$@"); }
else OSU="$(id -un)"; as_pg() { (cd / && "$@"); }; fi
mkdir -p "$PG_BASE"; chown "$OSU": "$PG_BASE"; chmod 700 "$PG_BASE"; as_pg mkdir -p "$SOCK"
if [ ! -s "$DATA/PG_VERSION" ]; then
  log "initdb $DATA"; rm -rf "$DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U "$OSU" -E UTF8 --locale=C.UTF-8 --auth-local=trust \
    --auth-host=scram-sha-256 >"$PG_BASE/initdb.log" 2>&1 || { cat "$PG_BASE/initdb.log" >&2; die "initdb failed"; }
  echo "include_if_exists = 'ci.conf'" | as_pg tee -a "$DATA/postgresql.conf" >/dev/null
fi
as_pg tee "$DATA/ci.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCK'
max_connections = 200
autovacuum = off
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
running() { as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }
ready()   { as_pg "$BIN/pg_isready" -q -h "$SOCK" -p "$PG_PORT" -d postgres; }
# a kill -9'd postmaster stays a zombie ~1s here (PID 1 reaps late) and looks "running": confirm by connecting
if running; then for _ in $(seq 60); do ready && break; running || break; sleep 0.5; done; fi
if running && ready; then log "already running (pid $(head -n1 "$DATA/postmaster.pid"))"
elif running; then die "postmaster.pid alive but not accepting connections; see $LOG"
else
  (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null && die "port $PG_PORT is used by something else; set PG_PORT"
  log "starting on 127.0.0.1:$PG_PORT (log $LOG)"; as_pg touch "$LOG"
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >&2 || { tail -n 30 "$LOG" >&2; die "pg_ctl start failed"; }
fi
as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PG_PORT" -U "$OSU" -d postgres \
  -v u="$PG_USER" -v p="$PG_PASSWORD" -v d="$PG_DB" >&2 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'u') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'u') \gexec
ALTER ROLE :"u" WITH LOGIN CREATEDB PASSWORD :'p';
SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'u') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'d') \gexec
SQL
PGPASSWORD="$PG_PASSWORD" "$BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -tAc 'select 1' >/dev/null \
  || die "TCP password login failed"
log "ready (pid $(head -n1 "$DATA/postmaster.pid"))"
echo "Host=127.0.0.1;Port=$PG_PORT;Username=$PG_USER;Password=$PG_PASSWORD;Database=$PG_DB"
