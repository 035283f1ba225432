#!/usr/bin/env bash
# `make down`: stops everything `make up` started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
STATE_DIR=${STATE_DIR:-$ROOT/.local}
PIDS_FILE="$STATE_DIR/pids"
# make up itself first: it stops what it started when it ends, and it must
# not start again (as its supervision does) what is being stopped.
if [ -f "$STATE_DIR/up.pid" ]; then
  up=$(cat "$STATE_DIR/up.pid")
  kill -TERM "$up" 2>/dev/null || true
  # It acts on TERM between commands (a health check takes at most 2 s),
  # then stops each process within 15 s.
  for ((i = 0; i < 300; i++)); do kill -0 "$up" 2>/dev/null || break; sleep 0.1; done
  rm -f "$STATE_DIR/up.pid"
  stopped_up=1
fi
if [ ! -f "$PIDS_FILE" ]; then
  if [ -n "${stopped_up:-}" ]; then log "stopped"; else log "nothing is running"; fi
  exit 0
fi
stop_all
log "stopped"
