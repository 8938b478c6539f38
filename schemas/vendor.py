#!/usr/bin/env python3
"""Re-vendors the CloudFormation registry resource schemas from cfn-lint's PyPI package, and the descriptions
(documentation) extract from AWS CDK's service database.

Usage: python3 schemas/vendor.py [--python PYTHON]
       python3 schemas/vendor.py --docs aws-cdk-aws-service-spec-0.1.216.tgz

The schemas are those cfn-lint 1.51.0 ships for us-east-1: `data/schemas/providers/us_east_1.py` maps each
type name to a content hash, and `data/schemas/resources/<hash>.json` is the (cfn-lint-normalised) provider
schema. cfn-lint strips `description` fields, so the prose of the generated docs comes from elsewhere: the npm
package `@aws-cdk/aws-service-spec` (CDK's service database, `package/db.json.gz`), fetched with
`npm pack @aws-cdk/aws-service-spec@0.1.216`. `--docs TARBALL` reads it (offline) and writes
schemas/docs/<namespace>-<service>.json: for each vendored type, its documentation, its properties' and
attributes', and those of every property type reachable from its properties (by name).

Output: one JSON file per type under schemas/us-east-1/ (keys sorted, stable indentation), plus MANIFEST.json
and MANIFEST.md recording source, version, region, date and the list of types. Deterministic apart from the
date in the manifest, which is kept when nothing else changed.
"""
import argparse
import datetime
import gzip
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

PACKAGE = "cfn-lint"
VERSION = "1.51.0"
REGION = "us-east-1"
DOCS_PACKAGE = "@aws-cdk/aws-service-spec"
DOCS_VERSION = "0.1.216"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, REGION)
DOCS_OUT = os.path.join(HERE, "docs")
MANIFEST = os.path.join(HERE, "MANIFEST.json")


def file_name(type_name: str) -> str:
    return type_name.replace("::", "-").lower() + ".json"


def load_manifest() -> dict:
    if os.path.exists(MANIFEST):
        with open(MANIFEST) as f:
            return json.load(f)
    return {}


