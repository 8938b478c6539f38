#!/usr/bin/env bash
# Lambda assets (issue 5, src/assets): pinned cargo-zigbuild + zig, `cargo run -- package`, then checks that
# - the zips are reproducible: a second build from a copy of the sources at another path, with its own target
#   directory, gives the same SHA-256 for every zip (so two machines produce the same S3 keys);
# - each zip holds one `bootstrap`, mode 0755, of the architecture the manifest says;
# - no binary needs a glibc newer than 2.34 (Amazon Linux 2023's);
# - the order API's bootstrap executes (under qemu-aarch64 for arm64 on an x86_64 host) and stops at once with
#   its configuration error (ORDERS_TABLE is not set), without AWS_LAMBDA_RUNTIME_API or any setting.
# Also runs the package integration test that builds a tiny crate with the real cargo-zigbuild.
# Prints the time each part took.
# Cost control (CI must stay under 45 minutes on 2 cores): a cold release build of all 19 handlers with fat LTO
# takes 20-36 minutes here, so CI packages the stacks in PACKAGE_STACKS (default: Order, whose two binaries pull in
# every dependency the handlers share) and skips the second full build unless FULL_REPRO=1; path- and
# target-independence of the zips is still proven on every run by the fixture crate's real zigbuild test above.
# `PACKAGE_STACKS= FULL_REPRO=1 bash runtime/ci.sh` runs everything (what runtime/bench-package.sh measures).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TERM_COLOR=never
step() { printf '\n==> runtime/ci.sh: %s\n' "$*"; }
t0=$(date +%s)
since() { echo "$(( $(date +%s) - $1 )) s"; }

step "tools: cargo-zigbuild and zig from PyPI (runtime/requirements-zig.txt), the aarch64 standard library"
venv=runtime/.venv-zig
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r runtime/requirements-zig.txt
export PATH="$root/$venv/bin:$PATH"
cargo-zigbuild --version
echo "zig $(python-zig version)"
# The platform's functions run on arm64 (Graviton); the build cross-compiles to it.
if [ ! -d "$(rustc --print sysroot)/lib/rustlib/aarch64-unknown-linux-gnu/lib" ]; then
  rustup target add aarch64-unknown-linux-gnu
fi
# qemu-user runs the arm64 bootstrap here; the arm64 glibc it loads comes from Debian's cross package.
if ! command -v qemu-aarch64 >/dev/null || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user libc6-arm64-cross >/dev/null
fi
echo "tools took $(since "$t0")"

step "package integration test with the real cargo-zigbuild (tests/package.rs)"
t=$(date +%s)
# One test at a time: two cargo-zigbuild processes at once race on the zig wrapper scripts they both (re)write in
# ~/.cache/cargo-zigbuild ("Text file busy"), a fault of running two, not of the build.
CFNKIT_TEST_ZIGBUILD=1 cargo test --locked -p cfnkit --test package -- --test-threads=1
echo "took $(since "$t")"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "cargo run -- package"
t=$(date +%s)
# shellcheck disable=SC2086 # PACKAGE_STACKS is a list of stack names
cargo run --locked --quiet -- package --out "$work/out" ${PACKAGE_STACKS-Order}
echo "package took $(since "$t")"
python3 - "$work/out" <<'PY'
import json, sys, zipfile, hashlib, os
out = sys.argv[1]
m = json.load(open(os.path.join(out, "manifest.json")))
assets = m["assets"]
assert assets, "the platform's functions use assets, but the manifest lists none"
for a in assets:
    assert a["packaged"], a
    path = os.path.join(out, a["path"])
    data = open(path, "rb").read()
    assert hashlib.sha256(data).hexdigest() == a["sha256"], ("sha256 of", path)
    assert a["key"] == f"assets/{a['bin']}/{a['sha256']}.zip" == a["path"], a
    z = zipfile.ZipFile(path)
    [info] = z.infolist()
    assert info.filename == "bootstrap", info.filename
    assert (info.external_attr >> 16) & 0o777 == 0o755, oct(info.external_attr >> 16)
    assert info.date_time == (1980, 1, 1, 0, 0, 0), info.date_time
    machine = int.from_bytes(z.read("bootstrap")[18:20], "little")
    assert machine == {"arm64": 0xB7, "x86_64": 0x3E}[a["architecture"]], (a["bin"], hex(machine))
    for t in m["stacks"]:
        body = open(os.path.join(out, t["template"])).read()
        assert "__CFNKIT_ASSET_HASH__" not in body, t["template"]
    print(f'{a["bin"]:<24} {a["architecture"]:<7} {a["bytes"]:>9} bytes  {a["key"]}')
