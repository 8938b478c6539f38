//! Lambda code assets: a binary of a cargo package, built for the function's architecture into a zip that holds
//! only `bootstrap` (the `provided.al2023` runtime runs it), named by the SHA-256 of the zip.
//!
//! The scheme, which docs/assets.md documents for deployers:
//! - bucket: [`BUCKET`], `cfnkit-assets-${AWS::AccountId}-${AWS::Region}` (an `Fn::Sub`), created once per account
//!   and region by whoever deploys;
//! - key: `assets/<bin>/<sha256>.zip`, where `<sha256>` is the hex SHA-256 of the zip's bytes. The zip is built
//!   reproducibly ([`bundle`], [`build`]), so the key depends only on the content: two machines produce the same
//!   key, and a key never names two different zips.
//!
//! Two commands use it:
//! - `synth` leaves [`HASH_PLACEHOLDER`] in the key and builds nothing, so templates and snapshots are stable
//!   and need no binaries; the manifest lists each asset with `packaged: false`.
//! - `package` ([`package::package`]) builds and zips every asset the chosen stacks use, puts the real hash in the
//!   keys, and writes the zips at `<out>/assets/<bin>/<sha256>.zip`: the same relative path as the key, so
//!   `aws s3 sync <out>/assets s3://<bucket>/assets` uploads them all under the keys the templates name.
//!
//! The function resource carries the metadata `cfnkit:asset: {package, bin, architecture}` ([`METADATA_KEY`]):
//! `package` reads the synthesized templates (not the app's objects), so what it builds is exactly what the
//! templates refer to.

pub mod build;
pub mod bundle;
pub mod package;

use std::collections::BTreeMap;

use cfnkit_core::Value;

use crate::synth::{Assembly, Node};

/// The hash part of an asset's key until `package` knows the zip's SHA-256.
pub const HASH_PLACEHOLDER: &str = "__CFNKIT_ASSET_HASH__";

/// The assets bucket, an `Fn::Sub` pattern: one bucket per account and region.
pub const BUCKET: &str = "cfnkit-assets-${AWS::AccountId}-${AWS::Region}";

/// The function resource's metadata entry that says which binary its code is.
pub const METADATA_KEY: &str = "cfnkit:asset";

/// The S3 key of the zip of binary `bin` whose SHA-256 is `hash`.
pub fn key(bin: &str, hash: &str) -> String {
    format!("assets/{bin}/{hash}.zip")
}

/// An asset name that cannot go into an S3 key or a file path (see [`check_names`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "an asset's {what} must be letters, digits, `-` or `_` (a cargo package or binary name, a hex hash), got \
     {value:?}"
)]
pub struct InvalidAssetName {
    /// `package`, `binary` or `hash`.
    pub what: &'static str,
    /// The name as given.
    pub value: String,
}

/// Asset names go into S3 keys and file paths: letters, digits, `-` and `_` only (cargo's own rule for package
/// and target names, which keeps keys free of `/` and `..`).
pub fn check_names(package: Option<&str>, bin: &str, hash: &str) -> Result<(), InvalidAssetName> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    };
    for (what, value) in [
        ("package", package.unwrap_or("x")),
        ("binary", bin),
        ("hash", hash),
    ] {
        if !ok(value) {
            return Err(InvalidAssetName {
                what,
                value: value.to_owned(),
            });
        }
    }
    Ok(())
}

/// The instruction set a function runs on; an asset's zip is built for the architecture of the function that
/// uses it. It lives here, with the builds that need it, so that assets do not depend on the constructs that
/// name assets ([`crate::constructs::lambda`] re-exports it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Architecture {
    /// Graviton: cheaper per millisecond, and what the runtime crate is built for.
    #[default]
    Arm64,
    /// Intel and AMD: for handlers whose dependencies do not build for ARM.
    X86_64,
}

