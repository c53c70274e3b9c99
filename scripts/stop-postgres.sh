#!/usr/bin/env bash
# Stop exactly the server start-postgres.sh started (pg_ctl -D its data dir). Usage: stop-postgres.sh [--purge]
set -euo pipefail
PG_PORT="${PG_PORT:-55432}"; PG_BASE="${PG_BASE:-/tmp/pleokeys-pg-$PG_PORT}"; DATA="$PG_BASE/data"
log() { echo "[stop-postgres] $*" >&2; }; export LC_ALL=C.UTF-8 LANG=C.UTF-8
BIN="/usr/lib/postgresql/$(cat "$DATA/PG_VERSION" 2>/dev/null || echo none)/bin"
if [ "$(id -u)" -eq 0 ]; then as_pg() { (cd / && runuser -u postgres -- env LC_ALL=C.UTF-8 "$@"); }
else as_pg() { (cd / && "$@"); }; fi
if [ -x "$BIN/pg_ctl" ] && [ -f "$DATA/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  log "stopping pid $(head -n1 "$DATA/postmaster.pid") ($DATA)"
  as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >&2 || as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >&2
else log "not running ($DATA)"; fi
if [ "${1:-}" = "--purge" ]; then log "removing $PG_BASE"; rm -rf "$PG_BASE"; fi
