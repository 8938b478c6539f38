//! The cloud assembly synth wrote (`cfnkit.out/`): the manifest, the templates it names, and which stacks a
//! command works on, in which order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cfnkit::synth::manifest::{ManifestStack, VERSION};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::DeployError;

/// `manifest.json` as this tool reads it: the stacks exactly as cfnkit writes them, and the assets leniently
/// (only what uploading needs), so that a manifest from before the packaging step (assets as `{path, sha256,
/// key}`) reads as well as one from `package` (with `packaged`, `bucket`, `usedBy`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub format: String,
    /// Stacks in deploy order.
    pub stacks: Vec<ManifestStack>,
    #[serde(default)]
    pub assets: Vec<Asset>,
}

impl Manifest {
    pub fn stack(&self, name: &str) -> Option<&ManifestStack> {
        self.stacks.iter().find(|s| s.name == name)
    }
}

/// A file the templates refer to, uploaded to `bucket` under `key` before deploying.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// The asset's name (the handler binary); the key when the manifest has none.
    #[serde(default)]
    pub name: Option<String>,
    /// The file, relative to the manifest; absent until the asset is built.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    /// Whether it is built; manifests without the field have built every asset they list.
    #[serde(default = "yes")]
    pub packaged: bool,
    /// An `Fn::Sub` pattern of the pseudo parameters; the bootstrap bucket when absent.
    #[serde(default = "bootstrap_bucket")]
    pub bucket: String,
    pub key: String,
    /// `Stack/LogicalId` of the resources that use it; every stack's when empty.
    #[serde(default)]
    pub used_by: Vec<String>,
}

fn yes() -> bool {
    true
}

fn bootstrap_bucket() -> String {
    cfnkit::constructs::lambda::ASSET_BUCKET.to_owned()
}

impl Asset {
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.key)
    }
}

/// A synthesized app, read from its directory.
#[derive(Clone, Debug)]
pub struct Assembly {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Assembly {
    /// Reads `<dir>/manifest.json`.
    pub fn load(dir: &Path) -> Result<Self, DeployError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|source| DeployError::NoAssembly {
            dir: dir.to_path_buf(),
            source,
        })?;
        Ok(Assembly {
            dir: dir.to_path_buf(),
            manifest: parse_manifest(&path, &text)?,
        })
    }

    /// A stack's template as synth wrote it, checked against the manifest's SHA-256 so that what is deployed is
    /// what was synthesized (and reviewed).
    pub fn template(&self, stack: &ManifestStack) -> Result<String, DeployError> {
        let path = self.dir.join(&stack.template);
        let body = std::fs::read_to_string(&path).map_err(|source| DeployError::Read {
            path: path.clone(),
            source,
        })?;
        let actual = sha256_hex(body.as_bytes());
        if actual != stack.sha256 {
            return Err(DeployError::ChangedAfterSynth {
                path,
                expected: stack.sha256.clone(),
                actual,
            });
        }
        Ok(body)
    }

    /// The named stacks and every stack they depend on, in deploy order (all stacks when none are named).
    pub fn deploy_selection(&self, names: &[String]) -> Result<Vec<&ManifestStack>, DeployError> {
        select_with_dependencies(&self.manifest, names)
    }

    /// The named stacks and every stack that depends on them, in the order to delete them: a stack goes before
    /// the stacks it imports from, since CloudFormation refuses to delete an export that is still imported.
    pub fn destroy_selection(&self, names: &[String]) -> Result<Vec<&ManifestStack>, DeployError> {
        select_with_dependents(&self.manifest, names)
    }
}

