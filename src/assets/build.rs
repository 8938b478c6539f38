//! Building asset binaries: `cargo zigbuild` for `<target>.2.34`, so the binaries need no glibc newer than
//! Amazon Linux 2023's (2.34) whatever the build machine has (Debian 12 has 2.36, and a plain `cargo build`
//! there links symbols Lambda's glibc lacks). Zig is also the cross linker, so arm64 builds on x86_64 hosts.
//!
//! Reproducible: the same sources and `Cargo.lock` give the same bytes on any machine, because the build
//! - uses fixed settings passed as `--config` (profile `lambda`: opt-level 3, fat LTO, one codegen unit, symbols
//!   stripped, no debug info, not incremental), so the workspace's own profiles and `RUSTFLAGS` do not leak in;
//! - replaces `RUSTFLAGS` (and `CARGO_ENCODED_RUSTFLAGS`) with path remapping only (`--remap-path-prefix`: the workspace to `/build`, the cargo
//!   home to `/cargo`), so panic messages do not carry the build machine's paths;
//! - sets `SOURCE_DATE_EPOCH` (315532800, 1980-01-01) for build scripts that stamp a time;
//! - runs `--locked`, so dependencies are exactly `Cargo.lock`'s.
//!
//! `panic` stays `unwind`: lambda_runtime catches a handler's panic and reports it as that invocation's error;
//! with `abort` the runtime process would die and the message would be lost.
//!
//! `package --dev` builds with [`AssetProfile::Dev`] instead, for iterating on a handler: dependencies are optimized
//! as for release (built once per target and kept in `<target>/<triple>/lambda-dev`), the workspace's own crates
//! are compiled incrementally without LTO in many codegen units, so a changed handler relinks in seconds rather
//! than minutes of fat LTO. Its zips are not reproducible and run slower, so their keys say so
//! (`assets/<bin>/dev-<sha256>.zip`): a dev zip is never taken for a release one.
//!
//! [`check_on_host`] type-checks the binaries on the build machine with `cargo check`, without the Lambda target
//! or zig: what a test calls to see a handler's compile error in seconds.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::Architecture;
use super::AssetError;

/// The glibc version the binaries are linked against: Amazon Linux 2023's.
pub const GLIBC: &str = "2.34";

/// `SOURCE_DATE_EPOCH` of asset builds: 1980-01-01, the zip epoch.
pub const SOURCE_DATE_EPOCH: &str = "315532800";

/// How asset binaries are compiled: the cargo profile, defined by `--config` flags ([`AssetProfile::config`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssetProfile {
    /// Profile `lambda`: fat LTO, one codegen unit, not incremental. Reproducible, small and fast zips, the only
    /// kind to deploy to production; a changed handler costs a full LTO link.
    #[default]
    Release,
    /// Profile `lambda-dev`: the workspace's crates incremental, without LTO, in 256 codegen units at opt-level
    /// 1; dependencies at opt-level 3 (built once). Relinks a changed handler in seconds; zips are larger, not
    /// reproducible, and keyed `dev-<sha256>`.
    Dev,
}

impl AssetProfile {
    /// The cargo profile's name; also the folder of the binaries under `<target>/<triple>/`.
    pub fn cargo_profile(self) -> &'static str {
        match self {
            AssetProfile::Release => "lambda",
            AssetProfile::Dev => "lambda-dev",
        }
    }

    /// What the zip's key has before its SHA-256: nothing for release, `dev-` for dev, so that a dev zip's key can
    /// never be a release key (which is the bare hash).
    pub fn key_prefix(self) -> &'static str {
        match self {
            AssetProfile::Release => "",
            AssetProfile::Dev => "dev-",
        }
    }

    /// The profile's settings, as `cargo --config` values. Passed on the command line (config takes precedence
    /// over the manifest), so every workspace builds its assets the same way without a `[profile.lambda]` of its
    /// own.
    pub fn config(self) -> Vec<String> {
        let settings: &[(&str, &str)] = match self {
            AssetProfile::Release => &[
                ("inherits", "\"release\""),
                ("opt-level", "3"),
                ("lto", "\"fat\""),
                ("codegen-units", "1"),
                ("strip", "true"),
                ("debug", "false"),
                ("incremental", "false"),
                ("panic", "\"unwind\""),
            ],
            // Release semantics (no debug assertions or overflow checks: a dev zip behaves as the release one
            // would), compiled for build speed. Dependencies change rarely and are cached, so they keep opt-level
            // 3; the workspace's crates, rebuilt on every change, get opt-level 1, no LTO and many codegen units.
            AssetProfile::Dev => &[
                ("inherits", "\"release\""),
                ("opt-level", "1"),
                ("lto", "\"off\""),
                ("codegen-units", "256"),
                ("strip", "true"),
                ("debug", "false"),
                ("incremental", "true"),
                ("panic", "\"unwind\""),
                ("package.\"*\".opt-level", "3"),
                ("package.\"*\".codegen-units", "16"),
            ],
        };
        let name = self.cargo_profile();
        settings
            .iter()
            .map(|(k, v)| format!("profile.{name}.{k}={v}"))
            .collect()
    }
}

