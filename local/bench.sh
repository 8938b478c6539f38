#!/usr/bin/env bash
# Time from `cargo cfn local` to its ready line, warm: the first run builds the handlers and is not counted.
# Each counted run synthesizes the app, checks the handlers are built, starts moto, provisions, starts every
# function process, and is then stopped with Ctrl-C (SIGINT), as a person would.
#
# Usage: local/bench.sh [RUNS] [-- CARGO_CFN_ARGS...]     (default: 3 runs of the workspace's app)
#   local/bench.sh 5 -- --assembly cfnkit.out Order      (an existing assembly, one stack and its imports)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
if [[ $# -gt 0 && $1 != "--" ]]; then runs=$1; shift; fi
[[ ${1:-} == "--" ]] && shift
args=("$@")

cargo build --quiet -p cfnkit-deploy --bin cargo-cfn
bin=$(pwd)/target/debug/cargo-cfn
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
trap 'rm -f "$log"' EXIT

one_run() {
  : >"$log"
  local start end pid
  start=$(date +%s.%N)
  "$bin" "${args[@]}" local --port "$port" >"$log" 2>&1 &
  pid=$!
  until grep -q '^started in' "$log"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "cargo cfn local ended before ready:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.05
  done
  end=$(date +%s.%N)
  kill -INT "$pid"
  wait "$pid" || true
  python3 -c "print(f'{$end - $start:.2f}')"
}

echo "warm-up run (builds the handlers, not counted): $(one_run) s"
grep -E '^ready:' "$log" | head -1
times=()
for i in $(seq 1 "$runs"); do
  t=$(one_run)
  times+=("$t")
  echo "run $i: ready in $t s; $(grep -o '^started in .*)' "$log")"
done
python3 - "${times[@]}" <<'PY'
import statistics, sys
t = [float(x) for x in sys.argv[1:]]
print(f"cargo cfn local to ready, warm: median {statistics.median(t):.2f} s, min {min(t):.2f} s, max {max(t):.2f} s over {len(t)} runs")
PY
