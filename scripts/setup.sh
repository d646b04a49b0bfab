#!/usr/bin/env bash
# Installs what bgpmon needs to build on a fresh machine with rustup:
# the wasm32-wasip2 target for modules, and rustfmt and clippy for the checks.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo is not installed; install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
rustup target add wasm32-wasip2
rustup component add rustfmt clippy
# The end-to-end tests drive the API from Python too, with stubs generated
# from runtime/proto by grpcio-tools.
python3 -m pip install --quiet --disable-pip-version-check "grpcio==1.85.*" "grpcio-tools==1.85.*"
