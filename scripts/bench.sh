#!/usr/bin/env bash
# `make bench`: the benchmark binary against the whole platform from release
# builds, on SecantusDB's Rust server. Prints a table and writes BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_installed
ensure_secantus_rs
export PATH="$HOME/.cargo/bin:$PATH" MONGO_SERVER=rust
cargo build --quiet --release --workspace --bins
target/release/bench
