//! The command line: clap structs with the help text, and the exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::assembly::Assembly;
use crate::aws::Clients;
use crate::commands::{bootstrap, deploy, destroy, diff, drift, gc, new, watch, Found};
use crate::error::DeployError;
use crate::synth;
use crate::workspace::{self, Workspace};

/// Deploy a cfnkit app with CloudFormation: bootstrap, deploy, diff, drift, destroy; run it here (local); start
/// one (new).
///
/// Each command first synthesizes the app: the binary `cargo run` runs at the workspace root (or the one --app
/// names), into cfnkit.out at the workspace root, from any directory of the workspace. AWS access comes from the
/// standard configuration: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, credentials files, SSO.
#[derive(Debug, Parser)]
#[command(name = "cargo-cfn", bin_name = "cargo cfn", version)]
pub struct Cli {
    #[command(flatten)]
    pub app: AppOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// Which app, and where its cloud assembly goes. Global, so they may follow the command.
#[derive(Debug, clap::Args)]
pub struct AppOptions {
    /// The app: a binary of this workspace by name, or a command that runs it (with a space or a `/`; ` synth
    /// --out <OUT>` is appended, as CDK's --app). Without it, the binary `cargo run` runs at the workspace root;
    /// when that is not one binary, the error lists them.
    #[arg(long, global = true, value_name = "BIN|COMMAND")]
    pub app: Option<String>,
    /// Use this cloud assembly as it is, without running the app.
    #[arg(long, global = true, value_name = "DIR")]
    pub assembly: Option<PathBuf>,
    /// Where the app writes the cloud assembly (relative to the working directory) [default: cfnkit.out at the
    /// workspace root].
    #[arg(long, global = true, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run the app's `package` (builds the Lambda code zips) instead of `synth`.
    #[arg(long, global = true)]
    pub package: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Bootstrap(bootstrap::Args),
    Deploy(deploy::Args),
    Diff(diff::Args),
    Destroy(destroy::Args),
    Drift(drift::Args),
    /// Run the app on this machine: moto (installed into a virtualenv of its own when missing) for the data
    /// plane, the handlers' real binaries behind a local Lambda Runtime API, event sources and IAM as AWS runs
    /// them. Prints the local AWS endpoint and what is not run; Ctrl-C stops everything and prints a summary.
    Local(cfnkit_local::cli::LocalArgs),
    Watch(watch::Args),
    Gc(gc::Args),
    New(new::Args),
}

impl Command {
    /// Commands that report what they found exit 1 for differences, so an error is 2 there.
    fn error_code(&self) -> u8 {
        match self {
            Command::Diff(_) | Command::Drift(_) => 2,
            _ => 1,
        }
    }
}

/// Colours only for a terminal, and never with NO_COLOR set (https://no-color.org).
fn configure_colours() {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
}

/// Parses the arguments, runs the command, and maps the outcome to the documented exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse_from(subcommand_args(std::env::args_os()));
    if let Some((command, flags)) = ignored_app_flags(&cli) {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "{command} runs no app, so {flags} would be ignored: drop it, or use it with deploy, diff \
                     or destroy"
                ),
            )
            .exit();
    }
    configure_colours();
    let error_code = cli.command.error_code();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(Found::Nothing) => ExitCode::SUCCESS,
        Ok(Found::Differences) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{} {e}", console::style("error:").red().bold());
            ExitCode::from(error_code)
        }
    }
}

/// The arguments without the `cfn` that cargo inserts when it runs `cargo-cfn` as `cargo cfn ...`, so the
/// binary answers the same whether cargo or a person starts it.
pub fn subcommand_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<_> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "cfn") {
        args.remove(1);
    }
    args
}

