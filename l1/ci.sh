#!/usr/bin/env bash
# What CI runs for the generated L1 layer:
#   1. the committed l1/ is what the generator produces (fails listing stale files otherwise);
#   2. the generator's tests (naming, fixups, placeholders, the fake-schema snapshot that must compile);
#   3. every service compiles, clippy-clean (`--all-features`), and the default features build; their docs
#      (the schema descriptions, AWS's markdown) render without a rustdoc warning;
#   4. cfn-lint accepts a minimal instance of every resource type (lint-all.sh), with pinned cfn-lint in a venv.
set -euo pipefail
cd "$(dirname "$0")/.."
CFN_LINT_VERSION=1.51.0
VENV=l1/.venv

cargo run -q -p cfnkit-codegen -- --check
cargo test -q -p cfnkit-codegen -p cfnkit-fake-l1
cargo clippy -q -p cfnkit-codegen -p cfnkit-fake-l1 --all-targets -- -D warnings
cargo clippy -q -p cfnkit-l1 --all-targets -- -D warnings
cargo clippy -q -p cfnkit-l1 --all-features --all-targets -- -D warnings
# Default features only: `--all-features` docs are clean too (checked when the descriptions were added) but
# take minutes and over a gigabyte of HTML.
RUSTDOCFLAGS="-D warnings" cargo doc -q -p cfnkit-l1 --no-deps

if [ ! -x "$VENV/bin/cfn-lint" ] || [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("cfn-lint"))')" != "$CFN_LINT_VERSION" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "cfn-lint==$CFN_LINT_VERSION"
fi
l1/lint-all.sh "$VENV/bin/cfn-lint"
