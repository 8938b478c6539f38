//! The command line of a cfnkit app. An app's `main` is one line:
//!
//! ```no_run
//! # #[derive(Debug)] struct AppError;
//! # impl std::fmt::Display for AppError {
//! #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("x") }
//! # }
//! # fn app() -> Result<cfnkit::App, AppError> { Ok(cfnkit::App::new()) }
//! fn main() -> std::process::ExitCode {
//!     cfnkit::cli::main(app)
//! }
//! ```
//!
//! `app` returns the app, or any error that displays (`ConstructError`, an app's own error enum): [`main`]
//! prints it and exits with code 1.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::assets::build::AssetProfile;
use crate::assets::{self, AssetError};
use crate::rules::Report;
use crate::stack::App;
use crate::synth::manifest::removed_exports;
use crate::synth::output::{self, Format};
use crate::synth::{self, SynthError};

/// Why a command failed; printed after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The app's own function returned an error (its message, as it displays).
    #[error("building the app failed: {0}")]
    App(String),
    /// The rule pack found an error that is not suppressed; the report lists every finding.
    #[error("the rule pack found errors; nothing was written:\n{0}")]
    Rules(Report),
    /// Synth, rendering or writing the output failed, or an import of an earlier output would be removed.
    #[error(transparent)]
    Synth(SynthError),
    /// Building or zipping a Lambda asset failed (`package`).
    #[error(transparent)]
    Asset(#[from] AssetError),
}

impl From<SynthError> for CliError {
    fn from(e: SynthError) -> Self {
        match e {
            SynthError::Rules(report) => CliError::Rules(report),
            other => CliError::Synth(other),
        }
    }
}

// Named after the app's binary at run time (`app_command`), never `cfnkit`: the app is the user's program.
/// Synthesize and inspect the CloudFormation templates of this app.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    #[command(subcommand)]
    #[allow(
        missing_docs,
        reason = "clap would print a doc comment here as help text; Command says it"
    )]
    pub command: Command,
}

/// The app's commands: `synth`, `list`, `package` (and the deploy commands, which answer with `cargo cfn`).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write one CloudFormation template per stack and a manifest.json.
    ///
    /// The whole app is synthesized (cross-stack references need every stack); only the named stacks are
    /// written. The output directory is replaced atomically: if synth fails, the previous output stays as it was.
    Synth {
        /// Directory to write to; replaced as a whole, so it must be new, empty or an earlier output.
        #[arg(long, default_value = "cfnkit.out")]
        out: PathBuf,
        /// Template format. YAML uses CloudFormation's short-form tags (!Ref, !GetAtt, !Sub).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Write the export that a stack no longer has even though another stack imported it in the previous
        /// synth. Only safe when the importing stacks are already deployed without the import.
        #[arg(long)]
        allow_export_removal: bool,
        /// List the rule pack's suppressed findings with their reasons (otherwise only counted).
        #[arg(long)]
        show_suppressed: bool,
        /// Stacks to write (all when none are named).
        #[arg(value_name = "STACK")]
        stacks: Vec<String>,
    },
    /// Build the Lambda assets into reproducible zips, then synth with the zips' hashes in the keys.
    ///
    /// Each function's binary is built with cargo-zigbuild for its architecture against glibc 2.34
    /// (provided.al2023) and zipped as `bootstrap`; the zip goes to `<OUT>/assets/<bin>/<sha256>.zip`, the key
    /// the templates name in the bucket `cfnkit-assets-<account>-<region>`. Upload with
    /// `aws s3 sync <OUT>/assets s3://cfnkit-assets-<account>-<region>/assets`, then deploy the templates.
    Package {
        /// Directory to write to; replaced as a whole, so it must be new, empty or an earlier output.
        #[arg(long, default_value = "cfnkit.out")]
        out: PathBuf,
        /// Template format. YAML uses CloudFormation's short-form tags (!Ref, !GetAtt, !Sub).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// As for synth: write the export that a stack no longer has even though another stack imported it.
        #[arg(long)]
        allow_export_removal: bool,
        /// As for synth: list the rule pack's suppressed findings with their reasons.
        #[arg(long)]
        show_suppressed: bool,
        /// The cargo workspace (or a directory in it) whose packages have the binaries.
        #[arg(long, default_value = ".")]
        workspace: PathBuf,
        /// Build fast for iterating on handlers (profile lambda-dev: incremental, no LTO): seconds per changed
        /// handler instead of minutes. The zips are larger and not reproducible, and their keys say so
        /// (`assets/<bin>/dev-<sha256>.zip`): not for production.
        #[arg(long)]
        dev: bool,
        /// Stacks to write, and whose assets to build (all when none are named).
        #[arg(value_name = "STACK")]
        stacks: Vec<String>,
    },
    /// Print the stacks in deploy order, with what each depends on.
    List,
}

/// Parses the arguments, builds the app and runs the command. Errors go to stderr with exit code 1; `build`'s
/// error is anything that displays (every `std::error::Error` does).
pub fn main<E: Display>(build: impl FnOnce() -> Result<App, E>) -> ExitCode {
    let parsed = app_command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => match deploy_tool_hint(std::env::args().nth(1).as_deref()) {
            Some(hint) => {
                eprintln!("error: {hint}");
                return ExitCode::from(2);
            }
            None => e.exit(),
        },
    };
    match run(cli, build) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The clap command, named after the running binary (`stacks`, `my-app`) rather than the library.
