//! Which app `cargo cfn` synthesizes, and where: the cargo workspace around the working directory, its binaries,
//! and the one `cargo run` would run at the workspace root. So the tool answers the same from any directory of
//! the workspace, and from any workspace once installed (`cargo install --locked --path deploy`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, TargetKind};

use crate::error::DeployError;

/// Where synth writes the cloud assembly unless `--out` says otherwise: this directory at the workspace root.
pub const DEFAULT_OUT: &str = "cfnkit.out";

/// A binary target of a workspace member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bin {
    pub package: String,
    pub name: String,
}

/// The cargo workspace the tool runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    pub root: PathBuf,
    /// Every binary of every member, sorted by package then name.
    pub bins: Vec<Bin>,
    /// What `cargo run` chooses from at the root: the binaries of the default members (`default-members`, else
    /// the root package, else every member, as cargo decides), and the only `default-run` among them.
    default_bins: Vec<Bin>,
    default_run: Option<Bin>,
}

/// How synth runs the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum App {
    /// A binary of the workspace, through `cargo run` at the workspace root.
    Bin { bin: Bin, root: PathBuf },
    /// A shell command given with `--app`, run in the working directory.
    Command(String),
}

/// The cargo that started this tool (cargo sets `CARGO` for its subcommands and for `cargo run`), else the one
/// on PATH: the app is then built by the same toolchain.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

impl Workspace {
    /// The workspace around `dir`, from `cargo metadata` (its members only, nothing is resolved or fetched), as
    /// seen from its root: cargo counts the package of the directory it runs in as the only default member, and
    /// the app is what `cargo run` runs at the root wherever the tool is started.
    pub fn locate(dir: &Path) -> Result<Workspace, DeployError> {
        let metadata =
            |command: &mut MetadataCommand| {
                command.cargo_path(cargo()).no_deps().exec().map_err(|e| {
                    DeployError::NotInWorkspace {
                        dir: dir.to_path_buf(),
                        message: metadata_message(&e),
                    }
                })
            };
        let here = metadata(MetadataCommand::new().current_dir(dir))?;
        let root = here.workspace_root.as_std_path();
        if dir.canonicalize().is_ok_and(|d| d == root) {
            return Ok(Workspace::from_metadata(&here));
        }
        let at_root = metadata(MetadataCommand::new().manifest_path(root.join("Cargo.toml")))?;
        Ok(Workspace::from_metadata(&at_root))
    }

    pub fn from_metadata(metadata: &Metadata) -> Workspace {
        let bins_of = |packages: Vec<&cargo_metadata::Package>| -> Vec<Bin> {
            let mut bins: Vec<Bin> = packages
                .iter()
                .flat_map(|p| {
                    p.targets
                        .iter()
                        .filter(|t| t.kind.contains(&TargetKind::Bin))
                        .map(|t| Bin {
                            package: p.name.to_string(),
                            name: t.name.clone(),
                        })
                })
                .collect();
            bins.sort_by(|a, b| (&a.package, &a.name).cmp(&(&b.package, &b.name)));
            bins
        };
        let defaults = metadata.workspace_default_packages();
        // cargo runs the `default-run` of the default members when exactly one of them has one (a virtual
        // workspace whose members are all default, as `cargo cfn new` writes, names its app this way).
        let default_runs: Vec<Bin> = defaults
            .iter()
            .filter_map(|p| {
                p.default_run.as_ref().map(|name| Bin {
                    package: p.name.to_string(),
                    name: name.clone(),
                })
            })
            .collect();
        let default_run = match <[Bin; 1]>::try_from(default_runs) {
            Ok([only]) => Some(only),
            Err(_) => None,
        };
        Workspace {
            root: metadata.workspace_root.clone().into_std_path_buf(),
            bins: bins_of(metadata.workspace_packages()),
            default_bins: bins_of(defaults),
            default_run,
        }
    }

    /// The binary `cargo run` runs at the workspace root, or an error listing the binaries to choose from.
    pub fn default_bin(&self) -> Result<&Bin, DeployError> {
        if let Some(bin) = &self.default_run {
            return Ok(bin);
        }
        match self.default_bins.as_slice() {
            [only] => Ok(only),
            [] => Err(DeployError::NoDefaultApp {
                root: self.root.clone(),
                why: "its default members have no binary".into(),
                bins: self.bin_list(),
            }),
            many => Err(DeployError::NoDefaultApp {
                root: self.root.clone(),
                why: format!(
                    "its default members have {} binaries and no `default-run`",
                    many.len()
                ),
                bins: self.bin_list(),
            }),
        }
    }

