#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ for SECONDS each (default 600), on
# nightly Rust with libFuzzer. Seeds: fuzz/corpus/<target>, and for the MRT
# target the first records of every ../shared MRT file, decompressed (in a
# temporary folder; shared data never enters the repository). A crasher is
# copied into fuzz/regressions/<target>/, where the stable replay test
# (tests/fuzz-checks) runs it in CI from then on.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(capture_wire filter config mrt bmp)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/fuzz/target}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -d ../shared/data/mrt ]; then
    mkdir -p "$work/seeds-mrt"
    python3 - "$work/seeds-mrt" ../shared/data/mrt <<'PY'
import bz2, gzip, os, struct, sys
out, folder = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    if name.endswith(".md"):
        continue
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    try:
        data = opener(path, "rb").read(1 << 20)
    except (OSError, EOFError):
        continue
    # Up to 64 seeds of one to four whole records each.
    off, seeds = 0, 0
    while off + 12 <= len(data) and seeds < 64:
        end, count = off, 0
        while end + 12 <= len(data) and count < 1 + seeds % 4:
            end += 12 + struct.unpack(">I", data[end + 8:end + 12])[0]
            count += 1
        if end > len(data):
            break
        with open(os.path.join(out, f"{name}-{seeds}"), "wb") as f:
            f.write(data[off:end])
        off, seeds = end, seeds + 1
PY
fi

found=0
cd fuzz
for target in "${targets[@]}"; do
    corpus="$work/corpus-$target"
    mkdir -p "$corpus" "../fuzz/regressions/$target"
    seeds=("corpus/$target")
    [ "$target" = mrt ] && [ -d "$work/seeds-mrt" ] && seeds+=("$work/seeds-mrt")
    echo "== $target: ${seconds}s"
    log="$work/$target.log"
    # A crash ends the run early; the next target still runs.
    cargo +nightly fuzz run -O "$target" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 \
        -artifact_prefix="$work/crash-$target-" >"$log" 2>&1 || true
    grep -E '^(Done [0-9]+ runs|==[0-9]+== ERROR|thread .* panicked)' "$log" | sed "s/^/$target: /" || true
    grep -A2 'panicked at' "$log" | head -3 || true
    for crash in "$work"/crash-"$target"-*; do
        [ -e "$crash" ] || continue
        cp "$crash" "regressions/$target/"
        found=1
        echo "$target: crasher kept as fuzz/regressions/$target/$(basename "$crash")"
    done
done
if [ "$found" = 1 ]; then
    echo "crashers found: fix them, then keep them in fuzz/regressions" >&2
    exit 1
fi
