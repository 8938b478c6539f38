#!/usr/bin/env bash
# Synthesizes a minimal instance of every generated resource type (one template per service, required
# properties set to placeholders derived from the schema) and runs cfn-lint on them. Fails on any cfn-lint
# error except the value-content rules below, which placeholder values cannot satisfy by construction, and the
# entries of lint-allow.txt. Shape errors (E3002 unknown/misspelled property, E3003 missing required property,
# E3012 wrong type or nesting, E3017/E3018 oneOf/anyOf) are never ignored wholesale.
#
# Usage: l1/lint-all.sh [cfn-lint executable]   (default: cfn-lint on PATH; l1/ci.sh passes its pinned venv's)
set -euo pipefail
cd "$(dirname "$0")/.."
CFN_LINT=${1:-cfn-lint}
OUT=${CARGO_TARGET_DIR:-target}/l1-minimal-templates
rm -rf "$OUT"
cargo run -q -p cfnkit-l1 --all-features --example minimal_templates -- "$OUT"

# Rules about values, not shape. Each is ignored for a reason placeholders cannot avoid:
IGNORED=(
  E3031 # string pattern: most placeholders are generated to match the pattern; lookaheads etc. cannot be
  E3030 # allowed values cfn-lint adds from its own extensions (not enums in the registry schemas)
  E1150 E1151 E1152 E1153 E1154 E1155 E1156 E1157 E1158 E1159 E1160 E1161 E1164 # formats (IDs, ARNs) beyond the placeholder table
  E3037 # unique items: a list with minItems >= 2 repeats its placeholder item
  E3710 # resource types of services AWS shut down (still in the registry schemas)
  E3501 E3502 E3503 E3504 E3505 E3506 E3507 E3508 E3509 E3510 E3511 E3512 E3513 E3514 E3530 E3531 E3051
        # JSON-typed properties (IAM policies, SSM documents, ...) hold `{}`: their content is not modelled
  E3058 E3660 E3673 E3680 # cfn-lint's own relationship rules ("one of A, B is required"), not in the schemas
  E3700 # CodePipeline action categories/providers relationships
)
# cfn-lint's per-service value tables (instance types, engines...): E3600-E3699 except relationship rules above.
for i in $(seq 3600 3699); do IGNORED+=("E$i"); done
IGNORE=$(IFS=,; echo "${IGNORED[*]}")

set +e
# stderr: cfn-lint logs that it cannot open nested stacks' placeholder TemplateURLs; not a finding.
"$CFN_LINT" --format json --ignore-checks "$IGNORE" -- "$OUT"/*.json > "$OUT/cfn-lint.json" 2> "$OUT/cfn-lint.log"
set -e
python3 - "$OUT/cfn-lint.json" l1/lint-allow.txt "$(ls "$OUT"/*.json | grep -vc cfn-lint.json)" <<'PY'
import json, sys
matches = json.load(open(sys.argv[1]))
allow = set()
for line in open(sys.argv[2]):
    line = line.split("#", 1)[0].strip()
    if line:
        service, logical_id, rule = line.split()
        allow.add((service, logical_id, rule))
# A list with minItems >= 2 repeats its placeholder item; cfn-lint reports uniqueness by key under E3002.
VALUE_MESSAGES = ("array items are not unique",)
errors, allowed = [], 0
for m in matches:
    if m["Level"] != "Error":
        continue
    service = m["Filename"].rsplit("/", 1)[-1].removesuffix(".json")
    path = m["Location"]["Path"]
    logical_id = path[1] if len(path) > 1 and path[0] == "Resources" else "-"
    rule = m["Rule"]["Id"]
    if (service, logical_id, rule) in allow or any(s in m["Message"] for s in VALUE_MESSAGES):
        allowed += 1
        continue
    errors.append(f"{service}.json {'/'.join(map(str, path))}: {rule} {m['Message']}")
for e in errors:
    print(e)
print(f"cfn-lint: {sys.argv[3]} templates, {len(errors)} errors, {allowed} allowed (lint-allow.txt / value messages)")
sys.exit(1 if errors else 0)
PY
