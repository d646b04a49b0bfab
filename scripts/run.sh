#!/usr/bin/env bash
# Sets up a fresh machine and runs bgpmon's main job on the embedded default:
# builds the daemon, the client and the example modules, starts bgpmond with
# etc/bgpmond.toml (a redb store in bgpmon-data/), loads an MRT archive,
# queries it, runs origin-stats over it, and keeps the daemon serving until
# Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --locked --bins
cargo build --locked --release --target wasm32-wasip2 -p origin-stats -p example-daemon
mkdir -p bgpmon-data/modules
cp target/wasm32-wasip2/release/origin_stats.wasm target/wasm32-wasip2/release/example_daemon.wasm bgpmon-data/modules/

bgpmon=target/debug/bgpmon
target/debug/bgpmond --config etc/bgpmond.toml 2> bgpmon-data/bgpmond.log &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon' EXIT
for _ in $(seq 100); do
    grep -q "serving gRPC" bgpmon-data/bgpmond.log && break
    sleep 0.1
done
grep "^bgpmond:" bgpmon-data/bgpmond.log

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
echo "bgpmond is serving on 127.0.0.1:12289 (metrics on http://127.0.0.1:12290/metrics); Ctrl-C stops it"
wait $daemon
