//! Building the functions' binaries for this machine, once, in the app's workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cfnkit::assets::build::Workspace;
use serde::Deserialize;

use super::FunctionSpec;

/// Why the binaries could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The workspace's metadata could not be read, or names no such package or binary.
    #[error("{0}")]
    Workspace(String),
    /// cargo failed (its diagnostics were printed above).
    #[error("`{command}` failed ({status}); fix the build errors above, then start again")]
    Failed {
        /// The command.
        command: String,
        /// Its exit status.
        status: String,
    },
    /// cargo could not be run.
    #[error("cannot run `{command}`: {message}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        message: String,
    },
    /// cargo built without naming the executable of a binary.
    #[error("`{command}` built no executable for binary {bin}")]
    Missing {
        /// The command.
        command: String,
        /// The binary.
        bin: String,
    },
}

/// A binary of a package: `(package, bin)`.
pub type BinKey = (String, String);

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    target: Option<Target>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

/// The package each function's binary is in (the asset's `package`, or the one workspace package with the
/// binary), checked against the workspace.
pub fn resolve_packages(
    workspace_dir: &Path,
    specs: &mut [FunctionSpec],
) -> Result<(), BuildError> {
    let ws = Workspace::load(workspace_dir).map_err(|e| BuildError::Workspace(e.to_string()))?;
    for s in specs.iter_mut() {
        let package = ws
            .resolve(s.package.as_deref(), &s.bin, &s.function.to_string())
            .map_err(|e| BuildError::Workspace(e.to_string()))?;
        s.package = Some(package);
    }
    Ok(())
}

/// Builds the binaries of `specs` (packages resolved) for the host with `cargo build`, one command per
/// package, and returns where each executable is. `release` builds with `--release`.
pub fn build(
    workspace_dir: &Path,
    specs: &[FunctionSpec],
    release: bool,
) -> Result<BTreeMap<BinKey, PathBuf>, BuildError> {
    let mut by_package: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in specs {
        by_package
            .entry(s.package.clone().unwrap_or_default())
            .or_default()
            .insert(s.bin.clone());
    }
    // One cargo command for every package when no two share a binary name: dependencies then build once with
    // one feature set, which is most of a cold build's time. Otherwise one command per package.
    let total: usize = by_package.values().map(BTreeSet::len).sum();
    let distinct: BTreeSet<&String> = by_package.values().flatten().collect();
    let groups: Vec<BTreeMap<String, BTreeSet<String>>> = if distinct.len() == total {
        vec![by_package]
    } else {
        by_package
            .into_iter()
            .map(|(p, b)| BTreeMap::from([(p, b)]))
            .collect()
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut out = BTreeMap::new();
    for group in groups {
        let bins: BTreeSet<String> = group.values().flatten().cloned().collect();
        let mut args: Vec<String> = vec![
            "build".into(),
            "--message-format=json-render-diagnostics".into(),
        ];
        for package in group.keys() {
            args.push("-p".into());
            args.push(package.clone());
        }
        if release {
            args.push("--release".into());
        }
        for b in &bins {
            args.push("--bin".into());
            args.push(b.clone());
        }
        let command = format!(
            "cargo {}",
            args.join(" ")
                .replace(" --message-format=json-render-diagnostics", "")
        );
        eprintln!("{command}");
        let output = Command::new(&cargo)
            .args(&args)
            .current_dir(workspace_dir)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| BuildError::Spawn {
                command: command.clone(),
                message: e.to_string(),
            })?;
        if !output.status.success() {
            return Err(BuildError::Failed {
                command,
                status: output.status.to_string(),
            });
        }
        let mut found = BTreeMap::new();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(m) = serde_json::from_str::<Message>(line) else {
                continue;
            };
            if m.reason != "compiler-artifact" {
                continue;
            }
            if let (Some(exe), Some(t)) = (m.executable, m.target) {
                if t.kind.iter().any(|k| k == "bin") && bins.contains(&t.name) {
                    found.insert(t.name, exe);
                }
            }
        }
        for (package, package_bins) in &group {
            for b in package_bins {
                let exe = found.get(b).cloned().ok_or_else(|| BuildError::Missing {
                    command: command.clone(),
                    bin: b.clone(),
                })?;
                out.insert((package.clone(), b.clone()), exe);
            }
        }
    }
    Ok(out)
}
