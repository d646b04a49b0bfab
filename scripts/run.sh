#!/usr/bin/env bash
# Sets up a fresh machine and runs bgpmon's main job on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo run --locked -p bgpmon-server --example demo