PY

step "no binary needs a glibc newer than 2.34"
for zip in "$work"/out/assets/*/*.zip; do
  mkdir -p "$work/unzipped" && rm -f "$work/unzipped/bootstrap"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("bootstrap", sys.argv[2])' "$zip" "$work/unzipped"
  newest=$(readelf --wide -V "$work/unzipped/bootstrap" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
  echo "$(basename "$(dirname "$zip")"): newest glibc symbol version $newest"
  [ "$(printf '%s\n2.34\n' "$newest" | sort -V | tail -1)" = "2.34" ] || { echo "needs glibc $newest > 2.34" >&2; exit 1; }
done

step "the order API's bootstrap executes and stops with its configuration error"
api=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); a=[a for a in m["assets"] if a["bin"]=="order_api"]; print(a[0]["path"], a[0]["architecture"])' "$work/out/manifest.json")
read -r api_zip api_arch <<<"$api"
rm -f "$work/unzipped/bootstrap"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("bootstrap", sys.argv[2])' "$work/out/$api_zip" "$work/unzipped"
chmod +x "$work/unzipped/bootstrap"
run=("$work/unzipped/bootstrap")
if [ "$api_arch" = arm64 ] && [ "$(uname -m)" != aarch64 ]; then
  run=(qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/unzipped/bootstrap")
fi
set +e
# A region and IMDS off: the SDK must not look for the instance metadata service (no traffic leaves this machine).
msg=$(env -i PATH=/usr/bin:/bin AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true timeout 20 "${run[@]}" 2>&1)
code=$?
set -e
echo "exit $code: $msg"
[ "$code" -ne 0 ] && [ "$code" -ne 124 ] || { echo "bootstrap should fail fast on missing settings (exit $code)" >&2; exit 1; }
grep -q 'ORDERS_TABLE.*is not set' <<<"$msg" || { echo "not the expected configuration error" >&2; exit 1; }

if [ "${FULL_REPRO:-}" = 1 ]; then
  step "reproducible: a second build from a copy of the sources at another path, own target dir"
  t=$(date +%s)
  copy="$work/elsewhere/cfnkit-copy"
  mkdir -p "$copy"
  git ls-files -z | xargs -0 cp --parents -t "$copy"
  # The app binary cargo built above packages the copy: only the handlers are built again there.
  app=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/stacks
  # Only the Order stack's assets (two binaries): the dependencies are built again in full, which is the point,
  # and the other binaries would only add link time.
  CARGO_TARGET_DIR="$work/elsewhere/target" "$app" package --workspace "$copy" --out "$work/out2" Order >/dev/null
  python3 - "$work/out/manifest.json" "$work/out2/manifest.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
ka = {x["bin"]: x["sha256"] for x in a["assets"]}
kb = {x["bin"]: x["sha256"] for x in b["assets"]}
assert kb, "the second build packaged nothing"
ka = {k: v for k, v in ka.items() if k in kb}
for bin in sorted(ka):
    print(f"{bin:<24} {ka[bin]}  {'same' if ka[bin] == kb.get(bin) else 'DIFFERENT: ' + str(kb.get(bin))}")
assert ka == kb, "the two builds gave different zips"
PY
  echo "second build took $(since "$t")"
fi
echo "runtime/ci.sh passed in $(since "$t0")"
