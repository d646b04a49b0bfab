#!/usr/bin/env bash
# Kills bgpmond with SIGKILL during ingest, 20 times by default (the gate
# runs 5), and checks after each restart that every flushed batch is stored
# and no partial one is. Usage: scripts/crash-test.sh [ITERATIONS]
# BGPMON_CRASH_SEED=N repeats a run's kill points and batches.
set -euo pipefail
cd "$(dirname "$0")/.."

export BGPMON_CRASH_ITERATIONS="${1:-20}"
cargo test --locked --test e2e crash:: -- --nocapture 2>&1 | grep -E '^(crash |test |test result)'
