#!/usr/bin/env bash
# Synth benchmark: prints whole-process wall time and peak memory of
#   1. the platform app (release build), and a synthetic app of 10 stacks x 500 resources (release build);
#   2. the user's loop: touch one stack, then `cargo run -- synth` (incremental debug rebuild + run);
#   3. with --cold, a cold debug build of the platform in a fresh target directory (what a fresh clone pays).
# Targets: platform under 20 ms, synthetic under 200 ms, edit-then-synth under 3 s on the 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Wall time in ms and peak RSS in MB of one command, best and median over $runs runs.
measure() {
  local label=$1; shift
  local times=() mems=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$out/mem" "$@" >/dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
    mems+=("$(cat "$out/mem")")
  done
  local sorted_t sorted_m
  sorted_t=($(printf '%s\n' "${times[@]}" | sort -n))
  sorted_m=($(printf '%s\n' "${mems[@]}" | sort -n))
  awk -v l="$label" -v b="${sorted_t[0]}" -v m="${sorted_t[$((runs / 2))]}" -v r="${sorted_m[$((runs / 2))]}" -v n="$runs" \
    'BEGIN { printf "%-50s best %7.1f ms  median %7.1f ms  peak RSS %6.1f MB  (%d runs)\n", l, b / 1000, m / 1000, r / 1024, n }'
}

cargo build --release --quiet -p stacks
cargo build --release --quiet -p cfnkit --example synthetic
measure "platform synth (release, whole process)" target/release/stacks synth --out "$out/platform"
resources=$(grep -c '"Type"' "$out"/platform/*.template.json | awk -F: '{s+=$2} END {print s}')
echo "  platform: $(ls "$out"/platform/*.template.json | wc -l) stacks, $resources resources"
measure "synthetic 10 x 500 synth (release, whole process)" target/release/examples/synthetic synth --out "$out/synthetic"
echo "  synthetic: $(grep -c '"Type": "AWS::SQS::Queue"' "$out"/synthetic/*.template.json | awk -F: '{s+=$2} END {print s}') resources"

# The edit loop: change one stack's source, rebuild incrementally and synth, as `cargo run -- synth` does.
cargo build --quiet
edit_runs=${EDIT_RUNS:-5}
for i in $(seq "$edit_runs"); do
  touch stacks/src/order.rs
  start=$(date +%s%N)
  cargo run --quiet -- synth --out "$out/loop" >/dev/null
  end=$(date +%s%N)
  echo "edit one stack, then cargo run -- synth: $(( (end - start) / 1000000 )) ms"
done

if [ "${1:-}" = "--cold" ]; then
  start=$(date +%s%N)
  CARGO_TARGET_DIR="$out/cold-target" cargo build --quiet -p stacks
  end=$(date +%s%N)
  echo "cold debug build of the platform (fresh target dir, crates already downloaded): $(( (end - start) / 1000000 )) ms"
fi
