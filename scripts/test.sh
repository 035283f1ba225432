#!/usr/bin/env bash
# `make test`: installs what is missing, starts the servers the tests need on
# free ports of their own (so it works beside `make up`), runs every test of
# the workspace, checks that `make up` serves the platform, and stops
# everything it started. Exits non-zero if anything failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_installed
ensure_browser

RUN_DIR=$(mktemp -d -t ticketing-test.XXXXXX)
PIDS_FILE="$RUN_DIR/pids"
cleanup() { stop_all; rm -rf "$RUN_DIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

NATS_PORT=$(free_port) REDIS_PORT=$(free_port) MONGO_PORT=$(free_port) STRIPE_PORT=$(free_port)
log "starting test servers under $RUN_DIR"
start_servers "$RUN_DIR"
export TEST_MONGO_URI="$MONGO_URI" TEST_NATS_URL="$NATS_URL" TEST_REDIS_URL="$REDIS_URL" TEST_STRIPE_URL="$STRIPE_URL"

# The browser tests start the platform as `make up` does, from these binaries.
log "building the services"
cargo build --workspace --bins

log "running the workspace's tests"
# Where the whole-system tests note a `make up` that failed and was started again.
FAILURES_LOG=target/make-up-failures.log
rm -f "$FAILURES_LOG"
status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --test-threads "${TEST_THREADS:-8}" || status=$?
else
  cargo test --workspace --no-fail-fast || status=$?
fi
if [ -s "$FAILURES_LOG" ]; then
  log "make up failed at start in these tests"
  cat "$FAILURES_LOG"
fi

log "checking the alert rules"
promtool check rules infra/k8s/base/alerts.yml || status=$?

log "checking that make up serves the platform"
"$ROOT/scripts/smoke-up.sh" || status=$?

log "fuzzing the API against openapi.json with schemathesis"
"$ROOT/scripts/fuzz-api.sh" || status=$?

log "checking the Kubernetes manifests and the release build"
"$ROOT/scripts/check-k8s.sh" || status=$?

log "running the benchmark's expiry section at a small scale"
# `make bench` itself takes 20 minutes; this keeps its binary working.
target/release/bench expiry 50 || status=$?

[ $status = 0 ] && log "all tests passed" || log "tests FAILED"
exit $status