impl Architecture {
    /// Lambda's name for it: `arm64` or `x86_64`.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }
    /// The Rust target the zip is built for.
    pub fn rust_target(self) -> &'static str {
        match self {
            Architecture::Arm64 => "aarch64-unknown-linux-gnu",
            Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }
    fn parse(s: &str) -> Option<Architecture> {
        match s {
            "arm64" => Some(Architecture::Arm64),
            "x86_64" => Some(Architecture::X86_64),
            _ => None,
        }
    }
}

/// What to build: a binary of a cargo package, for an architecture.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetSpec {
    // Field order is sort order (derived `Ord`): the manifest lists assets by binary, then architecture.
    /// The cargo binary (target) name; it is also the asset's S3 key prefix.
    pub bin: String,
    /// The architecture of the functions that run it, which the binary is cross-compiled for.
    pub architecture: Architecture,
    /// `None` when the code was given by binary name only ([`crate::constructs::lambda::Code::asset`]);
    /// `package` looks it up in the workspace.
    pub package: Option<String>,
}

impl AssetSpec {
    /// The function's `cfnkit:asset` metadata.
    pub fn to_metadata(&self) -> Value {
        let mut m = vec![("bin", Value::from(self.bin.as_str()))];
        if let Some(p) = &self.package {
            m.push(("package", Value::from(p.as_str())));
        }
        m.push(("architecture", Value::from(self.architecture.as_str())));
        Value::map(m)
    }

    fn from_metadata(node: &Node) -> Option<AssetSpec> {
        let text = |k: &str| match node.get(k) {
            Some(Node::String(s)) => Some(s.clone()),
            _ => None,
        };
        Some(AssetSpec {
            package: text("package"),
            bin: text("bin")?,
            architecture: Architecture::parse(&text("architecture")?)?,
        })
    }
}

/// An asset the templates refer to, with the functions that use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetUse {
    /// What to build, from the functions' `cfnkit:asset` metadata.
    pub spec: AssetSpec,
    /// `Stack/LogicalId` of each function whose code it is.
    pub used_by: Vec<String>,
    /// The key in the templates: with [`HASH_PLACEHOLDER`] (to be packaged) or with a hash given in code.
    pub key: String,
}

impl AssetUse {
    /// Whether `package` has to build it (its key still has the placeholder).
    pub fn pending(&self) -> bool {
        self.key.contains(HASH_PLACEHOLDER)
    }
}

/// The assets used by the chosen stacks (all when `selection` is empty), one per distinct spec and key, sorted.
pub fn discover(assembly: &Assembly, selection: &[String]) -> Vec<AssetUse> {
    let mut found: BTreeMap<(AssetSpec, String), Vec<String>> = BTreeMap::new();
    for stack in assembly
        .stacks
        .iter()
        .filter(|s| selection.is_empty() || selection.contains(&s.name))
    {
        for (id, resource) in resources(&stack.template) {
            let Some(spec) = resource
                .get("Metadata")
                .and_then(|m| m.get(METADATA_KEY))
                .and_then(AssetSpec::from_metadata)
            else {
                continue;
            };
            let Some(Node::String(key)) = s3_key(resource) else {
                continue;
            };
            found
                .entry((spec, key.clone()))
                .or_default()
                .push(format!("{}/{id}", stack.name));
        }
    }
    found
        .into_iter()
        .map(|((spec, key), used_by)| AssetUse { spec, used_by, key })
        .collect()
}

