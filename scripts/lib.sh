# Helpers shared by scripts/up.sh and scripts/test.sh: install what is
# missing, pick free ports, start the servers and wait until they answer.
# Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# schemathesis fuzzes the platform against openapi.json (`scripts/fuzz-api.sh`).
SCHEMATHESIS_VERSION=4.32.5
PYTHON_PACKAGES=(--pre "SecantusDB" "localstripe" "kubernetes-validate" "schemathesis==$SCHEMATHESIS_VERSION")

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: nats-server, redis-server, nginx.
ensure_debian_packages() {
  local missing=()
  command -v nats-server >/dev/null || missing+=(nats-server)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v curl >/dev/null || missing+=(curl)
  # Prometheus, with promtool, which checks the alert rules.
  command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} from Debian"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian starts redis and nginx as system services on install; we run our own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
    as_root systemctl stop nginx || true
  fi
}

# SecantusDB (MongoDB wire protocol), localstripe, and kubernetes-validate
# for the manifests, in a venv inside the repo.
ensure_python_packages() {
  if [ ! -x "$VENV/bin/secantusd-py" ] || [ ! -x "$VENV/bin/kubernetes-validate" ] ||
     ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" ||
     ! "$VENV/bin/python" -c 'import localstripe' 2>/dev/null; then
    log "installing SecantusDB, localstripe, kubernetes-validate and schemathesis into .venv"
    python3 -m venv "$VENV" 2>/dev/null || {
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$VENV"
    }
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PYTHON_PACKAGES[@]}"
  fi
}

# Debian's Chromium and its driver, for the browser tests (`make test` only).
ensure_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "installing chromium and chromium-driver from Debian"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  fi
}

# SecantusDB's Rust build, about six times faster than the Python one, for
# the benchmark. It builds WiredTiger with cmake: about 6 minutes, once.
SECANTUS_RS_VERSION=0.5.3-beta.193
ensure_secantus_rs() {
  if ! secantusd-rs --version 2>/dev/null | grep -q "$SECANTUS_RS_VERSION"; then
    command -v cmake >/dev/null || {
      log "installing cmake from Debian"
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cmake >/dev/null
    }
    log "building secantusd-rs $SECANTUS_RS_VERSION (about 6 minutes, once)"
    cargo install --quiet secantus-mdb --version "$SECANTUS_RS_VERSION" --ignore-rust-version
  fi
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is not installed (https://rustup.rs)"
}

ensure_installed() {
  ensure_debian_packages
  ensure_python_packages
  ensure_rust
}

# A TCP port nothing listens on right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# port_open PORT: whether something accepts connections on 127.0.0.1:PORT
# within a second. Every wait here is bounded: bash runs a trap (up.sh's
# Ctrl-C) only once the command in hand has returned.
port_open() { timeout 1 bash -c ': <>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null; }

# wait_port NAME PORT LOG [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
  local name=$1 port=$2 logfile=$3 seconds=${4:-60} i
  for ((i = 0; i < seconds * 10; i++)); do
    if port_open "$port"; then return 0; fi
    sleep 0.1
  done
  echo "--- last lines of $logfile" >&2; tail -n 30 "$logfile" >&2 || true
  die "$name did not answer on port $port within ${seconds}s"
}

# wait_http NAME URL LOG [SECONDS]: until URL answers 2xx.
wait_http() {
  local name=$1 url=$2 logfile=$3 seconds=${4:-60} i
  for ((i = 0; i < seconds * 10; i++)); do
    if curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "--- last lines of $logfile" >&2; tail -n 30 "$logfile" >&2 || true
  die "$name did not become ready at $url within ${seconds}s"
}

# ensure_port_free NAME PORT: refuse to start on a port another program holds,
# which would otherwise answer our readiness checks in our server's place.
ensure_port_free() {
  if port_open "$2"; then
    die "port $2 for $1 is already in use (another $1, or an earlier run: make down); choose another with ${1^^}_PORT"
  fi
}

# Every process started through `spawn` is listed in $PIDS_FILE. With
# $RESTART_DIR set, `spawn` also writes $RESTART_DIR/NAME, a script that starts the
# process again as it was started (environment included), for the tests
# that kill a process and bring it back.
spawn() {
  local name=$1 logfile=$2; shift 2
  if [ -n "${RESTART_DIR:-}" ]; then
    mkdir -p "$RESTART_DIR"
    { export -p; printf 'exec'; printf ' %q' "$@"; printf ' >>%q 2>&1\n' "$logfile"; } >"$RESTART_DIR/$name"
  fi
  "$@" >"$logfile" 2>&1 &
  echo "$! $name" >>"$PIDS_FILE"
}

# Stops everything in $PIDS_FILE, newest first: TERM, then KILL after a grace period.
stop_all() {
  [ -f "$PIDS_FILE" ] || return 0
  local pids name pid i
  pids=$(tac "$PIDS_FILE" | awk '{print $1}')
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 150; i++)); do
    local alive=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$PIDS_FILE"
}

