#!/usr/bin/env bash
# Hotswap benchmark: `cargo cfn deploy --hotswap` of one function's new code and environment against a change-set
# deploy of the same change, on moto's server, then the same deploys step by step (synth, upload, planning,
# change set creation, execution and polling) to show where the tool's time goes. See
# deploy/examples/bench_hotswap.rs. Needs moto_server on PATH (or MOTO_SERVER); ROUNDS=5 by default.
# Extra arguments go to cargo (`--release` measures the optimized tool).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet "$@" -p cfnkit-deploy --bin cargo-cfn --example bench_hotswap
cargo run --quiet "$@" -p cfnkit-deploy --example bench_hotswap