    /// The binary named `name`, from any member.
    pub fn bin(&self, name: &str) -> Result<&Bin, DeployError> {
        let found: Vec<&Bin> = self.bins.iter().filter(|b| b.name == name).collect();
        match found.as_slice() {
            [only] => Ok(only),
            [] => Err(DeployError::UnknownApp {
                name: name.into(),
                root: self.root.clone(),
                bins: self.bin_list(),
            }),
            _ => Err(DeployError::AmbiguousApp {
                name: name.into(),
                packages: found
                    .iter()
                    .map(|b| b.package.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// `name (package p), ...`, or a note that there are none.
    fn bin_list(&self) -> String {
        if self.bins.is_empty() {
            return "none".into();
        }
        self.bins
            .iter()
            .map(|b| format!("{} (package {})", b.name, b.package))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// cargo's own message for why there is no workspace (no Cargo.toml, a broken one), without the wrapping.
fn metadata_message(e: &cargo_metadata::Error) -> String {
    match e {
        cargo_metadata::Error::CargoMetadata { stderr } => stderr
            .lines()
            .map(|l| l.trim_start_matches("error: ").trim())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// The app `--app` names (a binary of the workspace when it is one word without a `/`, else a shell command),
/// or the workspace's default binary without it.
pub fn resolve_app(app: Option<&str>, workspace: Option<&Workspace>) -> Result<App, DeployError> {
    if let Some(line) = app.filter(|a| is_command(a)) {
        return Ok(App::Command(line.to_owned()));
    }
    let ws = workspace.ok_or_else(|| DeployError::NotInWorkspace {
        dir: std::env::current_dir().unwrap_or_default(),
        message: "there is no cargo workspace here".into(),
    })?;
    match app {
        Some(name) => Ok(App::Bin {
            bin: ws.bin(name)?.clone(),
            root: ws.root.clone(),
        }),
        None => Ok(App::Bin {
            bin: ws.default_bin()?.clone(),
            root: ws.root.clone(),
        }),
    }
}

/// A command has arguments or a path (`cargo run --`, `./target/release/app`); a binary's name has neither.
pub fn is_command(app: &str) -> bool {
    app.contains(char::is_whitespace) || app.contains('/')
}

/// Where the cloud assembly goes: `--out` as given (relative to the working directory), else `cfnkit.out` at
/// the workspace root, else in the working directory.
pub fn out_dir(out: Option<&Path>, workspace: Option<&Workspace>) -> PathBuf {
    match (out, workspace) {
        (Some(out), _) => out.to_path_buf(),
        (None, Some(ws)) => ws.root.join(DEFAULT_OUT),
        (None, None) => PathBuf::from(DEFAULT_OUT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `cargo metadata --no-deps` of a workspace, reduced to what is read here: `members` are
    /// `(package, [bins], default_run)`, the default members by index.
    fn metadata(members: &[(&str, &[&str], Option<&str>)], defaults: &[usize]) -> Metadata {
        let id = |p: &str| format!("path+file:///ws/{p}#0.1.0");
        let packages: Vec<_> = members
            .iter()
            .map(|(name, bins, default_run)| {
                let mut targets: Vec<_> = bins
                    .iter()
                    .map(|b| json!({"name": b, "kind": ["bin"], "crate_types": ["bin"], "src_path": format!("/ws/{name}/src/bin/{b}.rs"), "edition": "2021", "doctest": false, "test": true, "doc": true}))
                    .collect();
                targets.push(json!({"name": name, "kind": ["lib"], "crate_types": ["lib"], "src_path": format!("/ws/{name}/src/lib.rs"), "edition": "2021", "doctest": true, "test": true, "doc": true}));
                json!({
                    "name": name, "version": "0.1.0", "id": id(name), "license": null, "license_file": null,
                    "description": null, "source": null, "dependencies": [], "targets": targets, "features": {},
                    "manifest_path": format!("/ws/{name}/Cargo.toml"), "metadata": null, "publish": null,
                    "authors": [], "categories": [], "keywords": [], "readme": null, "repository": null,
                    "homepage": null, "documentation": null, "edition": "2021", "links": null,
                    "default_run": default_run, "rust_version": null
                })
            })
            .collect();
        serde_json::from_value(json!({
            "packages": packages,
            "workspace_members": members.iter().map(|(n, _, _)| id(n)).collect::<Vec<_>>(),
            "workspace_default_members": defaults.iter().map(|&i| id(members[i].0)).collect::<Vec<_>>(),
            "resolve": null, "target_directory": "/ws/target", "version": 1, "workspace_root": "/ws",
            "metadata": null
        }))
        .unwrap()
    }

    fn bin(package: &str, name: &str) -> Bin {
        Bin {
            package: package.into(),
            name: name.into(),
        }
    }

    #[test]
    fn the_only_binary_of_the_default_members_is_the_app() {
        let ws = Workspace::from_metadata(&metadata(
            &[
                ("stacks", &["platform"], None),
                ("handlers", &["ingest", "notify"], None),
            ],
            &[0],
        ));
        assert_eq!(ws.default_bin().unwrap(), &bin("stacks", "platform"));
        assert_eq!(ws.root, Path::new("/ws"));
        assert_eq!(
            resolve_app(None, Some(&ws)).unwrap(),
            App::Bin {
                bin: bin("stacks", "platform"),
                root: "/ws".into()
            }
        );
    }

    #[test]
    fn default_run_decides_between_binaries_as_for_cargo_run() {
        let ws = Workspace::from_metadata(&metadata(
            &[("app", &["synth-app", "tool"], Some("synth-app"))],
            &[0],
        ));
        assert_eq!(ws.default_bin().unwrap(), &bin("app", "synth-app"));
    }

    /// As `cargo run` decides (checked with cargo 1.95): among several default members, the only one with a
    /// `default-run` names the binary.
    #[test]
    fn the_only_default_run_among_default_members_is_the_app() {
        let ws = Workspace::from_metadata(&metadata(
            &[
                ("infra", &["demo"], Some("demo")),
                ("handlers", &["create_order", "process_order"], None),
            ],
            &[0, 1],
        ));
        assert_eq!(ws.default_bin().unwrap(), &bin("infra", "demo"));
        let two = Workspace::from_metadata(&metadata(
            &[("a", &["x"], Some("x")), ("b", &["y"], Some("y"))],
            &[0, 1],
        ));
        assert!(two.default_bin().is_err());
    }

    #[test]
    fn an_ambiguous_default_lists_the_binaries_and_app() {
        // A virtual workspace without default-members: every member is a default one.
        let ws = Workspace::from_metadata(&metadata(
            &[
                ("infra", &["platform"], None),
                ("handlers", &["ingest"], None),
            ],
            &[0, 1],
        ));
        let err = ws.default_bin().unwrap_err().to_string();
        assert_eq!(
            err,
            "`cargo run` at /ws has no one app to run: its default members have 2 binaries and no `default-run`. \
             The workspace's binaries: ingest (package handlers), platform (package infra); pass the app's with \
             --app NAME, or a command that runs it with --app \"COMMAND\""
        );
        assert_eq!(
            resolve_app(Some("platform"), Some(&ws)).unwrap(),
            App::Bin {
                bin: bin("infra", "platform"),
                root: "/ws".into()
            }
        );
    }

    #[test]
    fn app_is_a_binary_name_or_a_command() {
        let ws = Workspace::from_metadata(&metadata(&[("stacks", &["platform"], None)], &[0]));
        assert_eq!(
            resolve_app(Some("./target/release/platform"), Some(&ws)).unwrap(),
            App::Command("./target/release/platform".into())
        );
        assert_eq!(
            resolve_app(Some("cargo run --quiet --"), None).unwrap(),
            App::Command("cargo run --quiet --".into())
        );
        let err = resolve_app(Some("platfrom"), Some(&ws))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--app platfrom names no binary of the workspace at /ws; its binaries: platform (package stacks)"),
            "{err}"
        );
        let err = resolve_app(None, None).unwrap_err().to_string();
        assert!(err.contains("there is no cargo workspace here"), "{err}");
    }

    #[test]
    fn a_binary_name_in_two_packages_is_refused_with_the_packages() {
        let ws = Workspace::from_metadata(&metadata(
            &[("a", &["app"], None), ("b", &["app"], None)],
            &[0],
        ));
        let err = ws.bin("app").unwrap_err().to_string();
        assert!(err.contains("packages a, b"), "{err}");
    }

    #[test]
    fn the_assembly_goes_to_the_workspace_root_unless_out_says_otherwise() {
        let ws = Workspace::from_metadata(&metadata(&[("stacks", &["platform"], None)], &[0]));
        assert_eq!(out_dir(None, Some(&ws)), Path::new("/ws/cfnkit.out"));
        assert_eq!(
            out_dir(Some(Path::new("here.out")), Some(&ws)),
            Path::new("here.out")
        );
        assert_eq!(out_dir(None, None), Path::new("cfnkit.out"));
    }
}
