//! Writing synth output: templates and `manifest.json`, atomically.
//!
//! Everything is written to a fresh sibling directory, which then replaces the output directory; a synth that
//! fails, at any point, leaves the previous output exactly as it was.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::manifest::{
    Manifest, ManifestApi, ManifestEnvironment, ManifestExport, ManifestImport, ManifestStack,
    ManifestWeakOutput, ManifestWeakReference, VERSION,
};
use super::validate::requires_s3;
use super::{Assembly, SynthError};

/// The template file format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON, with intrinsics in their long form (`{"Ref": "X"}`).
    #[default]
    Json,
    /// YAML with CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`).
    Yaml,
}

impl Format {
    /// The template files' extension, without the dot (`<Stack>.template.json`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

/// The files of a synth: templates, OpenAPI documents and the manifest, in memory.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// Each file's name, relative to the output directory, and its content.
    pub files: Vec<(String, String)>,
    /// What `manifest.json` (also among `files`) says.
    pub manifest: Manifest,
    /// The OpenAPI documents among `files`, as `manifest.json` lists them.
    pub apis: Vec<ManifestApi>,
}

/// Renders the chosen stacks (all when `selection` is empty) of an assembly; its assets are listed as not
/// packaged.
pub fn render(
    assembly: &Assembly,
    format: Format,
    selection: &[String],
) -> Result<Rendered, SynthError> {
    render_with_assets(assembly, format, selection, &[])
}

