#!/usr/bin/env bash
# Installs what bgpmon needs to build on a fresh machine with rustup:
# the wasm32-wasip2 target for modules, and rustfmt and clippy for the checks.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo is not installed; install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
rustup target add wasm32-wasip2
rustup component add rustfmt clippy
# The end-to-end tests drive the API from Python too, with stubs generated
# from runtime/proto by grpcio-tools.
python3 -m pip install --quiet --disable-pip-version-check "grpcio==1.85.*" "grpcio-tools==1.85.*"
# The Python example module builds with componentize-py.
python3 -m pip install --quiet --disable-pip-version-check "componentize-py==0.25.1"
# The end-to-end tests compare `bgpmon read captures --format bgpdump` with
# RIPE NCC's bgpdump (the Debian package) on the shared MRT files, and make
# TLS certificates with openssl, and run two gobgpd routers (Debian's gobgpd
# package, which has gobgp too) that stream BMP to the daemon's station.
missing=()
command -v bgpdump >/dev/null 2>&1 || missing+=(bgpdump)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v gobgpd >/dev/null 2>&1 || missing+=(gobgpd)
# The C example module builds with clang for wasm32-wasi and wasi-libc.
command -v clang-19 >/dev/null 2>&1 || missing+=(clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc)
# The JavaScript example module builds with componentize-qjs, from npm.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo apt-get update
        $sudo apt-get install -y "${missing[@]}"
    else
        echo "warning: ${missing[*]} not installed and apt-get is not here; the tests that need them fail or skip" >&2
    fi
fi
# componentize-qjs, pinned by the example's package-lock.json, goes into its
# folder; tests/modules' build script builds the JavaScript guest with it.
if command -v npm >/dev/null 2>&1; then
    npm ci --silent --no-audit --no-fund --prefix example-modules/prefix-lengths-js
fi