/// Puts each built zip's hash in the keys of the functions that use it. `hashes` is keyed by the spec as the
/// templates have it (package possibly `None`).
pub fn substitute(assembly: &mut Assembly, hashes: &BTreeMap<AssetSpec, String>) {
    for stack in &mut assembly.stacks {
        let Node::Map(sections) = &mut stack.template else {
            continue;
        };
        let Some((_, Node::Map(resources))) = sections.iter_mut().find(|(k, _)| k == "Resources")
        else {
            continue;
        };
        for (_, resource) in resources.iter_mut() {
            let Some(spec) = resource
                .get("Metadata")
                .and_then(|m| m.get(METADATA_KEY))
                .and_then(AssetSpec::from_metadata)
            else {
                continue;
            };
            let Some(hash) = hashes.get(&spec) else {
                continue;
            };
            let Some(Node::String(key)) = resource
                .get_mut("Properties")
                .and_then(|p| p.get_mut("Code"))
                .and_then(|c| c.get_mut("S3Key"))
            else {
                continue;
            };
            *key = key.replace(HASH_PLACEHOLDER, hash);
        }
        // A gradually deployed function's version names its function's code key in its description, so that new
        // code replaces (publishes) the version: it gets the same hash as its function (`FunctionName: {Ref}`).
        let keys: BTreeMap<String, (String, String)> = resources
            .iter()
            .filter_map(|(id, r)| {
                let spec = r
                    .get("Metadata")
                    .and_then(|m| m.get(METADATA_KEY))
                    .and_then(AssetSpec::from_metadata)?;
                let Some(Node::String(k)) = s3_key(r) else {
                    return None;
                };
                Some((id.clone(), (key(&spec.bin, HASH_PLACEHOLDER), k.clone())))
            })
            .collect();
        for (_, resource) in resources.iter_mut() {
            if !matches!(resource.get("Type"), Some(Node::String(t)) if t == "AWS::Lambda::Version")
            {
                continue;
            }
            let Some(Node::Fn("Ref", function)) = resource
                .get("Properties")
                .and_then(|p| p.get("FunctionName"))
            else {
                continue;
            };
            let Node::String(function) = function.as_ref() else {
                continue;
            };
            let Some((placeholder_key, packaged_key)) = keys.get(function) else {
                continue;
            };
            if let Some(Node::String(description)) = resource
                .get_mut("Properties")
                .and_then(|p| p.get_mut("Description"))
            {
                *description = description.replace(placeholder_key, packaged_key);
            }
        }
    }
}

fn resources(template: &Node) -> Vec<(&str, &Node)> {
    match template.get("Resources") {
        Some(Node::Map(entries)) => entries.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        _ => Vec::new(),
    }
}

fn s3_key(resource: &Node) -> Option<&Node> {
    resource.get("Properties")?.get("Code")?.get("S3Key")
}