/// Renders like [`render`], listing the assets `package` built (whose hashes are already in `assembly`).
pub fn render_with_assets(
    assembly: &Assembly,
    format: Format,
    selection: &[String],
    packaged: &[crate::assets::package::Packaged],
) -> Result<Rendered, SynthError> {
    for name in selection {
        if assembly.stack(name).is_none() {
            let available = assembly
                .stacks
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            // Stack names are CloudFormation's, which are case-sensitive: `synth base` is a near miss worth naming.
            let hint = assembly
                .stacks
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
                .map(|s| format!(" (did you mean {}? stack names are case-sensitive)", s.name))
                .unwrap_or_default();
            return Err(SynthError::UnknownStack {
                name: name.clone(),
                hint,
                available,
            });
        }
    }
    let mut files = Vec::new();
    let mut stacks = Vec::new();
    for a in assembly
        .stacks
        .iter()
        .filter(|a| selection.is_empty() || selection.contains(&a.name))
    {
        let body = match format {
            Format::Json => a.template.to_json(),
            Format::Yaml => a.template.to_yaml(),
        };
        let file = format!("{}.template.{}", a.name, format.extension());
        stacks.push(ManifestStack {
            name: a.name.clone(),
            template: file.clone(),
            sha256: hex(&Sha256::digest(body.as_bytes())),
            bytes: body.len(),
            requires_s3_upload: requires_s3(a),
            dependencies: a.dependencies.clone(),
            environment: ManifestEnvironment {
                account: a.environment.account.clone(),
                region: a.environment.region.clone(),
            },
            termination_protection: a.termination_protection,
            tags: a.tags.clone(),
            exports: a
                .exports
                .iter()
                .map(|e| ManifestExport {
                    name: e.name.clone(),
                    output: e.output.clone(),
                    element: e.element.clone(),
                    attribute: e.attribute.clone(),
                    imported_by: e.imported_by.clone(),
                    kept: e.kept,
                })
                .collect(),
            imports: a
                .imports
                .iter()
                .map(|i| ManifestImport {
                    name: i.name.clone(),
                    from: i.from.clone(),
                })
                .collect(),
            weak_outputs: a
                .weak_outputs
                .iter()
                .map(|w| ManifestWeakOutput {
                    output: w.output.clone(),
                    element: w.element.clone(),
                    attribute: w.attribute.clone(),
                    read_by: w.read_by.clone(),
                })
                .collect(),
            weak_references: a
                .weak_references
                .iter()
                .map(|w| ManifestWeakReference {
                    from: w.from.clone(),
                    output: w.output.clone(),
                    region: w.region.clone(),
                    account: w.account.clone(),
                })
                .collect(),
            moves: a.moves.clone(),
        });
        files.push((file, body));
    }
    let manifest = Manifest {
        version: VERSION,
        format: format.extension().to_owned(),
        stacks,
        assets: crate::assets::manifest_entries(assembly, selection, packaged),
    };
    let mut apis = Vec::new();
    for doc in crate::openapi::documents(assembly, selection) {
        let body = doc.to_json();
        apis.push(ManifestApi {
            stack: doc.stack.clone(),
            api: doc.api.clone(),
            kind: doc.kind,
            document: doc.file_name(),
            sha256: hex(&Sha256::digest(body.as_bytes())),
        });
        files.push((doc.file_name(), body));
    }
    files.push((
        "manifest.json".to_owned(),
        manifest.to_json_with_apis(&apis),
    ));
    Ok(Rendered {
        files,
        manifest,
        apis,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads the manifest of a previous synth in `out`, if there is a readable one.
pub fn previous_manifest(out: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(out.join("manifest.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Replaces the directory `out` with exactly these files. On failure the previous `out` is left as it was.
/// File names may have folders (`assets/<bin>/<sha256>.zip`), which are created.
#[expect(
    clippy::disallowed_methods,
    reason = "removes only its own staging directory, named after this process"
)]
pub fn write_atomically<B: AsRef<[u8]>>(
    out: &Path,
    files: &[(String, B)],
) -> Result<(), SynthError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // `.`, `..` and `/` have no name to stage beside, and replacing them would replace the working directory.
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            refused(
                out,
                "names no directory of its own: choose a new one, e.g. --out cfnkit.out",
            )
        })?;
    check_replaceable(out)?;
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
    let result = (|| {
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        // The staging directory is ours, not the user's: an error here names --out and why it failed.
        fs::create_dir(&staging).map_err(|e| {
            refused(
                out,
                &format!(
                    "cannot create {} beside it ({e}): choose an --out in a writable directory",
                    staging.display()
                ),
            )
        })?;
        for (file, body) in files {
            let path = staging.join(file);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(io(dir))?;
            }
            fs::write(&path, body.as_ref()).map_err(io(&path))?;
        }
        swap_in(
            &staging,
            out,
            &parent.join(format!(".{name}.previous-{}", std::process::id())),
        )
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn refused(out: &Path, why: &str) -> SynthError {
    SynthError::Io {
        path: out.display().to_string(),
        source: std::io::Error::other(why.to_owned()),
    }
}

/// `out` is replaced as a whole, so it must be new, empty, or the output of an earlier synth (it has a
/// `manifest.json`): `--out src` must not delete a source tree. Checked before anything is written.
fn check_replaceable(out: &Path) -> Result<(), SynthError> {
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(refused(
            out,
            "exists and is not a directory: choose another --out",
        ));
    }
    let empty = fs::read_dir(out).map_err(io(out))?.next().is_none();
    if empty || out.join("manifest.json").is_file() {
        return Ok(());
    }
    Err(refused(
        out,
        "is a directory that is not a synth output (it has files but no manifest.json), and synth replaces its \
         --out as a whole: choose a new or empty directory, e.g. --out cfnkit.out",
    ))
}

#[expect(
    clippy::disallowed_methods,
    reason = "removes the previous output, which check_replaceable proved is empty or a synth output"
)]
fn swap_in(staging: &Path, out: &Path, previous: &Path) -> Result<(), SynthError> {
    if out.exists() {
        if previous.exists() {
            fs::remove_dir_all(previous).map_err(io(previous))?;
        }
        fs::rename(out, previous).map_err(io(out))?;
        if let Err(e) = fs::rename(staging, out) {
            // Put the previous output back: a failed synth must not leave the directory missing.
            let _ = fs::rename(previous, out);
            return Err(io(out)(e));
        }
        fs::remove_dir_all(previous).map_err(io(previous))?;
    } else {
        fs::rename(staging, out).map_err(io(out))?;
    }
    Ok(())
}
