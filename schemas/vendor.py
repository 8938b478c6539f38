#!/usr/bin/env python3
"""Re-vendors the CloudFormation registry resource schemas from cfn-lint's PyPI package.

Usage: python3 schemas/vendor.py [--python PYTHON]

The schemas are those cfn-lint 1.51.0 ships for us-east-1: `data/schemas/providers/us_east_1.py` maps each
type name to a content hash, and `data/schemas/resources/<hash>.json` is the (cfn-lint-normalised) provider
schema. cfn-lint strips `description` fields, so the generated docs carry constraints and links, not prose.

Output: one JSON file per type under schemas/us-east-1/ (keys sorted, stable indentation), plus MANIFEST.json
and MANIFEST.md recording source, version, region, date and the list of types. Deterministic apart from the
date in the manifest, which is kept when nothing else changed.
"""
import argparse
import datetime
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys

PACKAGE = "cfn-lint"
VERSION = "1.51.0"
REGION = "us-east-1"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, REGION)


def file_name(type_name: str) -> str:
    return type_name.replace("::", "-").lower() + ".json"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable, help="python with cfn-lint==%s installed" % VERSION)
    args = ap.parse_args()
    probe = "import cfnlint, os, importlib.metadata as m; print(os.path.dirname(cfnlint.__file__)); print(m.version('cfn-lint'))"
    root, version = subprocess.check_output([args.python, "-c", probe], text=True).split()
    if version != VERSION:
        print(f"cfn-lint {version} found, {VERSION} pinned: pip install cfn-lint=={VERSION}", file=sys.stderr)
        return 1
    schemas = os.path.join(root, "data", "schemas")
    provider = os.path.join(schemas, "providers", REGION.replace("-", "_") + ".py")
    spec = importlib.util.spec_from_file_location("provider", provider)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    types = dict(sorted(mod.types.items()))

    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    entries = []
    for type_name, h in types.items():
        with open(os.path.join(schemas, "resources", h + ".json")) as f:
            schema = json.load(f)
        if type_name.count("::") != 2 or schema.get("typeName") != type_name:
            # `Module` is a pseudo-type in cfn-lint's table (any module); only resource types are vendored.
            print(f"skipping {type_name}: not a resource type", file=sys.stderr)
            continue
        text = json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        name = file_name(type_name)
        with open(os.path.join(OUT, name), "w") as f:
            f.write(text)
        entries.append({"type": type_name, "file": f"{REGION}/{name}", "cfnLintHash": h,
                        "sha256": hashlib.sha256(text.encode()).hexdigest()})

    manifest_path = os.path.join(HERE, "MANIFEST.json")
    date = datetime.date.today().isoformat()
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            old = json.load(f)
        if old.get("types") == entries:
            date = old.get("date", date)
    manifest = {"source": f"PyPI {PACKAGE}=={VERSION}, cfnlint/data/schemas/resources via providers/{REGION.replace('-', '_')}.py",
                "package": PACKAGE, "version": VERSION, "region": REGION, "date": date,
                "count": len(entries), "types": entries}
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(HERE, "MANIFEST.md"), "w") as f:
        f.write(f"""# Vendored CloudFormation registry schemas

- Source: PyPI package `{PACKAGE}=={VERSION}` (`cfnlint/data/schemas/resources/<hash>.json`, selected through
  `cfnlint/data/schemas/providers/{REGION.replace('-', '_')}.py`, which maps each type name to its schema's hash)
- Region: {REGION}
- Vendored: {date}
- Types: {len(entries)} (one file per type in `{REGION}/`; `MANIFEST.json` lists each with its sha256)

These are the provider-definition schemas (`typeName`, `properties`, `definitions`, `required`,
`readOnlyProperties`, `createOnlyProperties`, `primaryIdentifier`, `tagging`) as cfn-lint ships them: cfn-lint
applies its own patches (e.g. `RedrivePolicy` may be an object or a string) and strips `description`s.
They are what `cfn-lint` validates templates against, which is why the generated L1 layer uses them.

Re-vendor (after changing the pinned version in `vendor.py`):

    pip install cfn-lint=={VERSION}
    python3 schemas/vendor.py
    cargo run -p cfnkit-codegen
""")
    print(f"vendored {len(entries)} schemas into {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
