#!/usr/bin/env bash
# `cargo run -- package` benchmark: package times for release and dev (`--dev`) builds, and zip sizes.
# - cold: a fresh target directory (every dependency built for the Lambda target, release profile);
# - warm, nothing changed: the same again (cargo has nothing to do; zips and hashes are made again);
# - warm, handler edited: one function added to runtime/order-handlers/src/order.rs (the order API's logic, a
#   real change, not a bare touch that incremental compilation would see through), then package again: release
#   recompiles the crate and fat-LTO-links every binary; dev recompiles what changed and relinks without LTO;
# - dev, cold: the first `--dev` build in the target dir (its dependencies are built once for lambda-dev);
# - host check: the `cargo check` that Templates::assert_handlers_compile runs, first and after an edit.
# The edit is undone on exit. The app binary is built first (not timed). sccache is off for every build (its
# cache would hide compile time). Needs cargo-zigbuild and zig on PATH (runtime/ci.sh installs them into
# runtime/.venv-zig, which this script puts on PATH when it exists).
#
# Usage: runtime/bench-package.sh [--no-cold] [STACK...]   (BENCH_TARGET_DIR: the target dir, default a temp one)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ -d runtime/.venv-zig/bin ] && export PATH="$root/runtime/.venv-zig/bin:$PATH"
cold=1
if [ "${1:-}" = --no-cold ]; then cold=0; shift; fi
export RUSTC_WRAPPER='' CARGO_BUILD_RUSTC_WRAPPER=''
echo "cargo-zigbuild: $(cargo-zigbuild --version)  zig: $(python-zig version 2>/dev/null || zig version)  $(rustc --version)"
echo "cores: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)  stacks: ${*:-all}"
cargo build --locked --quiet -p stacks
app=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/stacks
work=$(mktemp -d)
edited=runtime/order-handlers/src/order.rs
cp "$edited" "$work/order.rs.orig"
trap 'cp "$work/order.rs.orig" "$root/$edited"; rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${BENCH_TARGET_DIR:-$work/target}"

timed() { # label, then the command; prints seconds
  local label=$1; shift
  local t0 ms
  t0=$(date +%s%N)
  "$@" >/dev/null
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  printf '%-40s %6d.%01d s\n' "$label" $((ms / 1000)) $((ms % 1000 / 100))
}
edit() { # a new public function: one more item to compile, as a small change to a handler would be
  printf '\n/// Added by runtime/bench-package.sh.\npub fn bench_edit_%s() -> u64 {\n    %s\n}\n' "$1" "$1" >>"$edited"
}

if [ "$cold" = 1 ]; then
  timed "release, cold target dir" "$app" package --out "$work/out" "$@"
else
  # Untimed: bring the target dir up to date with the sources (an earlier run's edits were undone since).
  "$app" package --out "$work/out" "$@" >/dev/null 2>&1
  "$app" package --dev --out "$work/out-dev" "$@" >/dev/null 2>&1
fi
timed "release, warm, nothing changed" "$app" package --out "$work/out" "$@"
edit 1
timed "release, warm, handler edited" "$app" package --out "$work/out" "$@"

if [ "$cold" = 1 ]; then
  timed "dev, cold (its dependencies built)" "$app" package --dev --out "$work/out-dev" "$@"
else
  timed "dev, after the release edit" "$app" package --dev --out "$work/out-dev" "$@"
fi
timed "dev, warm, nothing changed" "$app" package --dev --out "$work/out-dev" "$@"
edit 2
timed "dev, warm, handler edited" "$app" package --dev --out "$work/out-dev" "$@"
edit 3
timed "dev, warm, handler edited again" "$app" package --dev --out "$work/out-dev" "$@"

# What Templates::assert_handlers_compile runs for the Order stack's functions: cargo check on the host.
check=(cargo check --quiet -p order-handlers --bin order_api --bin order_events)
if [ "$cold" = 1 ]; then
  timed "host check, cold" "${check[@]}"
else
  timed "host check, after the dev edits" "${check[@]}"
fi
edit 4
timed "host check, handler edited" "${check[@]}"

python3 - "$work/out/manifest.json" "$work/out-dev/manifest.json" <<'PY'
import json, sys
release, dev = (json.load(open(p)) for p in sys.argv[1:])
dev_bytes = {a["bin"]: a["bytes"] for a in dev["assets"]}
print(f'{"asset":<24} {"arch":<7} {"release zip":>12} {"dev zip":>12}  release sha256')
for a in release["assets"]:
    print(f'{a["bin"]:<24} {a["architecture"]:<7} {a["bytes"]:>12} {dev_bytes.get(a["bin"], 0):>12}  {a["sha256"]}')
print(f'{"total":<32} {sum(a["bytes"] for a in release["assets"]):>12} {sum(dev_bytes.values()):>12}')
assert all(a["key"].startswith(f'assets/{a["bin"]}/dev-') for a in dev["assets"] if a["packaged"]), "dev keys"
PY
