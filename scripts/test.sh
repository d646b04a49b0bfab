#!/usr/bin/env bash
# The gate: sets up the toolchain, then runs format, lint, doc and test checks.
# The host workspace is built once for the tests (dev profile); clippy and doc
# only check. Guests are built for wasm32-wasip2 by tests/modules' build script.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "setup"
scripts/setup.sh

step "cargo fmt"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --document-private-items --locked

step "cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked 2>&1 | tee "$log"

step "done"
# One closing line for every test binary together.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "total: %d passed, %d failed\n", passed, failed }' "$log"