fn app_command() -> clap::Command {
    let name = std::env::args_os()
        .next()
        .and_then(|p| {
            Path::new(&p)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "app".to_owned());
    // Once per process: clap keeps command names as `&'static str`.
    Cli::command().name(&*name.leak())
}

/// The deploy tool's commands live in their own crate (`deploy/`, so the AWS SDK stays out of the app's
/// build); asking the app for one gets pointed there rather than at clap's generic "unrecognized subcommand".
pub fn deploy_tool_hint(command: Option<&str>) -> Option<String> {
    let command = command.filter(|c| ["deploy", "diff", "destroy", "bootstrap"].contains(c))?;
    Some(format!(
        "`{command}` is a command of the deploy tool, not of the app: run `cargo cfn {command}` (the deploy tool, \
         `cargo install --locked --path <cfnkit>/deploy`), which synthesizes the app first"
    ))
}

/// Runs a parsed command and returns what it prints.
pub fn run<E: Display>(
    cli: Cli,
    build: impl FnOnce() -> Result<App, E>,
) -> Result<String, CliError> {
    let started = Instant::now();
    let app = build().map_err(|e| CliError::App(e.to_string()))?;
    match cli.command {
        Command::Synth {
            out,
            format,
            allow_export_removal,
            show_suppressed,
            stacks,
        } => {
            let checked = synth::synth_checked(&app)?;
            let assembly = checked.assembly();
            let rendered = output::render(assembly, format, &stacks)?;
            if !allow_export_removal {
                check_export_removal(&out, assembly)?;
            }
            output::write_atomically(&out, &rendered.files)?;
            let mut report = checked.report().summary(show_suppressed);
            for s in &rendered.manifest.stacks {
                let s3 = if s.requires_s3_upload {
                    " (over 51,200 bytes: deploys through S3)"
                } else {
                    ""
                };
                report.push_str(&format!(
                    "{:<24} {:>8} bytes  {}{s3}\n",
                    s.name,
                    s.bytes,
                    Path::new(&out).join(&s.template).display()
                ));
            }
            for api in &rendered.apis {
                report.push_str(&format!(
                    "{:<24} OpenAPI  {}\n",
                    format!("{}.{}", api.stack, api.api),
                    Path::new(&out).join(&api.document).display()
                ));
            }
            let documents = match rendered.apis.len() {
                0 => String::new(),
                n => format!(", {n} OpenAPI document(s)"),
            };
            report.push_str(&format!(
                "wrote {} template(s){documents} and manifest.json to {} in {} ms\n",
                rendered.manifest.stacks.len(),
                out.display(),
                started.elapsed().as_millis()
            ));
            Ok(report)
        }
        Command::Package {
            out,
            format,
            allow_export_removal,
            show_suppressed,
            workspace,
            dev,
            stacks,
        } => {
            let checked = synth::synth_checked(&app)?;
            let findings = checked.report().summary(show_suppressed);
            let mut assembly = checked.into_assembly();
            // Refuse an unknown stack before minutes of building.
            output::render(&assembly, format, &stacks)?;
            if !allow_export_removal {
                check_export_removal(&out, &assembly)?;
            }
            let profile = if dev {
                AssetProfile::Dev
            } else {
                AssetProfile::Release
            };
            let packaged = package_assets(&mut assembly, &stacks, &workspace, profile)?;
            let rendered = output::render_with_assets(&assembly, format, &stacks, &packaged)?;
            let mut files: Vec<(String, Vec<u8>)> = rendered
                .files
                .into_iter()
                .map(|(name, body)| (name, body.into_bytes()))
                .collect();
            files.extend(assets::package::files(&packaged));
            output::write_atomically(&out, &files)?;
            let mut report = findings;
            for p in &packaged {
                report.push_str(&assets::package::describe(p, &out));
            }
            report.push_str(&format!(
                "packaged {} asset(s); wrote {} template(s) and manifest.json to {} in {} ms\n",
                packaged.len(),
                rendered.manifest.stacks.len(),
                out.display(),
                started.elapsed().as_millis()
            ));
            if dev {
                report.push_str("dev build (--dev): keys start with dev-; package without --dev for production\n");
            }
            Ok(report)
        }
        Command::List => {
            // Listing writes nothing, so the rule pack's findings do not stop it.
            let assembly = synth::synth(&app)?;
            let width = assembly
                .stacks
                .iter()
                .map(|s| s.name.len())
                .max()
                .unwrap_or(0);
            Ok(assembly
                .stacks
                .iter()
                .map(|s| {
                    if s.dependencies.is_empty() {
                        format!("{}\n", s.name)
                    } else {
                        format!("{:<width$}  after {}\n", s.name, s.dependencies.join(", "))
                    }
                })
                .collect())
        }
    }
}

/// Builds the assets with cargo-zigbuild in `workspace`; see [`assets`].
fn package_assets(
    assembly: &mut synth::Assembly,
    stacks: &[String],
    workspace: &Path,
    profile: AssetProfile,
) -> Result<Vec<assets::package::Packaged>, AssetError> {
    assets::package::check_targets(assembly, stacks, |a| {
        assets::build::std_installed(workspace, a)
    })?;
    let ws = assets::build::Workspace::load(workspace)?;
    let builder = assets::build::Zigbuild {
        profile,
        ..assets::build::Zigbuild::new(ws.clone())
    };
    assets::package::package(
        assembly,
        stacks,
        |u| {
            ws.resolve(
                u.spec.package.as_deref(),
                &u.spec.bin,
                &u.used_by.join(", "),
            )
        },
        &builder,
    )
}

fn check_export_removal(out: &Path, assembly: &synth::Assembly) -> Result<(), SynthError> {
    let Some(previous) = output::previous_manifest(out) else {
        return Ok(());
    };
    let problems = removed_exports(&previous, assembly);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SynthError::Invalid(problems))
    }
}
