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
PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
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

trap 'log "stopping"; stop_all; rm -f "$STATE_DIR/up.pid"' EXIT
trap 'exit 0' INT TERM
# `make down` stops this script first, so that its supervision cannot start
# again a service that make down has just stopped.
echo $$ >"$STATE_DIR/up.pid"

export NATS_PREFIX=${NATS_PREFIX:-ticketing}
# NATS holds every service to its own subjects, as in the cluster.
write_nats_accounts "$STATE_DIR" "$ROOT/target/$PROFILE/ops"
log "starting the servers (data in $STATE_DIR)"
start_servers "$STATE_DIR"

# A development signing key, kept across runs so sessions survive a restart.
if [ -z "${JWT_KEY:-}" ]; then
  [ -s "$STATE_DIR/jwt_key" ] || head -c 32 /dev/urandom | base64 >"$STATE_DIR/jwt_key"
  JWT_KEY=$(cat "$STATE_DIR/jwt_key")
fi
# The secret localstripe signs its webhooks with, and the webhook itself,
# through the proxy as Stripe reaches it through the ingress.
if [ -z "${STRIPE_WEBHOOK_SECRET:-}" ]; then
  [ -s "$STATE_DIR/webhook_secret" ] || echo "whsec_$(head -c 24 /dev/urandom | base64 | tr -dc A-Za-z0-9)" >"$STATE_DIR/webhook_secret"
  STRIPE_WEBHOOK_SECRET=$(cat "$STATE_DIR/webhook_secret")
fi
export STRIPE_WEBHOOK_SECRET
curl -fsS -o /dev/null -X POST "$STRIPE_URL/_config/webhooks/ticketing" \
  --data-urlencode "url=http://127.0.0.1:$HTTP_PORT/api/payments/webhook" \
  --data-urlencode "secret=$STRIPE_WEBHOOK_SECRET" || die "localstripe refused the webhook"

export HOST=127.0.0.1 MONGO_URI NATS_URL JWT_KEY DEV_MODE=true RUST_LOG=${RUST_LOG:-info}
export REDIS_URL STRIPE_API_BASE="$STRIPE_URL"
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
  # Each event service signs in to NATS as itself; the client uses no NATS.
  user='' password=''
  if [ -f "$STATE_DIR/nats-users/$service" ]; then
    user=$service password=$(cat "$STATE_DIR/nats-users/$service")
  fi
  PORT=$port MONGO_DB=$service NATS_USER=$user NATS_PASSWORD=$password \
    spawn "$service" "$LOGS/$service.log" "$ROOT/target/$PROFILE/$service"
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

# Prometheus scrapes every service every 5 s, as the cluster's does (by the
# pods' annotations), and evaluates the same alert rules.
ensure_port_free prometheus "$PROMETHEUS_PORT"
mkdir -p "$STATE_DIR/prometheus"
{
  printf 'global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n'
  printf 'rule_files:\n- %s\n' "$ROOT/infra/k8s/base/alerts.yml"
  printf 'scrape_configs:\n- job_name: ticketing\n  static_configs:\n'
  for service in "${SERVICES[@]}"; do
    printf -- '  - targets: ["127.0.0.1:%s"]\n    labels: {service: %s}\n' "$(port_of "$service")" "$service"
  done
} >"$STATE_DIR/prometheus/prometheus.yml"
spawn prometheus "$LOGS/prometheus.log" prometheus \
  --config.file="$STATE_DIR/prometheus/prometheus.yml" \
  --storage.tsdb.path="$STATE_DIR/prometheus/data" \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
wait_http prometheus "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" "$LOGS/prometheus.log"

cat <<MSG

  The platform is up:  http://localhost:$HTTP_PORT
  Prometheus:          http://localhost:$PROMETHEUS_PORT
  Logs:                $LOGS/
  NATS, for ops:       NATS_URL=$NATS_URL NATS_USER=ops NATS_PASSWORD=\$(cat $STATE_DIR/nats-users/ops)
  Stop it with Ctrl-C, or \`make down\` from another terminal.

MSG

# Supervision, as Kubernetes' liveness probe does it: a service whose
# process exited, or whose /healthz answers 503 (one of its background
# tasks stopped), is started again, at most every few seconds. One that
# answers nothing (busy, or stopped with SIGSTOP) is left alone. A service
# stopped on purpose is marked with $RESTART_DIR/NAME.stopped.
declare -A next_start backoff
pid_of() { awk -v name="$1" '$2 == name { pid = $1 } END { print pid }' "$PIDS_FILE"; }
start_again() {
  local service=$1 now=$SECONDS
  [ "${next_start[$service]:-0}" -le "$now" ] || return 0
  backoff[$service]=$(( ${backoff[$service]:-1} * 2 > 30 ? 30 : ${backoff[$service]:-1} * 2 ))
  next_start[$service]=$(( now + ${backoff[$service]} ))
  bash "$RESTART_DIR/$service" </dev/null &
  echo "$! $service" >>"$PIDS_FILE"
}
while true; do
  for service in "${SERVICES[@]}"; do
    [ -e "$RESTART_DIR/$service.stopped" ] && continue
    pid=$(pid_of "$service")
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$service has exited; starting it again (its log: $LOGS/$service.log)"
      start_again "$service"
      continue
    fi
    health="http://127.0.0.1:$(port_of "$service")/healthz"
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$health" 2>/dev/null || true)
    if [ "$status" = 503 ]; then
      log "$service is not live ($(curl -s --max-time 2 "$health" 2>/dev/null)); starting it again"
      kill -KILL "$pid" 2>/dev/null || true
      start_again "$service"
    elif [ "$status" = 200 ]; then
      backoff[$service]=1
    fi
  done
  sleep 1
done
