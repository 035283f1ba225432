#!/usr/bin/env bash
# `make up`: the whole platform on this machine. Installs what is missing,
# starts the servers on 127.0.0.1 with their data under .local/, builds and
# starts the services, and serves everything on one origin through nginx,
# whose route table mirrors the Kubernetes ingress. Logs go to .local/logs/.
# Ctrl-C or `make down` stops everything it started.
#
# Every port, EXPIRATION_WINDOW_SECONDS and PROFILE can be set from the environment.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

STATE_DIR=${STATE_DIR:-$ROOT/.local}
HTTP_PORT=${HTTP_PORT:-8080}
NATS_PORT=${NATS_PORT:-4222} REDIS_PORT=${REDIS_PORT:-6379}
MONGO_PORT=${MONGO_PORT:-27017} STRIPE_PORT=${STRIPE_PORT:-8420}
CLIENT_PORT=${CLIENT_PORT:-3100} AUTH_PORT=${AUTH_PORT:-3101} TICKETS_PORT=${TICKETS_PORT:-3102}
ORDERS_PORT=${ORDERS_PORT:-3103} PAYMENTS_PORT=${PAYMENTS_PORT:-3104} EXPIRATION_PORT=${EXPIRATION_PORT:-3105}
# The services this stage of the platform has; later ones join the list.
SERVICES=(auth tickets orders expiration payments client)

PIDS_FILE="$STATE_DIR/pids"
RESTART_DIR="$STATE_DIR/run"
LOGS="$STATE_DIR/logs"
mkdir -p "$STATE_DIR" "$LOGS"
if [ -f "$PIDS_FILE" ]; then
  while read -r pid _; do
    kill -0 "$pid" 2>/dev/null && die "the platform is already running (make down stops it)"
  done <"$PIDS_FILE"
  rm -f "$PIDS_FILE"
fi

ensure_installed

# PROFILE=release runs optimised builds (`make bench` does).
PROFILE=${PROFILE:-debug}
log "building the services ($PROFILE)"
# The same selection as `make test` builds, so that neither rebuilds for the other.
if [ "$PROFILE" = release ]; then
  cargo build --quiet --release --workspace --bins
else
  cargo build --quiet --workspace --bins
fi

trap 'log "stopping"; stop_all' EXIT
trap 'exit 0' INT TERM

log "starting the servers (data in $STATE_DIR)"
start_servers "$STATE_DIR"

# A development signing key, kept across runs so sessions survive a restart.
if [ -z "${JWT_KEY:-}" ]; then
  [ -s "$STATE_DIR/jwt_key" ] || head -c 32 /dev/urandom | base64 >"$STATE_DIR/jwt_key"
  JWT_KEY=$(cat "$STATE_DIR/jwt_key")
fi
export HOST=127.0.0.1 MONGO_URI NATS_URL JWT_KEY DEV_MODE=true RUST_LOG=${RUST_LOG:-info}
export NATS_PREFIX=${NATS_PREFIX:-ticketing} REDIS_URL STRIPE_API_BASE="$STRIPE_URL"
# localstripe takes any key of the right shape, and serves a stand-in for Stripe.js.
export STRIPE_SECRET_KEY=${STRIPE_SECRET_KEY:-sk_test_localstripe}
export STRIPE_PUBLISHABLE_KEY=${STRIPE_PUBLISHABLE_KEY:-pk_test_localstripe}
export STRIPE_JS_URL="$STRIPE_URL/js.stripe.com/v3/"
# The client reaches the APIs through the proxy, as it does through the ingress.
export API_BASE_URL="http://127.0.0.1:$HTTP_PORT"
export EXPIRATION_WINDOW_SECONDS=${EXPIRATION_WINDOW_SECONDS:-900}

port_of() { local var="${1^^}_PORT"; echo "${!var}"; }
ensure_port_free http "$HTTP_PORT"
for service in "${SERVICES[@]}"; do ensure_port_free "$service" "$(port_of "$service")"; done
for service in "${SERVICES[@]}"; do
  port=$(port_of "$service")
  PORT=$port MONGO_DB=$service spawn "$service" "$LOGS/$service.log" "$ROOT/target/$PROFILE/$service"
done
for service in "${SERVICES[@]}"; do
  wait_http "$service" "http://127.0.0.1:$(port_of "$service")/readyz" "$LOGS/$service.log"
done

mkdir -p "$STATE_DIR/nginx"
sed -e "s|@STATE@|$STATE_DIR|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
  -e "s|@CLIENT_PORT@|$CLIENT_PORT|g" -e "s|@AUTH_PORT@|$AUTH_PORT|g" -e "s|@TICKETS_PORT@|$TICKETS_PORT|g" \
  -e "s|@ORDERS_PORT@|$ORDERS_PORT|g" -e "s|@PAYMENTS_PORT@|$PAYMENTS_PORT|g" \
  -e "s|@USER@|$([ "$(id -u)" = 0 ] && echo 'user root;')|" \
  "$ROOT/scripts/nginx.conf.template" >"$STATE_DIR/nginx/nginx.conf"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
spawn nginx "$LOGS/nginx.log" "$NGINX" -p "$STATE_DIR/nginx" -c "$STATE_DIR/nginx/nginx.conf" -e "$LOGS/nginx-error.log"
wait_port nginx "$HTTP_PORT" "$LOGS/nginx-error.log"

cat <<MSG

  The platform is up:  http://localhost:$HTTP_PORT
  Logs:                $LOGS/
  Stop it with Ctrl-C, or \`make down\` from another terminal.

MSG
wait
