#!/usr/bin/env bash
# The deployment side, as far as a machine without a cluster can check it:
# every overlay renders with kustomize and validates against the Kubernetes
# 1.30 schemas, `ops check` holds them to the platform's rules, and the
# release binaries of every service build. Part of `make test`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

command -v kubectl >/dev/null ||
  die "kubectl 1.32 or later (with kustomize 5) is needed to render infra/k8s; Debian's kubernetes-client is too old"

RENDERED=$(mktemp -d -t ticketing-k8s.XXXXXX)
trap 'rm -rf "$RENDERED"' EXIT
for overlay in base dev prod; do
  kubectl kustomize "infra/k8s/$overlay" >"$RENDERED/$overlay.yaml"
  "$VENV/bin/kubernetes-validate" --kubernetes-version 1.30.0 --strict --quiet "$RENDERED/$overlay.yaml" ||
    die "infra/k8s/$overlay does not validate against Kubernetes 1.30"
  log "infra/k8s/$overlay validates against Kubernetes 1.30"
done

cargo run --quiet -p ops -- check

log "building the release binaries"
cargo build --release --workspace --bins