pub fn parse_manifest(path: &Path, text: &str) -> Result<Manifest, DeployError> {
    // The version is read first, so that a future manifest is reported as such and not as a field mismatch.
    let raw: serde_json::Value =
        serde_json::from_str(text).map_err(|e| DeployError::BadManifest {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    match raw.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) => {
            return Err(DeployError::ManifestVersion {
                found: v as u32,
                supported: VERSION,
            });
        }
        None => {
            return Err(DeployError::BadManifest {
                path: path.to_path_buf(),
                message: "it has no `version` number".into(),
            })
        }
    }
    serde_json::from_value(raw).map_err(|e| DeployError::BadManifest {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_names(manifest: &Manifest, names: &[String]) -> Result<(), DeployError> {
    for name in names {
        if manifest.stack(name).is_none() {
            let available = manifest
                .stacks
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(DeployError::UnknownStack {
                name: name.clone(),
                available,
            });
        }
    }
    Ok(())
}

/// The manifest lists stacks in deploy order (each after its dependencies), so closing the named set over
/// `dependencies` and keeping the manifest's order is enough.
pub fn select_with_dependencies<'m>(
    manifest: &'m Manifest,
    names: &[String],
) -> Result<Vec<&'m ManifestStack>, DeployError> {
    check_names(manifest, names)?;
    if names.is_empty() {
        return Ok(manifest.stacks.iter().collect());
    }
    let mut chosen: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let mut pending: Vec<&str> = chosen.iter().copied().collect();
    while let Some(name) = pending.pop() {
        if let Some(stack) = manifest.stack(name) {
            for dep in &stack.dependencies {
                if chosen.insert(dep) {
                    pending.push(dep);
                }
            }
        }
    }
    Ok(manifest
        .stacks
        .iter()
        .filter(|s| chosen.contains(s.name.as_str()))
        .collect())
}

/// Like CDK's destroy: what depends on a destroyed stack is destroyed too (it could not keep importing from
/// it), newest first.
pub fn select_with_dependents<'m>(
    manifest: &'m Manifest,
    names: &[String],
) -> Result<Vec<&'m ManifestStack>, DeployError> {
    check_names(manifest, names)?;
    let mut chosen: BTreeSet<&str> = if names.is_empty() {
        manifest.stacks.iter().map(|s| s.name.as_str()).collect()
    } else {
        names.iter().map(String::as_str).collect()
    };
    // One pass in deploy order suffices: a dependent always comes after what it depends on.
    for stack in &manifest.stacks {
        if stack
            .dependencies
            .iter()
            .any(|d| chosen.contains(d.as_str()))
        {
            chosen.insert(&stack.name);
        }
    }
    Ok(manifest
        .stacks
        .iter()
        .rev()
        .filter(|s| chosen.contains(s.name.as_str()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfnkit::synth::manifest::ManifestEnvironment;

    fn stack(name: &str, deps: &[&str]) -> ManifestStack {
        ManifestStack {
            name: name.into(),
            template: format!("{name}.template.json"),
            sha256: String::new(),
            bytes: 0,
            requires_s3_upload: false,
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            environment: ManifestEnvironment::default(),
            termination_protection: false,
            tags: Default::default(),
            exports: vec![],
            imports: vec![],
            weak_outputs: vec![],
            weak_references: vec![],
            moves: vec![],
        }
    }

    /// Base <- Order <- Api, Base <- Ops; Lonely stands alone.
    fn manifest() -> Manifest {
        Manifest {
            version: VERSION,
            format: "json".into(),
            stacks: vec![
                stack("Base", &[]),
                stack("Lonely", &[]),
                stack("Order", &["Base"]),
                stack("Ops", &["Base"]),
                stack("Api", &["Order"]),
            ],
            assets: vec![],
        }
    }

    fn names(stacks: &[&ManifestStack]) -> Vec<String> {
        stacks.iter().map(|s| s.name.clone()).collect()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn deploy_brings_transitive_dependencies_in_manifest_order() {
        let m = manifest();
        assert_eq!(
            names(&select_with_dependencies(&m, &strings(&["Api"])).unwrap()),
            ["Base", "Order", "Api"]
        );
        assert_eq!(
            names(&select_with_dependencies(&m, &strings(&["Ops", "Lonely"])).unwrap()),
            ["Base", "Lonely", "Ops"]
        );
        assert_eq!(select_with_dependencies(&m, &[]).unwrap().len(), 5);
    }

    #[test]
    fn destroy_brings_dependents_newest_first() {
        let m = manifest();
        assert_eq!(
            names(&select_with_dependents(&m, &strings(&["Base"])).unwrap()),
            ["Api", "Ops", "Order", "Base"]
        );
        assert_eq!(
            names(&select_with_dependents(&m, &strings(&["Order"])).unwrap()),
            ["Api", "Order"]
        );
        assert_eq!(
            names(&select_with_dependents(&m, &[]).unwrap()),
            ["Api", "Ops", "Order", "Lonely", "Base"]
        );
    }

    #[test]
    fn unknown_stack_names_the_available_ones() {
        let err = select_with_dependencies(&manifest(), &strings(&["Orders"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "unknown stack `Orders`; the app has: Base, Lonely, Order, Ops, Api"
        );
    }

    #[test]
    fn manifest_written_by_synth_reads_back() {
        let m = manifest();
        let written = cfnkit::synth::manifest::Manifest {
            version: m.version,
            format: m.format.clone(),
            stacks: m.stacks.clone(),
            assets: vec![],
        };
        let parsed = parse_manifest(Path::new("m.json"), &written.to_json()).unwrap();
        assert_eq!(parsed, m);
    }

    #[test]
    fn assets_read_before_and_after_packaging() {
        let before = r#"{"path": "a.zip", "sha256": "ab", "key": "assets/a.zip"}"#;
        let after = r#"{"name": "ingest", "package": null, "bin": "ingest", "packaged": false, "path": null,
            "bucket": "b-${AWS::Region}", "key": "assets/ingest/x.zip", "usedBy": ["Order/Ingest"]}"#;
        let before: Asset = serde_json::from_str(before).unwrap();
        assert!(before.packaged && before.used_by.is_empty());
        assert_eq!(
            (before.label(), before.bucket.as_str()),
            ("assets/a.zip", cfnkit::constructs::lambda::ASSET_BUCKET)
        );
        let after: Asset = serde_json::from_str(after).unwrap();
        assert!(!after.packaged && after.path.is_none());
        assert_eq!(
            (after.label(), after.used_by.as_slice()),
            ("ingest", ["Order/Ingest".to_owned()].as_slice())
        );
    }

    #[test]
    fn future_and_broken_manifests_are_named() {
        let future = parse_manifest(Path::new("m.json"), r#"{"version": 99}"#)
            .unwrap_err()
            .to_string();
        assert!(
            future.starts_with("manifest version 99 is not supported"),
            "{future}"
        );
        let broken = parse_manifest(Path::new("out/m.json"), r#"{"version": 1, "stacks": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(
            broken.starts_with("out/m.json is not a manifest"),
            "{broken}"
        );
    }

    #[test]
    fn a_template_edited_after_synth_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Base.template.json"), "{}").unwrap();
        let mut m = manifest();
        m.stacks[0].sha256 = sha256_hex(b"{}");
        let asm = Assembly {
            dir: dir.path().into(),
            manifest: m.clone(),
        };
        assert_eq!(asm.template(&m.stacks[0]).unwrap(), "{}");
        std::fs::write(dir.path().join("Base.template.json"), "{ }").unwrap();
        let err = asm.template(&m.stacks[0]).unwrap_err().to_string();
        assert!(err.contains("changed after synth"), "{err}");
    }
}
