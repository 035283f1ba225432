#!/usr/bin/env bash
# `make down`: stops everything `make up` started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
STATE_DIR=${STATE_DIR:-$ROOT/.local}
PIDS_FILE="$STATE_DIR/pids"
if [ ! -f "$PIDS_FILE" ]; then
  log "nothing is running"
  exit 0
fi
stop_all
log "stopped"
