//! Generates `cfnkit-l1` (typed CloudFormation resources) from the vendored registry schemas.
//!
//! `cargo run -p cfnkit-codegen` regenerates `l1/`; `-- --check` lists stale files and fails instead.
//! The pipeline: load `schemas/us-east-1/*.json` -> apply [`fixups`] -> build a [`model`] per type ->
//! render `templates/*.hbs` with handlebars -> format with rustfmt -> write (or compare).

pub mod fixups;
pub mod markdown;
pub mod model;
pub mod naming;
pub mod placeholder;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use handlebars::Handlebars;
use serde::Serialize;
use serde_json::Value as J;

/// The workspace root (where `schemas/` and `l1/` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen/ has a parent")
        .to_owned()
}

/// What to generate.
pub struct Config<'a> {
    pub crate_name: &'a str,
    pub description: &'a str,
    /// Directory of schema files, one per type.
    pub schema_dir: &'a Path,
    /// Directory of descriptions (`<namespace>-<service>.json`, each mapping type names to docs), if any.
    pub docs_dir: Option<&'a Path>,
    /// How the @generated header names the schema directory (relative to the workspace root).
    pub schema_label: &'a str,
    pub default_features: &'a [&'a str],
    pub fixups: &'a [fixups::Fixup],
    /// The command that regenerates the crate, named in every file's @generated header.
    pub regenerate: &'a str,
}

/// The features the platform uses: what a default build of cfnkit-l1 compiles.
pub const DEFAULT_FEATURES: &[&str] = &[
    "apigateway",
    "apigatewayv2",
    "cloudwatch",
    "dynamodb",
    "events",
    "iam",
    "kinesis",
    "kms",
    "lambda",
    "logs",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
];

/// Clippy lints that generated code trips legitimately, allowed at the generated crate's root.
pub const ALLOWED_LINTS: &[&str] = &[
    // Enum variants come from CloudFormation's values, which often share a prefix or suffix.
    "clippy::enum_variant_names",
    // Setters are named after properties: `to_port`, `add`, `from_address`, `default`...
    "clippy::wrong_self_convention",
    "clippy::should_implement_trait",
    // Nested maps of lists of property types.
    "clippy::type_complexity",
    // A service with a resource type of the same name (`AWS::Budgets::Budgets`...).
    "clippy::module_inception",
    // Setters are named after properties: a property may be named like its type (`Ec2Config.ec2_config`).
    "clippy::self_named_constructors",
    // Descriptions are AWS's markdown (made safe for rustdoc, see `markdown`): lists whose continuation lines
    // are not indented, or are indented more than clippy likes, render as AWS meant them.
    "clippy::doc_lazy_continuation",
    "clippy::doc_overindented_list_items",
];

/// Every `*.json` file in `dir`, parsed, with its file name.
fn read_json_dir(dir: &Path) -> Result<Vec<(String, PathBuf, J)>, String> {
    let mut out = vec![];
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries {
        let path = e.map_err(|e| e.to_string())?.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: J =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        out.push((file, path, json));
    }
    Ok(out)
}

/// Loads every `*.json` schema in `dir`, by type name.
pub fn load_schemas(dir: &Path) -> Result<BTreeMap<String, J>, String> {
    let mut out = BTreeMap::new();
    for (file, path, mut schema) in read_json_dir(dir)? {
        let name = schema
            .get("typeName")
            .and_then(J::as_str)
            .ok_or(format!("{}: no typeName", path.display()))?
            .to_owned();
        schema
            .as_object_mut()
            .map(|o| o.insert("x-cfnkit-file".into(), J::String(file)));
        out.insert(name, schema);
    }
    Ok(out)
}

/// Loads the descriptions in `dir` (every `*.json`, each an object keyed by type name), by type name.
pub fn load_docs(dir: &Path) -> Result<BTreeMap<String, J>, String> {
    let mut out = BTreeMap::new();
    for (_, path, json) in read_json_dir(dir)? {
        let J::Object(types) = json else {
            return Err(format!("{}: not an object of types", path.display()));
        };
        out.extend(types);
    }
    Ok(out)
}

