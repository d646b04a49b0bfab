#!/usr/bin/env bash
# The gate: sets up the toolchain, then runs format, lint, doc and test checks.
# The host workspace is built once for the tests (dev profile); clippy and doc
# only check. Guests are built for wasm32-wasip2 by tests/modules' build script
# and linted for wasm32-wasip2 here. Tests that cannot run for a missing
# ../shared (or a tool setup.sh installs) are counted apart from passes, and
# with CI=true they fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "setup"
scripts/setup.sh

if [ "${CI:-}" = true ] && [ ! -d ../shared/data/mrt ]; then
    echo "error: CI=true but ../shared/data/mrt is missing, so the tests on real MRT data cannot run; check out ../shared beside this repository" >&2
    exit 1
fi

step "cargo fmt"
cargo fmt --all --check

step "cargo clippy (host)"
cargo clippy --all-targets --locked -- -D warnings

step "cargo clippy (guests, wasm32-wasip2)"
# Every workspace member outside default-members is a guest or the guest SDK.
guests=$(cargo metadata --locked --no-deps --format-version 1 | python3 -c '
import json, sys
m = json.load(sys.stdin)
default = set(m["workspace_default_members"])
print(" ".join("-p " + p["name"] for p in m["packages"] if p["id"] not in default))
')
# shellcheck disable=SC2086 # one word per -p and package name
cargo clippy --locked --target wasm32-wasip2 $guests --all-targets -- -D warnings
# The hijack detector's module glue only builds for guests.
cargo clippy --locked --target wasm32-wasip2 -p hijack-core --features guest -- -D warnings

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --document-private-items --locked

log=$(mktemp)
skips=$(mktemp)
trap 'rm -f "$log" "$skips"' EXIT
export BGPMON_SKIP_LOG="$skips"

step "cargo test"
cargo test --locked 2>&1 | tee "$log"

step "guest SDK doctests"
cargo test --locked -p bgpmon-guest --doc 2>&1 | tee -a "$log"

step "done"
# A test may skip more than once; count each test once. Lines read
# "SKIPPED: <test>: <reason>".
skipped=$(awk -F': ' '{ print $2 }' "$skips" | sort -u | wc -l)
if [ "$skipped" -gt 0 ]; then
    echo "skipped tests (they ran no check and are not counted as passed):"
    sort -u "$skips"
fi
# One closing line for every test binary together.
awk -v skipped="$skipped" '/^test result:/ { passed += $4; failed += $6 }
    END { printf "total: %d passed, %d skipped, %d failed\n", passed - skipped, skipped, failed }' "$log"