/// What `cargo metadata` says about the workspace: where it is, where it builds, and each package's binaries.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The workspace root (`workspace_root`), where builds run.
    pub root: PathBuf,
    /// Where cargo puts build output (`target_directory`), where the built binaries are found.
    pub target_dir: PathBuf,
    /// Binary names by package name.
    pub bins: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct Metadata {
    workspace_root: PathBuf,
    target_directory: PathBuf,
    packages: Vec<MetaPackage>,
}

#[derive(Deserialize)]
struct MetaPackage {
    name: String,
    targets: Vec<MetaTarget>,
}

#[derive(Deserialize)]
struct MetaTarget {
    name: String,
    kind: Vec<String>,
}

impl Workspace {
    /// Reads the workspace that contains `dir`.
    pub fn load(dir: &Path) -> Result<Workspace, AssetError> {
        let fail = |message: String| AssetError::Metadata {
            dir: dir.display().to_string(),
            message,
        };
        let out = Command::new(cargo())
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .current_dir(dir)
            .output()
            .map_err(|e| fail(e.to_string()))?;
        if !out.status.success() {
            return Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
        }
        let meta: Metadata =
            serde_json::from_slice(&out.stdout).map_err(|e| fail(e.to_string()))?;
        Ok(Workspace {
            root: meta.workspace_root,
            target_dir: meta.target_directory,
            bins: meta
                .packages
                .into_iter()
                .map(|p| {
                    let bins = p
                        .targets
                        .into_iter()
                        .filter(|t| t.kind.iter().any(|k| k == "bin"))
                        .map(|t| t.name)
                        .collect();
                    (p.name, bins)
                })
                .collect(),
        })
    }

