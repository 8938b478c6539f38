#!/usr/bin/env bash
# CI for the deploy tool (called by .ci/run after `cargo test --workspace`, with .ci/venv/bin on PATH).
# - the emulator tests once more with CFNKIT_REQUIRE_EMULATOR=1, so that a missing moto_server fails CI instead of
#   skipping them;
# - the bootstrap template through cfn-lint and checkov, like every synthesized template;
# - the AWS SDK stays out of the stacks' build;
# - the app points `deploy` at the deploy tool.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="$root/.ci/venv/bin:$PATH"

echo "deploy: emulator tests, required"
CFNKIT_REQUIRE_EMULATOR=1 cargo test --locked -p cfnkit-deploy --test emulator

echo "deploy: bootstrap template through cfn-lint and checkov"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/trusted"
cargo run --locked --quiet -p cfnkit-deploy -- bootstrap --show-template >"$tmp/CfnkitBootstrap.template.json"
cfn-lint --include-checks I -- "$tmp/CfnkitBootstrap.template.json"
"$root/.ci/venv-checkov/bin/checkov" -f "$tmp/CfnkitBootstrap.template.json" --framework cloudformation \
  --skip-download --compact --quiet | tee "$tmp/checkov.txt"
grep -qE 'Passed checks: [1-9][0-9]*, Failed checks: 0' "$tmp/checkov.txt"
# With --trust: the deploy, execution, publishing and lookup roles.
cargo run --locked --quiet -p cfnkit-deploy -- bootstrap --show-template --trust 111111111111 \
  >"$tmp/trusted/CfnkitBootstrap.template.json"
cfn-lint --include-checks I -- "$tmp/trusted/CfnkitBootstrap.template.json"
"$root/.ci/venv-checkov/bin/checkov" -f "$tmp/trusted/CfnkitBootstrap.template.json" --framework cloudformation \
  --skip-download --compact --quiet | tee "$tmp/checkov-trusted.txt"
grep -qE 'Passed checks: [1-9][0-9]*, Failed checks: 0' "$tmp/checkov-trusted.txt"

echo "deploy: no AWS SDK crate in the stacks' build"
if cargo tree --locked -p stacks -e normal,build | grep -E 'aws-(sdk|config|smithy)'; then
  echo "the stacks' build depends on the AWS SDK (above); keep it in deploy/ and runtime/" >&2
  exit 1
fi

echo "deploy: the app points deploy commands at cargo cfn"
set +e
hint=$(cargo run --locked --quiet -- deploy 2>&1)
code=$?
set -e
[ "$code" = 2 ] && grep -q 'cargo cfn deploy' <<<"$hint" || { echo "cargo run -- deploy said ($code): $hint" >&2; exit 1; }
echo "deploy: ok"
