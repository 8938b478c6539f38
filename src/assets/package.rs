//! `cfnkit package`: build, zip and hash every asset the chosen stacks use, and put the hashes in the templates.

use std::collections::BTreeMap;
use std::path::Path;

use super::build::{check_on_host, elf_architecture, AssetProfile, Builder, Workspace};
use super::bundle::{sha256_hex, zip_bootstrap};
use super::{discover, key, substitute, AssetError, AssetSpec, AssetUse};
use crate::synth::Assembly;

/// A built and zipped asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packaged {
    /// The spec as the templates have it (package possibly `None`).
    pub spec: AssetSpec,
    /// The cargo package that was built.
    pub package: String,
    /// Hex SHA-256 of the zip.
    pub sha256: String,
    /// The zip's bytes.
    pub zip: Vec<u8>,
    /// The size of `bootstrap` before compression.
    pub binary_bytes: u64,
    /// `Stack/LogicalId` of each function whose code it is.
    pub used_by: Vec<String>,
    /// How the binary was compiled; a dev build's key starts with `dev-`.
    pub profile: AssetProfile,
}

impl Packaged {
    /// The S3 key the templates now name, and the zip's path under the output directory.
    pub fn key(&self) -> String {
        key(&self.spec.bin, &self.key_hash())
    }

    /// The key's hash part: the zip's SHA-256, after `dev-` for a dev build.
    fn key_hash(&self) -> String {
        format!("{}{}", self.profile.key_prefix(), self.sha256)
    }
}

/// Builds every pending asset (key with the placeholder) of the chosen stacks with `builder`, zips and hashes
/// it, and substitutes the hashes into `assembly`'s templates. `resolve` names the cargo package of a spec
/// (checking a given one). One build per package and architecture.
pub fn package(
    assembly: &mut Assembly,
    selection: &[String],
    resolve: impl Fn(&AssetUse) -> Result<String, AssetError>,
    builder: &dyn Builder,
) -> Result<Vec<Packaged>, AssetError> {
    let uses: Vec<AssetUse> = discover(assembly, selection)
        .into_iter()
        .filter(AssetUse::pending)
        .collect();
    let mut groups: BTreeMap<(String, _), Vec<&AssetUse>> = BTreeMap::new();
    for u in &uses {
        let package = resolve(u)?;
        groups
            .entry((package, u.spec.architecture))
            .or_default()
            .push(u);
    }
    let mut packaged = Vec::new();
    for ((package, architecture), members) in groups {
        let mut bins: Vec<String> = members.iter().map(|u| u.spec.bin.clone()).collect();
        bins.sort();
        bins.dedup();
        let built = builder.build(&package, &bins, architecture)?;
        for u in members {
            let used_by = u.used_by.join(", ");
            let path = built.get(&u.spec.bin).ok_or_else(|| AssetError::Io {
                path: u.spec.bin.clone(),
                source: std::io::Error::other("the build did not report this binary"),
            })?;
            let binary = std::fs::read(path).map_err(|source| AssetError::Io {
                path: path.display().to_string(),
                source,
            })?;
            match elf_architecture(&binary) {
                Ok(found) if found == architecture => {}
                Ok(found) => {
                    return Err(AssetError::WrongArchitecture {
                        path: path.display().to_string(),
                        found: format!("an {} executable", found.as_str()),
                        expected: architecture.as_str(),
                        used_by,
                    })
                }
                Err(found) => {
                    return Err(AssetError::WrongArchitecture {
                        path: path.display().to_string(),
                        found: found.to_string(),
                        expected: architecture.as_str(),
                        used_by,
                    })
                }
            }
            let zip = zip_bootstrap(&binary).map_err(|source| AssetError::Zip {
                bin: u.spec.bin.clone(),
                source,
            })?;
            packaged.push(Packaged {
                spec: u.spec.clone(),
                package: package.clone(),
                sha256: sha256_hex(&zip),
                zip,
                binary_bytes: binary.len() as u64,
                used_by: u.used_by.clone(),
                profile: builder.profile(),
            });
        }
    }
    packaged.sort_by(|a, b| a.spec.cmp(&b.spec));
    let hashes: BTreeMap<AssetSpec, String> = packaged
        .iter()
        .map(|p| (p.spec.clone(), p.key_hash()))
        .collect();
    substitute(assembly, &hashes);
    Ok(packaged)
}

/// Type-checks on this machine the binary of every asset the chosen stacks would have `package` build (see
/// [`check_on_host`]), after resolving each in `workspace` as `package` does: a function whose binary or package
/// does not exist is refused with the same message, before anything compiles. Returns the checked binaries as
/// `<package>/<bin>`, sorted.
pub fn check_handlers(
    assembly: &Assembly,
    selection: &[String],
    workspace: &Workspace,
) -> Result<Vec<String>, AssetError> {
    let mut binaries: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for u in discover(assembly, selection).iter().filter(|u| u.pending()) {
        let package = workspace.resolve(
            u.spec.package.as_deref(),
            &u.spec.bin,
            &u.used_by.join(", "),
        )?;
        let bins = binaries.entry(package).or_default();
        if !bins.contains(&u.spec.bin) {
            bins.push(u.spec.bin.clone());
        }
    }
    check_on_host(workspace, &binaries)?;
    Ok(binaries
        .iter()
        .flat_map(|(p, bins)| bins.iter().map(move |b| format!("{p}/{b}")))
        .collect())
}

/// The zips' files for the output directory: `assets/<bin>/<sha256>.zip`, the key's own path.
pub fn files(packaged: &[Packaged]) -> Vec<(String, Vec<u8>)> {
    packaged.iter().map(|p| (p.key(), p.zip.clone())).collect()
}

/// Checks that the toolchain can build every architecture the pending assets need, before minutes of building.
pub fn check_targets(
    assembly: &Assembly,
    selection: &[String],
    installed: impl Fn(super::Architecture) -> bool,
) -> Result<(), AssetError> {
    for u in discover(assembly, selection).iter().filter(|u| u.pending()) {
        if !installed(u.spec.architecture) {
            return Err(AssetError::TargetMissing {
                bin: u.spec.bin.clone(),
                used_by: u.used_by.join(", "),
                architecture: u.spec.architecture.as_str(),
                target: u.spec.architecture.rust_target(),
            });
        }
    }
    Ok(())
}

/// Used by the CLI's report.
pub fn describe(p: &Packaged, out: &Path) -> String {
    format!(
        "{:<24} {:<7} {:>9} bytes zipped ({:>9} unzipped)  {}\n",
        p.spec.bin,
        p.spec.architecture.as_str(),
        p.zip.len(),
        p.binary_bytes,
        out.join(p.key()).display()
    )
}