/// The app options (global, so clap shows them under every command) given to a command that runs no app
/// (bootstrap deploys its own template, new writes one): silently ignoring them would let `cargo cfn bootstrap
/// --app ./other` look as if it had bootstrapped for that app.
fn ignored_app_flags(cli: &Cli) -> Option<(&'static str, String)> {
    let command = match cli.command {
        Command::Bootstrap(_) => "bootstrap",
        Command::New(_) => "new",
        _ => return None,
    };
    let app = &cli.app;
    let given: Vec<&str> = [
        ("--app", app.app.is_some()),
        ("--assembly", app.assembly.is_some()),
        ("--out", app.out.is_some()),
        ("--package", app.package),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect();
    (!given.is_empty()).then(|| (command, given.join(", ")))
}

/// The cloud assembly's directory, and the workspace root the app's sources are in: `--assembly` as it is, or
/// the app synthesized (or packaged, with `--package`) now.
fn assembly_dir(options: &AppOptions, command: &str) -> Result<(PathBuf, PathBuf), DeployError> {
    let cwd = std::env::current_dir()?;
    // A command given with --app needs no workspace; without one, the assembly goes to the working directory.
    let workspace = match Workspace::locate(&cwd) {
        Ok(ws) => Some(ws),
        Err(_) if options.assembly.is_some() => None,
        Err(_) if options.app.as_deref().is_some_and(workspace::is_command) => None,
        Err(e) => return Err(e),
    };
    let root = workspace
        .as_ref()
        .map_or_else(|| cwd.clone(), |ws| ws.root.clone());
    if let Some(dir) = &options.assembly {
        return Ok((dir.clone(), root));
    }
    let app = workspace::resolve_app(options.app.as_deref(), workspace.as_ref())?;
    let out = workspace::out_dir(options.out.as_deref(), workspace.as_ref());
    synth::run(&app, command, &out)?;
    Ok((out, root))
}

/// Runs a command.
pub async fn run(cli: Cli) -> Result<Found, DeployError> {
    if let Command::Bootstrap(args) = &cli.command {
        return bootstrap::run(args).await;
    }
    if let Command::New(args) = &cli.command {
        let dir = new::run(args)?;
        print!("{}", new::next_steps(&dir));
        return Ok(Found::Nothing);
    }
    if let Command::Local(args) = &cli.command {
        // No AWS access: the app runs against moto on this machine, from the handlers' sources.
        let (dir, root) = assembly_dir(&cli.app, "synth")?;
        cfnkit_local::cli::run(&dir, root, args.clone())
            .await
            .map_err(|e| DeployError::Local(e.to_string()))?;
        return Ok(Found::Nothing);
    }
    let clients = Clients::from_env().await?;
    if let Command::Watch(args) = &cli.command {
        // Packages the app itself, on every change.
        return watch::run(&clients, &cli.app, args).await;
    }
    if let Command::Gc(args) = &cli.command {
        // Every stack of the account and region counts, whichever app deployed it: no app to synthesize.
        return gc::run(&clients, args).await;
    }
    let command = if cli.app.package { "package" } else { "synth" };
    let assembly = Assembly::load(&assembly_dir(&cli.app, command)?.0)?;
    match &cli.command {
        Command::Bootstrap(_)
        | Command::Local(_)
        | Command::New(_)
        | Command::Watch(_)
        | Command::Gc(_) => {
            unreachable!("handled above")
        }
        Command::Deploy(args) => deploy::run(&clients, &assembly, args).await,
        Command::Diff(args) => diff::run(&clients, &assembly, args).await,
        Command::Destroy(args) => destroy::run(&clients, &assembly, args).await,
        Command::Drift(args) => drift::run(&clients, &assembly, args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// `cargo cfn deploy --help` once listed `[STACK]...` with no text: every argument of every command says
    /// what it is.
    #[test]
    fn every_argument_has_help() {
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            for arg in sub.get_arguments() {
                if ["help", "version"].contains(&arg.get_id().as_str()) {
                    continue;
                }
                assert!(
                    arg.get_help()
                        .is_some_and(|h| !h.to_string().trim().is_empty()),
                    "`cargo cfn {} --help`: argument {} has no help text",
                    sub.get_name(),
                    arg.get_id()
                );
            }
        }
    }

    #[test]
    fn bootstrap_and_new_refuse_the_app_options_they_would_ignore() {
        let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied()).unwrap();
        let ignored =
            |args: &[&str]| ignored_app_flags(&parse(args)).map(|(c, f)| format!("{c}: {f}"));
        assert_eq!(ignored(&["cfnkit", "bootstrap", "--show-template"]), None);
        assert_eq!(
            ignored(&["cfnkit", "bootstrap", "--app", "./x", "--package"]),
            Some("bootstrap: --app, --package".to_owned())
        );
        assert_eq!(
            ignored(&["cfnkit", "--assembly", "out", "bootstrap"]),
            Some("bootstrap: --assembly".to_owned())
        );
        assert_eq!(
            ignored(&["cfnkit", "new", "demo", "--out", "x"]),
            Some("new: --out".to_owned())
        );
        assert_eq!(ignored(&["cfnkit", "new", "demo"]), None);
        assert_eq!(ignored(&["cfnkit", "deploy", "--app", "./x"]), None);
    }

    /// The diff's help once named three of the six sections it compares.
    #[test]
    fn diff_help_names_every_section_it_compares() {
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("diff")
            .unwrap()
            .render_long_help()
            .to_string();
        for section in crate::diff::SECTIONS {
            assert!(
                help.contains(&section.to_lowercase()),
                "`cargo cfn diff --help` does not name {section}: {help}"
            );
        }
    }

    #[test]
    fn the_app_points_deploy_commands_here() {
        let hint = cfnkit::cli::deploy_tool_hint(Some("deploy")).unwrap();
        assert!(hint.contains("run `cargo cfn deploy`"), "{hint}");
        assert!(cfnkit::cli::deploy_tool_hint(Some("synth")).is_none());
        assert!(cfnkit::cli::deploy_tool_hint(None).is_none());
    }

    #[test]
    fn yes_is_force_and_app_is_global() {
        let cli =
            Cli::try_parse_from(["cfnkit", "destroy", "--yes", "A", "--app", "./my-app"]).unwrap();
        assert_eq!(cli.app.app.as_deref(), Some("./my-app"));
        assert!(
            matches!(cli.command, Command::Destroy(destroy::Args { force: true, ref stacks, .. }) if stacks == &["A"])
        );
        let cli = Cli::try_parse_from(["cfnkit", "deploy", "--no-execute", "--method", "direct"])
            .unwrap();
        let Command::Deploy(args) = cli.command else {
            panic!("not deploy")
        };
        assert!(args.no_execute);
        assert_eq!(args.method, deploy::Method::Direct);
        assert_eq!(args.require_approval, deploy::RequireApproval::Broadening);
    }

    #[test]
    fn approval_levels_and_repeated_parameters_parse() {
        let cli = Cli::try_parse_from([
            "cfnkit",
            "deploy",
            "--require-approval",
            "any-change",
            "--parameters",
            "Api:Size=3",
            "--parameters",
            "Env=prod",
        ])
        .unwrap();
        let Command::Deploy(args) = cli.command else {
            panic!("not deploy")
        };
        assert_eq!(args.require_approval, deploy::RequireApproval::AnyChange);
        assert_eq!(
            args.parameters,
            ["Api:Size=3".parse().unwrap(), "Env=prod".parse().unwrap()]
        );
        let err = Cli::try_parse_from(["cfnkit", "deploy", "--parameters", "Size"]).unwrap_err();
        assert!(err.to_string().contains("`Size` has no `=`"), "{err}");
        assert!(
            Cli::try_parse_from(["cfnkit", "deploy", "--require-approval", "sometimes"]).is_err()
        );
        assert!(Cli::try_parse_from(["cfnkit", "deploy", "--concurrency", "0"]).is_err());
    }
}