    /// The package that has binary `bin`: `package` when given (checked), else the only package that has it.
    pub fn resolve(
        &self,
        package: Option<&str>,
        bin: &str,
        used_by: &str,
    ) -> Result<String, AssetError> {
        let list = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_owned()
            } else {
                v.join(", ")
            }
        };
        match package {
            Some(p) => {
                let Some(bins) = self.bins.get(p) else {
                    return Err(AssetError::UnknownPackage {
                        package: p.to_owned(),
                        used_by: used_by.to_owned(),
                        workspace: self.root.display().to_string(),
                        available: list(&self.bins.keys().cloned().collect::<Vec<_>>()),
                    });
                };
                if bins.iter().any(|b| b == bin) {
                    Ok(p.to_owned())
                } else {
                    Err(AssetError::UnknownPackageBin {
                        package: p.to_owned(),
                        bin: bin.to_owned(),
                        used_by: used_by.to_owned(),
                        available: list(bins),
                    })
                }
            }
            None => {
                let owners: Vec<&String> = self
                    .bins
                    .iter()
                    .filter(|(_, bins)| bins.iter().any(|b| b == bin))
                    .map(|(p, _)| p)
                    .collect();
                match owners.as_slice() {
                    [one] => Ok((*one).clone()),
                    [] => Err(AssetError::UnknownBin {
                        bin: bin.to_owned(),
                        used_by: used_by.to_owned(),
                        workspace: self.root.display().to_string(),
                        available: list(&self.bins.values().flatten().cloned().collect::<Vec<_>>()),
                    }),
                    many => Err(AssetError::AmbiguousBin {
                        bin: bin.to_owned(),
                        used_by: used_by.to_owned(),
                        packages: many
                            .iter()
                            .map(|p| p.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                }
            }
        }
    }
}

/// Builds the binaries of one package for one architecture and says where each one is.
pub trait Builder {
    /// Builds `bins` of `package` for `architecture`; returns each binary's name and path.
    fn build(
        &self,
        package: &str,
        bins: &[String],
        architecture: Architecture,
    ) -> Result<BTreeMap<String, PathBuf>, AssetError>;

    /// The profile the binaries are built with, which the zips' keys show.
    fn profile(&self) -> AssetProfile {
        AssetProfile::Release
    }
}

/// The real builder: `cargo-zigbuild` in the workspace.
#[derive(Clone, Debug)]
pub struct Zigbuild {
    /// The workspace whose packages it builds.
    pub workspace: Workspace,
    /// The `cargo-zigbuild` executable: `$CFNKIT_ZIGBUILD`, else `cargo-zigbuild` on `PATH`.
    pub program: PathBuf,
    /// The cargo profile it builds with.
    pub profile: AssetProfile,
}

impl Zigbuild {
    /// A builder for release zips ([`AssetProfile::Release`]); set `profile` for dev ones.
    pub fn new(workspace: Workspace) -> Zigbuild {
        let program = std::env::var_os("CFNKIT_ZIGBUILD")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("cargo-zigbuild"));
        Zigbuild {
            workspace,
            program,
            profile: AssetProfile::Release,
        }
    }

    /// `cargo-zigbuild --version`, or why it cannot run.
    pub fn version(&self) -> Result<String, AssetError> {
        let out = Command::new(&self.program)
            .arg("--version")
            .output()
            .map_err(|e| AssetError::ZigbuildMissing(format!("{}: {e}", self.program.display())))?;
        if !out.status.success() {
            return Err(AssetError::ZigbuildMissing(format!(
                "{} --version: {}",
                self.program.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn command(&self, package: &str, bins: &[String], architecture: Architecture) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.arg("zigbuild");
        for c in self.profile.config() {
            cmd.args(["--config", &c]);
        }
        cmd.args([
            "--locked",
            "--profile",
            self.profile.cargo_profile(),
            "--target-dir",
        ])
        .arg(&self.workspace.target_dir)
        .arg("--target")
        .arg(format!("{}.{GLIBC}", architecture.rust_target()))
        .args(["-p", package]);
        for b in bins {
            cmd.args(["--bin", b]);
        }
        let mut flags = vec![format!(
            "--remap-path-prefix={}=/build",
            self.workspace.root.display()
        )];
        if let Some(home) = cargo_home() {
            flags.push(format!("--remap-path-prefix={}=/cargo", home.display()));
        }
        cmd.current_dir(&self.workspace.root)
            // The encoded form (0x1f between flags) keeps a path with spaces in one flag.
            .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH);
        cmd
    }
}

impl Builder for Zigbuild {
    fn build(
        &self,
        package: &str,
        bins: &[String],
        architecture: Architecture,
    ) -> Result<BTreeMap<String, PathBuf>, AssetError> {
        self.version()?;
        let mut cmd = self.command(package, bins, architecture);
        let shown = format!("{cmd:?}");
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| AssetError::ZigbuildMissing(format!("{}: {e}", self.program.display())))?;
        // Cargo's progress goes on to our stderr as it happens (a cold build takes minutes), and is kept for the
        // error message.
        let mut stderr = String::new();
        if let Some(pipe) = child.stderr.take() {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                eprintln!("{line}");
                stderr.push_str(&line);
                stderr.push('\n');
            }
        }
        let status = child.wait().map_err(|source| AssetError::Io {
            path: self.program.display().to_string(),
            source,
        })?;
        if !status.success() {
            return Err(AssetError::BuildFailed {
                command: shown,
                status: status.to_string(),
                hint: hint(&stderr, architecture),
                stderr: tail(&stderr, 40),
            });
        }
        let dir = self
            .workspace
            .target_dir
            .join(architecture.rust_target())
            .join(self.profile.cargo_profile());
        Ok(bins.iter().map(|b| (b.clone(), dir.join(b))).collect())
    }

    fn profile(&self) -> AssetProfile {
        self.profile
    }
}

/// Type-checks binaries on this machine, for its own target: `cargo check --quiet -p <package>... --bin <bin>...`
/// in the workspace, `binaries` being the bins of each package. No cross-compiling, zig or LTO, and the checked
/// dependencies are cached in the workspace's target directory, so a handler's compile error shows in seconds
/// (the test that calls this runs while no cargo holds the target directory's lock). Fails with the compiler's
/// messages.
pub fn check_on_host(
    workspace: &Workspace,
    binaries: &BTreeMap<String, Vec<String>>,
) -> Result<(), AssetError> {
    if binaries.is_empty() {
        return Ok(());
    }
    let mut cmd = Command::new(cargo());
    cmd.args(["check", "--quiet", "--color", "never"]);
    for package in binaries.keys() {
        cmd.args(["-p", package]);
    }
    for bin in binaries.values().flatten() {
        cmd.args(["--bin", bin]);
    }
    cmd.current_dir(&workspace.root);
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|source| AssetError::Io {
        path: cargo(),
        source,
    })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(AssetError::BuildFailed {
        command: shown,
        status: out.status.to_string(),
        hint: " (a binary that a function runs does not compile on this machine; `package` would fail the same \
               way after cross-compiling: fix it first)"
            .to_owned(),
        // The first errors matter most: the compiler reports them in source order, and one often causes the next.
        stderr: head(&stderr, 120),
    })
}