# write_nats_accounts DIR OPS: the NATS accounts for $NATS_PREFIX, as the
# event catalogue gives them (OPS is the `ops` binary): a fresh random
# password per user in DIR/nats-users/USER (each service signs in as
# itself, tools and tests as `ops`), the file of them the accounts include
# (DIR/nats-users.conf), and the accounts in DIR/nats-accounts.conf, which
# NATS_CONFIG names for start_servers.
write_nats_accounts() {
  local dir=$1 ops=$2
  "$ops" nats-users --fresh --passwords-from "$dir/nats-users" --out "$dir/nats-users.conf" >/dev/null
  "$ops" nats-config --prefix "$NATS_PREFIX" --stream "${NATS_STREAM:-TICKETING}" \
    --include nats-users.conf --out "$dir/nats-accounts.conf" >/dev/null
  NATS_CONFIG="$dir/nats-accounts.conf"
}

# NATS_CLUSTER=3: three nats-servers clustered on loopback, as the prod
# overlay runs them: clients on $NATS_PORT, $NATS_2_PORT and $NATS_3_PORT
# (free ones when unset), processes nats-server, nats-server-2 and
# nats-server-3 (server names n1, n2, n3), the stream at three replicas.
# Returns once each server's JetStream is healthy.
start_nats_cluster() {
  local dir=$1 i routes=() names=(nats-server nats-server-2 nats-server-3)
  : "${NATS_2_PORT:=$(free_port)}" "${NATS_3_PORT:=$(free_port)}"
  local clients=("$NATS_PORT" "$NATS_2_PORT" "$NATS_3_PORT") monitors=()
  for i in 0 1 2; do routes+=("$(free_port)"); monitors+=("$(free_port)"); done
  local all_routes
  all_routes=$(printf 'nats://127.0.0.1:%s,' "${routes[@]}")
  for i in 0 1 2; do
    ensure_port_free "${names[$i]}" "${clients[$i]}"
    mkdir -p "$dir/nats-$((i + 1))"
    spawn "${names[$i]}" "$dir/logs/${names[$i]}.log" nats-server ${NATS_CONFIG:+-c "$NATS_CONFIG"} \
      -a 127.0.0.1 -p "${clients[$i]}" \
      -m "${monitors[$i]}" -n "n$((i + 1))" -js -sd "$dir/nats-$((i + 1))" \
      --cluster_name ticketing --cluster "nats://127.0.0.1:${routes[$i]}" --routes "${all_routes%,}"
  done
  for i in 0 1 2; do
    wait_http "${names[$i]}" "http://127.0.0.1:${monitors[$i]}/healthz" "$dir/logs/${names[$i]}.log"
  done
  NATS_URL=$(printf 'nats://127.0.0.1:%s,' "${clients[@]}")
  NATS_URL=${NATS_URL%,}
  export NATS_STREAM_REPLICAS=3
}

# start_servers DIR: NATS, Redis, SecantusDB and localstripe with data under
# DIR, on $NATS_PORT $REDIS_PORT $MONGO_PORT $STRIPE_PORT. With NATS_CONFIG
# set (write_nats_accounts), NATS asks its clients to sign in.
start_servers() {
  local dir=$1
  mkdir -p "$dir/nats" "$dir/redis" "$dir/mongo" "$dir/logs"
  ensure_port_free nats "$NATS_PORT"
  ensure_port_free redis "$REDIS_PORT"
  ensure_port_free mongo "$MONGO_PORT"
  ensure_port_free stripe "$STRIPE_PORT"
  if [ "${NATS_CLUSTER:-1}" = 3 ]; then
    start_nats_cluster "$dir"
  else
    spawn nats-server "$dir/logs/nats.log" nats-server ${NATS_CONFIG:+-c "$NATS_CONFIG"} -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$dir/nats"
  fi
  spawn redis-server "$dir/logs/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
    --dir "$dir/redis" --save '' --appendonly yes
  # MONGO_SERVER=rust runs SecantusDB's Rust build (`make bench` does).
  local mongod="$VENV/bin/secantusd-py"
  [ "${MONGO_SERVER:-python}" = rust ] && mongod=$(command -v secantusd-rs)
  spawn secantusdb "$dir/logs/mongo.log" "$mongod" --host 127.0.0.1 --port "$MONGO_PORT" \
    --storage-path "$dir/mongo" --log-level WARNING
  # localstripe as scripts/run-localstripe.py runs it: its store in memory, and
  # confirming an intent with another card, as Stripe does.
  spawn localstripe "$dir/logs/localstripe.log" "$VENV/bin/python" "$ROOT/scripts/run-localstripe.py" "$STRIPE_PORT"
  wait_port nats-server "$NATS_PORT" "$dir/logs/nats$([ "${NATS_CLUSTER:-1}" = 3 ] && echo -server).log"
  wait_port redis-server "$REDIS_PORT" "$dir/logs/redis.log"
  wait_port SecantusDB "$MONGO_PORT" "$dir/logs/mongo.log" 120
  wait_port localstripe "$STRIPE_PORT" "$dir/logs/localstripe.log"
  MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT/?directConnection=true&retryWrites=false"
  [ "${NATS_CLUSTER:-1}" = 3 ] || NATS_URL="nats://127.0.0.1:$NATS_PORT"
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  STRIPE_URL="http://127.0.0.1:$STRIPE_PORT"
}
