#!/usr/bin/env bash
# Fuzzes the platform against its own contract: `make up` on free ports and a
# fresh state folder, then schemathesis with openapi.json over every
# operation, signed in (scripts/schemathesis_hooks.py), with the stateful
# links of a purchase. Any server error, undocumented status, wrong content
# type or answer outside its schema fails it. Part of `make test`; alone:
# `scripts/fuzz-api.sh` (FUZZ_EXAMPLES sets the examples per operation).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_installed

STATE_DIR=$(mktemp -d -t ticketing-fuzz.XXXXXX)
export STATE_DIR
for name in HTTP NATS REDIS MONGO STRIPE CLIENT AUTH TICKETS ORDERS PAYMENTS EXPIRATION PROMETHEUS; do
  export "${name}_PORT=$(free_port)"
done
# One admin, so that what admins do is fuzzed beyond its 403.
export FUZZ_ADMIN_EMAIL=fuzz-admin@example.com
export ADMIN_EMAILS="$FUZZ_ADMIN_EMAIL"
"$ROOT/scripts/up.sh" >"$STATE_DIR/up.log" 2>&1 &
up_pid=$!
stop() { "$ROOT/scripts/down.sh" >/dev/null 2>&1 || true; wait $up_pid 2>/dev/null || true; }
trap stop EXIT

for ((i = 0; i < 3000; i++)); do
  kill -0 $up_pid 2>/dev/null || { tail -n 40 "$STATE_DIR/up.log" >&2; die "make up exited early"; }
  grep -q "http://localhost:$HTTP_PORT" "$STATE_DIR/up.log" && break
  sleep 0.1
done
grep -q "http://localhost:$HTTP_PORT" "$STATE_DIR/up.log" || die "make up did not print the URL"

export FUZZ_BASE_URL="http://127.0.0.1:$HTTP_PORT"
export SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$ROOT/scripts"
log "fuzzing $FUZZ_BASE_URL with openapi.json"
status=0
"$VENV/bin/schemathesis" --no-color run "$FUZZ_BASE_URL/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${FUZZ_EXAMPLES:-100}" --workers 2 --seed "${FUZZ_SEED:-$RANDOM}" \
  || status=$?
if [ $status != 0 ]; then
  log "the services' logs are under $STATE_DIR/logs"
  cp -r "$STATE_DIR/logs" "$ROOT/target/fuzz-logs" 2>/dev/null || true
fi
exit $status