fn handlebars() -> Result<Handlebars<'static>, String> {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.register_escape_fn(handlebars::no_escape);
    let templates = [
        ("resource", include_str!("../templates/resource.rs.hbs")),
        ("struct", include_str!("../templates/struct.hbs")),
        ("lib", include_str!("../templates/lib.rs.hbs")),
        ("service", include_str!("../templates/service.rs.hbs")),
        ("cargo", include_str!("../templates/Cargo.toml.hbs")),
        ("rustfmt", include_str!("../templates/rustfmt.toml.hbs")),
        (
            "minimal",
            include_str!("../templates/minimal_templates.rs.hbs"),
        ),
    ];
    for (name, text) in templates {
        h.register_template_string(name, text)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    h.register_partial("struct", include_str!("../templates/struct.hbs"))
        .map_err(|e| e.to_string())?;
    Ok(h)
}

#[derive(Serialize)]
struct ServiceView<'a> {
    regenerate: &'a str,
    namespace: String,
    module: String,
    schema_dir: &'a str,
    resources: Vec<ResourceRef>,
}

#[derive(Serialize)]
struct ResourceRef {
    module: String,
    name: String,
    builder: String,
    handle: String,
    crate_ident: String,
}

/// Generates the crate's files (paths relative to the crate's root), unformatted.
pub fn generate(config: &Config) -> Result<BTreeMap<PathBuf, String>, String> {
    let mut schemas = load_schemas(config.schema_dir)?;
    fixups::apply(config.fixups, &mut schemas)?;
    let docs = match config.docs_dir {
        Some(dir) => load_docs(dir)?,
        None => BTreeMap::new(),
    };
    let h = handlebars()?;
    let render = |name: &str, data: &dyn erased::Data| {
        h.render(name, &data.json())
            .map_err(|e| format!("{name}: {e}"))
    };
    let mut files = BTreeMap::new();
    let mut services: BTreeMap<String, ServiceView> = BTreeMap::new();
    let crate_ident = config.crate_name.replace('-', "_");
    let mut siblings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for type_name in schemas.keys() {
        let (svc, res) = type_name.rsplit_once("::").unwrap_or_default();
        siblings
            .entry(svc.to_owned())
            .or_default()
            .insert(naming::pascal(res));
    }
    for (type_name, schema) in &schemas {
        let file = schema
            .get("x-cfnkit-file")
            .and_then(J::as_str)
            .unwrap_or_default();
        let label = format!("{}/{file}", config.schema_label);
        let (svc, res) = type_name.rsplit_once("::").unwrap_or_default();
        let mut others = siblings[svc].clone();
        others.remove(&naming::pascal(res));
        let mut m = model::resource(schema, &label, &others, docs.get(type_name))
            .map_err(|e| format!("{type_name}: {e}"))?;
        m.regenerate = config.regenerate.to_owned();
        let ns = type_name
            .rsplit_once("::")
            .map(|(a, _)| a)
            .unwrap_or_default()
            .to_owned();
        let svc = services
            .entry(m.service_module.clone())
            .or_insert_with(|| ServiceView {
                regenerate: config.regenerate,
                namespace: ns,
                module: m.service_module.clone(),
                schema_dir: config.schema_label,
                resources: vec![],
            });
        if svc.resources.iter().any(|r| r.module == m.module) {
            return Err(format!(
                "{type_name}: module {} already used in {}",
                m.module, svc.module
            ));
        }
        svc.resources.push(ResourceRef {
            module: m.module.clone(),
            name: m.name.clone(),
            builder: m.builder.clone(),
            handle: m.handle.clone(),
            crate_ident: crate_ident.clone(),
        });
        let text = render("resource", &m)?;
        files.insert(
            PathBuf::from(format!("src/{}/{}.rs", m.service_module, m.module)),
            text,
        );
    }
    let services: Vec<ServiceView> = services.into_values().collect();
    for s in &services {
        files.insert(
            PathBuf::from(format!("src/{}/mod.rs", s.module)),
            render("service", s)?,
        );
    }
    for f in config.default_features {
        if !services.iter().any(|s| s.module == *f) {
            return Err(format!(
                "default feature {f} is not a service in the schemas"
            ));
        }
    }
    let crate_view = serde_json::json!({
        "crate_name": config.crate_name,
        "regenerate": config.regenerate,
        "description": config.description,
        "schema_dir": config.schema_label,
        "default_features": config.default_features,
        "services": services,
        "lints": ALLOWED_LINTS,
    });
    files.insert("src/lib.rs".into(), render("lib", &crate_view)?);
    files.insert("Cargo.toml".into(), render("cargo", &crate_view)?);
    files.insert("rustfmt.toml".into(), render("rustfmt", &crate_view)?);
    files.insert(
        "examples/minimal_templates.rs".into(),
        render("minimal", &crate_view)?,
    );
    Ok(files)
}

