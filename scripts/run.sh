#!/usr/bin/env bash
# Sets up a fresh machine and runs bgpmon's main job on the embedded default:
# builds the daemon and the client (release) and the example modules, starts
# bgpmond with etc/bgpmond.toml (a redb store in bgpmon-data/), loads an MRT
# archive, queries it, runs origin-stats over it, and keeps the daemon
# serving until Ctrl-C or SIGTERM, which stop it cleanly.
#
# Readiness is the daemon's "bgpmond: serving gRPC on ADDR" line, waited for
# without a time limit (compiling modules at startup can take minutes on a
# slow machine); if the daemon exits first, the script prints its log and
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --locked --release --bins
cargo build --locked --release --target wasm32-wasip2 -p origin-stats -p example-daemon

target=${CARGO_TARGET_DIR:-target}
mkdir -p bgpmon-data/modules
cp "$target/wasm32-wasip2/release/origin_stats.wasm" \
    "$target/wasm32-wasip2/release/example_daemon.wasm" bgpmon-data/modules/

bgpmon=$target/release/bgpmon
log=bgpmon-data/bgpmond.log
# In its own session, so a Ctrl-C at the terminal reaches only this script,
# which stops the daemon once (a second signal would make it exit at once).
setsid "$target/release/bgpmond" --config etc/bgpmond.toml 2> "$log" &
daemon=$!

stop_daemon() {
    if kill -0 "$daemon" 2> /dev/null; then
        echo "stopping bgpmond (pid $daemon)" >&2
        kill -TERM "$daemon" 2> /dev/null || true
    fi
    wait "$daemon" 2> /dev/null || true
}
on_signal() {
    trap - INT TERM EXIT
    stop_daemon
    exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap stop_daemon EXIT

until grep -q "^bgpmond: serving gRPC on " "$log"; do
    if ! kill -0 "$daemon" 2> /dev/null; then
        status=0
        wait "$daemon" || status=$?
        trap - EXIT
        echo "error: bgpmond exited with status $status before serving; its log ($log):" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.2
done
grep "^bgpmond:" "$log"
BGPMON_ADDR=$(sed -n 's/^bgpmond: serving gRPC on //p' "$log" | head -n 1)
export BGPMON_ADDR
metrics=$(sed -n 's/^bgpmond: serving metrics on //p' "$log" | head -n 1)

session=$($bgpmon session open local)
echo "opened session $session"
mrt=../shared/data/mrt/ris-rrc00.updates.20190101.0000.gz
if [ -f "$mrt" ]; then
    $bgpmon write captures "$session" "$mrt"
else
    echo "no $mrt here; loading nothing (give your own MRT files to bgpmon write captures)"
fi
echo "captures stored: $($bgpmon read count "$session")"
echo "announcements of 193.0.0.0/8 and more specific ones, first five:"
$bgpmon read captures "$session" --prefix 193.0.0.0/8 --match more --format psv | head -5
$bgpmon module types
$bgpmon module run origin-stats top-origins --opt session="$session" --opt top=5 --grant "$session" --wait

echo
echo "bgpmond is serving on $BGPMON_ADDR (metrics on ${metrics:-no metrics endpoint}); Ctrl-C stops it"
wait "$daemon"