def write_manifest(manifest: dict) -> None:
    """Writes MANIFEST.json and MANIFEST.md (the latter is a readable summary of the former)."""
    with open(MANIFEST, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    docs = manifest.get("docs")
    docs_md = "" if not docs else f"""
## Descriptions (doc comments)

- Source: npm package `{docs['package']}@{docs['version']}` (AWS CDK's service database, `package/db.json.gz`),
  fetched with `npm pack {docs['package']}@{docs['version']}`; tarball sha256 `{docs['tarballSha256']}`
- Extracted: {docs['date']}
- Types with documentation: {docs['count']} of {manifest.get('count')} (one file per service in `docs/`; `MANIFEST.json`
  lists each file with its sha256)

Each `docs/<namespace>-<service>.json` maps a type name to its description (`doc`), its properties' (`properties`)
and attributes' (`attributes`) descriptions, and `types`: the property types reachable from its properties, by
name, each with `doc` and `properties`. The descriptions are CDK's markdown; the generator makes them safe for
rustdoc. A type or property without a description keeps the generated constraint docs and reference link only.

Re-extract (after changing `DOCS_VERSION` in `vendor.py`):

    npm pack {docs['package']}@{docs['version']}
    python3 schemas/vendor.py --docs aws-cdk-aws-service-spec-{docs['version']}.tgz
    cargo run -p cfnkit-codegen
"""
    with open(os.path.join(HERE, "MANIFEST.md"), "w") as f:
        f.write(f"""# Vendored CloudFormation registry schemas

- Source: PyPI package `{PACKAGE}=={manifest['version']}` (`cfnlint/data/schemas/resources/<hash>.json`, selected through
  `cfnlint/data/schemas/providers/{REGION.replace('-', '_')}.py`, which maps each type name to its schema's hash)
- Region: {REGION}
- Vendored: {manifest['date']}
- Types: {manifest['count']} (one file per type in `{REGION}/`; `MANIFEST.json` lists each with its sha256)

These are the provider-definition schemas (`typeName`, `properties`, `definitions`, `required`,
`readOnlyProperties`, `createOnlyProperties`, `primaryIdentifier`, `tagging`) as cfn-lint ships them: cfn-lint
applies its own patches (e.g. `RedrivePolicy` may be an object or a string) and strips `description`s.
They are what `cfn-lint` validates templates against, which is why the generated L1 layer uses them.

Re-vendor (after changing the pinned version in `vendor.py`):

    pip install cfn-lint=={VERSION}
    python3 schemas/vendor.py
    cargo run -p cfnkit-codegen
{docs_md}""")


def refs_of(t) -> list:
    """The type-definition ids a CDK type expression refers to (`ref`, and inside arrays, maps, unions)."""
    out = []
    if isinstance(t, dict):
        if t.get("type") == "ref":
            out.append(t["reference"]["$ref"])
        for v in t.values():
            out.extend(refs_of(v))
    elif isinstance(t, list):
        for v in t:
            out.extend(refs_of(v))
    return out


def docs_of(members: dict) -> dict:
    return {k: v["documentation"] for k, v in sorted(members.items()) if v.get("documentation")}


def vendor_docs(tarball: str) -> int:
    """Writes schemas/docs/ from CDK's service database, for the vendored types."""
    manifest = load_manifest()
    if not manifest.get("types"):
        print("vendor the schemas first (schemas/MANIFEST.json lists no types)", file=sys.stderr)
        return 1
    with open(tarball, "rb") as f:
        raw = f.read()
    sha = hashlib.sha256(raw).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        meta = json.load(tar.extractfile("package/package.json"))
        if meta.get("name") != DOCS_PACKAGE or meta.get("version") != DOCS_VERSION:
            print(f"{tarball} is {meta.get('name')}@{meta.get('version')}, {DOCS_PACKAGE}@{DOCS_VERSION} pinned: "
                  f"npm pack {DOCS_PACKAGE}@{DOCS_VERSION}", file=sys.stderr)
            return 1
        db = json.load(gzip.open(tar.extractfile("package/db.json.gz")))
    schema = db["schema"]
    resources = {r["cloudFormationType"]: r for r in schema["resource"]["entities"]}
    typedefs = {t["$id"]: t for t in schema["typeDefinition"]["entities"]}
    by_service: dict = {}
    count = 0
    for entry in manifest["types"]:
        type_name = entry["type"]
        r = resources.get(type_name)
        if r is None:
            print(f"no documentation for {type_name}", file=sys.stderr)
            continue
        types = {}
        todo = refs_of([p.get("type") for p in r.get("properties", {}).values()])
        seen = set()
        while todo:
            tid = todo.pop(0)
            if tid in seen or tid not in typedefs:
                continue
            seen.add(tid)
            t = typedefs[tid]
            todo.extend(refs_of([p.get("type") for p in t.get("properties", {}).values()]))
            view = {"doc": t.get("documentation", ""), "properties": docs_of(t.get("properties", {}))}
            view = {k: v for k, v in view.items() if v}
            # Two definitions of one name in one resource: the first reached (breadth first) wins.
            if view and t["name"] not in types:
                types[t["name"]] = view
        doc = {"doc": r.get("documentation", ""), "properties": docs_of(r.get("properties", {})),
               "attributes": docs_of(r.get("attributes", {})), "types": dict(sorted(types.items()))}
        doc = {k: v for k, v in doc.items() if v}
        if doc:
            count += 1
            svc = type_name.rsplit("::", 1)[0].replace("::", "-").lower()
            by_service.setdefault(svc, {})[type_name] = doc
    if os.path.isdir(DOCS_OUT):
        shutil.rmtree(DOCS_OUT)
    os.makedirs(DOCS_OUT)
    files = []
    for svc, docs in sorted(by_service.items()):
        text = json.dumps(docs, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        with open(os.path.join(DOCS_OUT, svc + ".json"), "w") as f:
            f.write(text)
        files.append({"file": f"docs/{svc}.json", "sha256": hashlib.sha256(text.encode()).hexdigest()})
    old = manifest.get("docs", {})
    date = datetime.date.today().isoformat()
    if old.get("files") == files and old.get("tarballSha256") == sha:
        date = old.get("date", date)
    manifest["docs"] = {"package": DOCS_PACKAGE, "version": DOCS_VERSION, "source": f"npm {DOCS_PACKAGE}@{DOCS_VERSION}, package/db.json.gz",
                        "tarballSha256": sha, "date": date, "count": count, "files": files}
    write_manifest(manifest)
    print(f"wrote documentation of {count} types into {DOCS_OUT} ({len(files)} files)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable, help="python with cfn-lint==%s installed" % VERSION)
    ap.add_argument("--docs", metavar="TARBALL", help="extract descriptions from the npm tarball of %s@%s instead"
                    % (DOCS_PACKAGE, DOCS_VERSION))
    args = ap.parse_args()
    if args.docs:
        return vendor_docs(args.docs)
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

    old = load_manifest()
    date = datetime.date.today().isoformat()
    if old.get("types") == entries:
        date = old.get("date", date)
    manifest = {"source": f"PyPI {PACKAGE}=={VERSION}, cfnlint/data/schemas/resources via providers/{REGION.replace('-', '_')}.py",
                "package": PACKAGE, "version": VERSION, "region": REGION, "date": date,
                "count": len(entries), "types": entries}
    if "docs" in old:
        # Kept: re-run `--docs` when the set of types changed.
        manifest["docs"] = old["docs"]
    write_manifest(manifest)
    print(f"vendored {len(entries)} schemas into {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