fn head(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let mut shown = all[..all.len().min(lines)].join("\n");
    if all.len() > lines {
        shown.push_str(&format!("\n... ({} more lines)", all.len() - lines));
    }
    shown
}

fn hint(stderr: &str, architecture: Architecture) -> String {
    let target = architecture.rust_target();
    if stderr.contains("can't find crate for `core`")
        || stderr.contains("can't find crate for `std`")
        || stderr.contains("target may not be installed")
    {
        format!(
            " (the Rust standard library for {target} is missing: `rustup target add {target}`, or build the \
             function for the other architecture)"
        )
    } else if stderr.to_lowercase().contains("zig") && stderr.contains("not found")
        || stderr.contains("Failed to find zig")
    {
        " (zig is missing: `pip install ziglang==0.15.2` into the venv that has cargo-zigbuild)"
            .to_owned()
    } else {
        String::new()
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// Whether the Rust standard library for `architecture` is installed in the toolchain that builds in `dir` (a
/// `rust-toolchain.toml` there may choose another toolchain than ours).
pub fn std_installed(dir: &Path, architecture: Architecture) -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let Ok(out) = Command::new(rustc)
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .output()
    else {
        return false;
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    sysroot
        .join("lib/rustlib")
        .join(architecture.rust_target())
        .join("lib")
        .is_dir()
}

/// What a built binary is when it is not a Lambda executable; its message completes "the binary is ...".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotLambdaExecutable {
    /// The file is shorter than an ELF header or lacks the ELF magic number.
    #[error("not an ELF executable")]
    NotElf,
    /// An ELF executable whose `e_machine` is neither x86-64 nor AArch64, the two architectures Lambda runs.
    #[error("an ELF executable for machine {0:#x}")]
    OtherMachine(u16),
}

/// The architecture of an ELF executable, from its header's `e_machine`, or what the file is instead.
pub fn elf_architecture(bytes: &[u8]) -> Result<Architecture, NotLambdaExecutable> {
    if bytes.len() < 20 || &bytes[..4] != b"\x7fELF" {
        return Err(NotLambdaExecutable::NotElf);
    }
    // e_machine is a u16 at offset 18, in the byte order of EI_DATA (offset 5: 1 little, 2 big endian).
    let machine = if bytes[5] == 2 {
        u16::from_be_bytes([bytes[18], bytes[19]])
    } else {
        u16::from_le_bytes([bytes[18], bytes[19]])
    };
    match machine {
        0x3e => Ok(Architecture::X86_64),
        0xb7 => Ok(Architecture::Arm64),
        other => Err(NotLambdaExecutable::OtherMachine(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Workspace {
        Workspace {
            root: PathBuf::from("/ws"),
            target_dir: PathBuf::from("/ws/target"),
            bins: BTreeMap::from([
                (
                    "handlers".to_owned(),
                    vec!["api".to_owned(), "worker".to_owned()],
                ),
                (
                    "analytics".to_owned(),
                    vec!["worker".to_owned(), "report".to_owned()],
                ),
                ("lib-only".to_owned(), vec![]),
            ]),
        }
    }

    #[test]
    fn a_binary_resolves_to_its_only_package_or_is_refused() {
        let ws = workspace();
        assert_eq!(ws.resolve(None, "api", "Order/Api").unwrap(), "handlers");
        assert_eq!(
            ws.resolve(Some("analytics"), "worker", "A/W").unwrap(),
            "analytics"
        );
        let e = ws
            .resolve(None, "worker", "Order/Worker")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("is in several packages: analytics, handlers"),
            "{e}"
        );
        assert!(
            e.contains("Code::cargo_bin(\"<package>\", \"worker\")"),
            "{e}"
        );
        let e = ws
            .resolve(None, "nope", "Order/Nope")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no package of the workspace at /ws has a binary named \"nope\""),
            "{e}"
        );
        let e = ws
            .resolve(Some("handlers"), "report", "X/R")
            .unwrap_err()
            .to_string();
        assert!(e.contains("its binaries are: api, worker"), "{e}");
        let e = ws
            .resolve(Some("nope"), "api", "X/R")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no package named \"nope\""), "{e}");
    }

    #[test]
    fn elf_machine_gives_the_architecture() {
        let mut header = vec![0u8; 64];
        header[..4].copy_from_slice(b"\x7fELF");
        header[5] = 1;
        header[18] = 0xb7;
        assert_eq!(elf_architecture(&header), Ok(Architecture::Arm64));
        header[18] = 0x3e;
        assert_eq!(elf_architecture(&header), Ok(Architecture::X86_64));
        header[18] = 0x28;
        assert_eq!(
            elf_architecture(&header).unwrap_err().to_string(),
            "an ELF executable for machine 0x28"
        );
        assert!(elf_architecture(b"#!/bin/sh\n").is_err());
        // The test binary itself is an ELF of the host.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let host = if cfg!(target_arch = "aarch64") {
            Architecture::Arm64
        } else {
            Architecture::X86_64
        };
        assert_eq!(elf_architecture(&me), Ok(host));
    }

    #[test]
    fn the_build_command_is_pinned_to_glibc_2_34_the_lambda_profile_and_remapped_paths() {
        let z = Zigbuild::new(workspace());
        let cmd = z.command(
            "handlers",
            &["api".into(), "worker".into()],
            Architecture::Arm64,
        );
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(
            joined.starts_with("zigbuild --config profile.lambda.inherits=\"release\""),
            "{joined}"
        );
        assert!(
            joined.contains("--config profile.lambda.lto=\"fat\""),
            "{joined}"
        );
        assert!(joined.ends_with(
            "--locked --profile lambda --target-dir /ws/target --target aarch64-unknown-linux-gnu.2.34 -p handlers \
             --bin api --bin worker"
        ), "{joined}");
        let env: BTreeMap<String, Option<String>> = cmd
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect();
        assert!(env["CARGO_ENCODED_RUSTFLAGS"]
            .as_deref()
            .unwrap()
            .starts_with("--remap-path-prefix=/ws=/build"));
        assert_eq!(env["SOURCE_DATE_EPOCH"].as_deref(), Some("315532800"));
        assert_eq!(
            env["RUSTFLAGS"], None,
            "the user's RUSTFLAGS must not change the binaries"
        );
    }

    #[test]
    fn the_dev_profile_builds_incrementally_without_lto_into_its_own_folder() {
        let z = Zigbuild {
            profile: AssetProfile::Dev,
            ..Zigbuild::new(workspace())
        };
        let joined = z
            .command("handlers", &["api".into()], Architecture::Arm64)
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        for setting in [
            "--config profile.lambda-dev.inherits=\"release\"",
            "--config profile.lambda-dev.lto=\"off\"",
            "--config profile.lambda-dev.incremental=true",
            "--config profile.lambda-dev.codegen-units=256",
            "--config profile.lambda-dev.package.\"*\".opt-level=3",
            "--locked --profile lambda-dev --target-dir /ws/target --target aarch64-unknown-linux-gnu.2.34",
        ] {
            assert!(joined.contains(setting), "{setting} in {joined}");
        }
        assert!(!joined.contains("fat"), "{joined}");
        assert_eq!(z.profile(), AssetProfile::Dev);
        assert_eq!(AssetProfile::Dev.key_prefix(), "dev-");
        assert_eq!(AssetProfile::Release.key_prefix(), "");
    }

    #[test]
    fn a_missing_zigbuild_says_how_to_install_it() {
        let z = Zigbuild {
            program: PathBuf::from("/nonexistent/cargo-zigbuild"),
            ..Zigbuild::new(workspace())
        };
        let e = z.version().unwrap_err().to_string();
        assert!(
            e.starts_with("cargo-zigbuild was not found (/nonexistent/cargo-zigbuild:"),
            "{e}"
        );
        assert!(
            e.contains("pip install cargo-zigbuild==0.24.0 ziglang==0.15.2"),
            "{e}"
        );
    }
}
