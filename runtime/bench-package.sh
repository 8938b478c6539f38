#!/usr/bin/env bash
# `cargo run -- package` benchmark: zip sizes per handler, and package time
# - cold: a fresh target directory (every dependency built for the Lambda target);
# - warm, unchanged: the same again (cargo has nothing to do; zips and hashes are made again);
# - warm, one handler source touched: the handler crate and every binary's LTO link again.
# The app binary is built first (not timed). Needs cargo-zigbuild and zig on PATH (runtime/ci.sh installs them
# into runtime/.venv-zig, which this script puts on PATH when it exists).
#
# Usage: runtime/bench-package.sh [--no-cold] [STACK...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ -d runtime/.venv-zig/bin ] && export PATH="$root/runtime/.venv-zig/bin:$PATH"
cold=1
if [ "${1:-}" = --no-cold ]; then cold=0; shift; fi
echo "cargo-zigbuild: $(cargo-zigbuild --version)  zig: $(python-zig version 2>/dev/null || zig version)  $(rustc --version)"
echo "cores: $(nproc)"
cargo build --locked --quiet -p stacks
app=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/stacks
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${BENCH_TARGET_DIR:-$work/target}"

timed() { # label, then the command; prints seconds
  local label=$1; shift
  local t0 ms
  t0=$(date +%s%N)
  "$@" >/dev/null
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  printf '%-32s %6d.%01d s\n' "$label" $((ms / 1000)) $((ms % 1000 / 100))
}

if [ "$cold" = 1 ]; then
  timed "package, cold target dir" "$app" package --out "$work/out" "$@"
fi
timed "package, warm, nothing changed" "$app" package --out "$work/out" "$@"
touch runtime/order-handlers/src/lib.rs
timed "package, warm, handler touched" "$app" package --out "$work/out" "$@"

python3 - "$work/out/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f'{"asset":<24} {"arch":<7} {"zip bytes":>10}  sha256')
for a in m["assets"]:
    print(f'{a["bin"]:<24} {a["architecture"]:<7} {a["bytes"]:>10}  {a["sha256"]}')
print(f'{"total":<32} {sum(a["bytes"] for a in m["assets"]):>10}')
PY