mod erased {
    /// Lets `render` take any serializable view without generics in a closure.
    pub trait Data {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Data for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("views serialize")
        }
    }
}

/// Formats the generated Rust files with rustfmt (so `cargo fmt` leaves them alone), in a scratch directory.
/// `scratch` must be a directory no one else uses; it is removed afterwards.
#[expect(
    clippy::disallowed_methods,
    reason = "scratch is a directory no one else uses"
)]
pub fn format(files: &mut BTreeMap<PathBuf, String>, scratch: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(scratch);
    for (path, text) in files.iter() {
        let p = scratch.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&p, text).map_err(|e| e.to_string())?;
    }
    // rustfmt follows `mod` declarations, so files declaring modules are formatted one by one through stdin;
    // the others (one per resource type) in two processes, sharing the 2 cores.
    let declares_mods = |p: &Path| p.ends_with("lib.rs") || p.ends_with("mod.rs");
    let rustfmt = || {
        let mut c = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()));
        c.arg("--edition=2021")
            .arg("--config-path")
            .arg(scratch.join("rustfmt.toml"))
            .current_dir(scratch);
        c
    };
    let leaves: Vec<&PathBuf> = files
        .keys()
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && !declares_mods(p))
        .collect();
    let half = leaves.len().div_ceil(2).max(1);
    let children: Vec<_> = leaves
        .chunks(half)
        .map(|batch| {
            rustfmt()
                .args(batch)
                .spawn()
                .map_err(|e| format!("running rustfmt: {e}"))
        })
        .collect::<Result<_, _>>()?;
    for (path, text) in files.iter_mut().filter(|(p, _)| declares_mods(p)) {
        use std::io::Write;
        let mut c = rustfmt()
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("running rustfmt: {e}"))?;
        c.stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())?;
        let out = c.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("rustfmt failed on {}", path.display()));
        }
        std::fs::write(scratch.join(path), out.stdout).map_err(|e| e.to_string())?;
    }
    for mut c in children {
        let status = c.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!(
                "rustfmt failed ({status}); the generated code in {} does not parse",
                scratch.display()
            ));
        }
    }
    for (path, text) in files.iter_mut() {
        *text = std::fs::read_to_string(scratch.join(path)).map_err(|e| e.to_string())?;
    }
    let _ = std::fs::remove_dir_all(scratch);
    Ok(())
}

/// The files under `root` that generation owns (everything in `src/` and `examples/`, plus the two tomls).
pub fn owned_files(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for top in ["Cargo.toml", "rustfmt.toml"] {
        if root.join(top).exists() {
            out.push(PathBuf::from(top));
        }
    }
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            return;
        };
        for e in entries.flatten() {
            let rel = dir.join(e.file_name());
            if e.path().is_dir() {
                walk(root, &rel, out);
            } else {
                out.push(rel);
            }
        }
    }
    walk(root, Path::new("src"), &mut out);
    walk(root, Path::new("examples"), &mut out);
    out.sort();
    out
}

/// Files that differ between `files` and what is on disk under `root`: changed, missing or extra.
pub fn stale(files: &BTreeMap<PathBuf, String>, root: &Path) -> Vec<String> {
    let mut out = vec![];
    for (path, text) in files {
        match std::fs::read_to_string(root.join(path)) {
            Ok(t) if t == *text => {}
            Ok(_) => out.push(format!("changed: {}", path.display())),
            Err(_) => out.push(format!("missing: {}", path.display())),
        }
    }
    for p in owned_files(root) {
        if !files.contains_key(&p) {
            out.push(format!("extra: {}", p.display()));
        }
    }
    out
}

/// Writes `files` under `root`, removing owned files that are no longer generated. Returns how many changed.
pub fn write(files: &BTreeMap<PathBuf, String>, root: &Path) -> Result<usize, String> {
    let mut changed = 0;
    for p in owned_files(root) {
        if !files.contains_key(&p) {
            std::fs::remove_file(root.join(&p)).map_err(|e| e.to_string())?;
            changed += 1;
        }
    }
    for (path, text) in files {
        let p = root.join(path);
        if std::fs::read_to_string(&p).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&p, text).map_err(|e| e.to_string())?;
        changed += 1;
    }
    Ok(changed)
}