/// Why packaging failed. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error(
        "cargo-zigbuild was not found ({0}). `package` builds Lambda binaries with it (zig links them against \
         glibc 2.34, Amazon Linux 2023's). Install both, pinned: `pip install cargo-zigbuild==0.24.0 \
         ziglang==0.15.2` (into a venv on PATH), or `cargo install --locked cargo-zigbuild@0.24.0` plus \
         `pip install ziglang==0.15.2`; runtime/ci.sh does the former"
    )]
    /// `cargo-zigbuild` could not be started, or its `--version` failed; the program and what it said.
    ZigbuildMissing(String),
    /// The build (or `cfnkit check`'s host build) exited with an error.
    #[error("`{command}` failed ({status}){hint}:\n{stderr}")]
    BuildFailed {
        /// The command line that was run.
        command: String,
        /// Its exit status.
        status: String,
        /// A parenthesized likely cause recognized in `stderr`, or empty.
        hint: String,
        /// What the build wrote to standard error.
        stderr: String,
    },
    /// `cargo metadata` could not run or its output could not be read, so the workspace's binaries are unknown.
    #[error("`cargo metadata` in {dir} failed: {message}")]
    Metadata {
        /// The directory it ran in.
        dir: String,
        /// What went wrong.
        message: String,
    },
    #[error(
        "no package of the workspace at {workspace} has a binary named {bin:?} (used by {used_by}); its binaries \
         are: {available}. Fix the name in Code::cargo_bin, or add src/bin/{bin}.rs"
    )]
    /// A function names a binary (without a package) that no package of the workspace has.
    UnknownBin {
        /// The binary name the function's code gives.
        bin: String,
        /// The functions that use it (`Stack/LogicalId`, comma-separated).
        used_by: String,
        /// The workspace root.
        workspace: String,
        /// Every binary of the workspace, comma-separated.
        available: String,
    },
    #[error(
        "package {package:?} has no binary named {bin:?} (used by {used_by}); its binaries are: {available}"
    )]
    /// A function names a package and a binary, and the package has no binary of that name.
    UnknownPackageBin {
        /// The package the function's code names.
        package: String,
        /// The binary name the function's code gives.
        bin: String,
        /// The functions that use it (`Stack/LogicalId`, comma-separated).
        used_by: String,
        /// The package's binaries, comma-separated.
        available: String,
    },
    #[error("no package named {package:?} in the workspace at {workspace} (used by {used_by}); its packages are: {available}")]
    /// A function names a package that is not a member of the workspace.
    UnknownPackage {
        /// The package the function's code names.
        package: String,
        /// The functions that use it (`Stack/LogicalId`, comma-separated).
        used_by: String,
        /// The workspace root.
        workspace: String,
        /// The workspace's packages, comma-separated.
        available: String,
    },
    #[error(
        "binary {bin:?} (used by {used_by}) is in several packages: {packages}. Say which with \
         Code::cargo_bin(\"<package>\", \"{bin}\")"
    )]
    /// A function names a binary without a package, and several packages have a binary of that name.
    AmbiguousBin {
        /// The binary name the function's code gives.
        bin: String,
        /// The functions that use it (`Stack/LogicalId`, comma-separated).
        used_by: String,
        /// The packages that have it, comma-separated.
        packages: String,
    },
    #[error(
        "{used_by} run(s) on {architecture}, but the Rust standard library for {target} is not installed, so \
         {bin} cannot be built for it. Install it (`rustup target add {target}`), or make the function's \
         architecture one this toolchain builds (FunctionProps::architecture)"
    )]
    /// The toolchain lacks the standard library of the Rust target a function's architecture needs.
    TargetMissing {
        /// The binary that would be built.
        bin: String,
        /// The functions that use it (`Stack/LogicalId`, comma-separated).
        used_by: String,
        /// Lambda's name of the functions' architecture (`arm64`).
        architecture: &'static str,
        /// The Rust target to install (`aarch64-unknown-linux-gnu`).
        target: &'static str,
    },
    #[error(
        "the built {path} is {found}, but it is packaged for {used_by}, which run(s) on {expected}: a zip must \
         hold a binary of its function's architecture. Check the build's --target and CARGO_BUILD_TARGET"
    )]
    /// A built binary is not an executable of its functions' architecture (a `--target` or
    /// `CARGO_BUILD_TARGET` overriding the build's).
    WrongArchitecture {
        /// The built file.
        path: String,
        /// What it is instead (`an x86_64 executable`, `not an ELF executable`).
        found: String,
        /// Lambda's name of the functions' architecture (`arm64`).
        expected: &'static str,
        /// The functions that use it (`Stack/LogicalId`, comma-separated).
        used_by: String,
    },
    /// A file of the build or of the output could not be read or written.
    #[error("could not read or write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a binary's zip failed.
    #[error("could not zip {bin}: {source}")]
    Zip {
        /// The binary being zipped.
        bin: String,
        /// The zip library's error.
        #[source]
        source: zip::result::ZipError,
    },
}

/// The manifest's list of the assets the chosen stacks use: packaged ones with their zip, the others with the
/// key the templates have.
pub fn manifest_entries(
    assembly: &Assembly,
    selection: &[String],
    packaged: &[package::Packaged],
) -> Vec<crate::synth::manifest::ManifestAsset> {
    discover(assembly, selection)
        .into_iter()
        .map(|u| {
            let built = packaged
                .iter()
                .find(|p| p.spec == u.spec && u.key == p.key());
            crate::synth::manifest::ManifestAsset {
                name: u.spec.bin.clone(),
                package: built.map(|p| p.package.clone()).or(u.spec.package.clone()),
                bin: u.spec.bin.clone(),
                architecture: u.spec.architecture.as_str().to_owned(),
                target: format!("{}.{}", u.spec.architecture.rust_target(), build::GLIBC),
                packaged: built.is_some(),
                path: built.map(package::Packaged::key),
                sha256: built.map(|p| p.sha256.clone()),
                bytes: built.map(|p| p.zip.len() as u64),
                bucket: BUCKET.to_owned(),
                key: u.key,
                used_by: u.used_by,
            }
        })
        .collect()
}
