//! The command line: clap structs with the help text, and the exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::assembly::Assembly;
use crate::aws::Clients;
use crate::commands::{self, DeployOptions, Method, RequireApproval};
use crate::error::DeployError;
use crate::parameters::ParameterArg;
use crate::synth;

/// Deploy a cfnkit app with CloudFormation: bootstrap, deploy, diff, destroy.
///
/// Each command first synthesizes the app (`cargo run --quiet -- synth --out cfnkit.out`; see --app and
/// --assembly). AWS access comes from the standard configuration: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL,
/// credentials files, SSO.
#[derive(Debug, Parser)]
#[command(name = "cargo-cfn", bin_name = "cargo cfn", version)]
pub struct Cli {
    /// The command that runs the app; ` synth --out <OUT>` is appended (` package --out <OUT>` with --package).
    #[arg(long, global = true, default_value = synth::DEFAULT_APP)]
    pub app: String,
    /// Use this cloud assembly as it is, without running the app.
    #[arg(long, global = true, value_name = "DIR")]
    pub assembly: Option<PathBuf>,
    /// Where the app writes the cloud assembly.
    #[arg(long, global = true, default_value = "cfnkit.out", value_name = "DIR")]
    pub out: PathBuf,
    /// Run the app's `package` (builds the Lambda code zips) instead of `synth`.
    #[arg(long, global = true)]
    pub package: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the CfnkitBootstrap stack: the assets bucket cfnkit-assets-<account>-<region>
    /// (KMS-encrypted, versioned, public access blocked, TLS only). Safe to run again.
    ///
    /// It deploys its own template and runs no app, so --app, --assembly, --out and --package are refused here.
    Bootstrap {
        /// Print the bootstrap template and stop, without contacting AWS.
        #[arg(long)]
        show_template: bool,
    },
    /// Deploy the stacks (all when none are named) and the stacks they depend on, in dependency order.
    ///
    /// Uploads the Lambda code zips not in the assets bucket yet, then deploys each stack through a change set
    /// and waits, showing its events. A stack is reported deployed only when it reached CREATE_COMPLETE or
    /// UPDATE_COMPLETE; an unchanged stack is reported as "no changes". Exit code 0 on success, 1 on failure.
    ///
    /// Before changing anything it checks: the parameters; the bootstrap stack (exists, and its version is one
    /// this cfnkit deploys with) when the deploy needs the assets bucket, that is when there are assets to
    /// upload or a template over 51,200 bytes; and, per --require-approval, that a person approved changes that
    /// broaden permissions.
    Deploy {
        /// Stacks to deploy, with the stacks they depend on (all when none are named).
        #[arg(value_name = "STACK")]
        stacks: Vec<String>,
        /// Create the change sets and print their changes, without executing them.
        #[arg(long)]
        no_execute: bool,
        /// How to deploy: through change sets, or CreateStack/UpdateStack directly.
        #[arg(long, value_enum, default_value_t = Method::ChangeSet)]
        method: Method,
        /// Which changes need approval: `broadening` (IAM statements, managed policies, resource policies,
        /// Lambda permissions, security group rules added, or a Deny removed), `any-change`, or `never`. On a
        /// terminal the changes are shown and a yes is asked for, once for the whole deploy; without one the
        /// deploy is refused before anything changes. Not asked with --no-execute.
        #[arg(long, value_enum, default_value_t = RequireApproval::Broadening)]
        require_approval: RequireApproval,
        /// A template parameter's value: STACK:KEY=VALUE for one stack, KEY=VALUE for every deployed stack that
        /// declares KEY (STACK:KEY wins). Repeat for more. Parameters without a value keep their deployed value,
        /// or take their Default when the stack is created.
        #[arg(long = "parameters", value_name = "[STACK:]KEY=VALUE")]
        parameters: Vec<ParameterArg>,
        /// How many stacks deploy at once. A stack starts once the stacks it depends on are done; with more
        /// than one, each event line starts with its stack's name and no progress bar is drawn.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        concurrency: u16,
    },
    /// Compare the synthesized templates with the deployed ones (all stacks when none are named).
    ///
    /// Lists added, removed and modified parameters, mappings, conditions, rules, resources and outputs with the
    /// property paths that differ, then the security changes (IAM statements, resource policies, Lambda
    /// permissions, security group rules) as a table.
    /// Exit code 0: no differences; 1: differences; 2: an error.
    Diff {
        /// Stacks to compare (all when none are named).
        #[arg(value_name = "STACK")]
        stacks: Vec<String>,
        /// Also create (and delete) a change set per changed stack, to show which changes replace a resource.
        #[arg(long)]
        change_set: bool,
    },
    /// Delete the stacks (all when none are named) and the stacks that depend on them, dependents first.
    ///
    /// Asks for confirmation unless --force; refuses without it when standard input is not a terminal.
    /// Resources with DeletionPolicy Retain are kept and listed.
    Destroy {
        /// Stacks to delete, with the stacks that depend on them (all when none are named).
        #[arg(value_name = "STACK")]
        stacks: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long, short = 'f', visible_alias = "yes", short_alias = 'y')]
        force: bool,
    },
    /// Run the app on this machine: moto (installed into a virtualenv of its own when missing) for the data
    /// plane, the handlers' real binaries behind a local Lambda Runtime API, event sources and IAM as AWS runs
    /// them. Prints the local AWS endpoint and what is not run; Ctrl-C stops everything and prints a summary.
    Local(cfnkit_local::cli::LocalArgs),
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
    if let Some(flags) = bootstrap_app_flags(&cli) {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "bootstrap deploys its own template and runs no app, so {flags} would be ignored: drop it, \
                     or use it with deploy, diff or destroy"
                ),
            )
            .exit();
    }
    configure_colours();
    let is_diff = matches!(cli.command, Command::Diff { .. });
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
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{} {e}", console::style("error:").red().bold());
            ExitCode::from(if is_diff { 2 } else { 1 })
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

/// The app options (global, so clap shows them under bootstrap too) that a bootstrap was given: silently ignoring
/// them would let `cargo cfn bootstrap --app ./other` look as if it had bootstrapped for that app.
fn bootstrap_app_flags(cli: &Cli) -> Option<String> {
    if !matches!(cli.command, Command::Bootstrap { .. }) {
        return None;
    }
    let given: Vec<&str> = [
        ("--app", cli.app != synth::DEFAULT_APP),
        ("--assembly", cli.assembly.is_some()),
        ("--out", cli.out != std::path::Path::new("cfnkit.out")),
        ("--package", cli.package),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect();
    (!given.is_empty()).then(|| given.join(", "))
}

/// Runs a command. `Ok(true)` only from diff: there are differences.
pub async fn run(cli: Cli) -> Result<bool, DeployError> {
    if let Command::Bootstrap { show_template } = cli.command {
        if show_template {
            print!("{}", crate::bootstrap::template()?);
        } else {
            commands::bootstrap(&Clients::from_env().await?).await?;
        }
        return Ok(false);
    }
    if let Command::Local(args) = cli.command {
        // No AWS access: the app runs against moto on this machine.
        let dir = match &cli.assembly {
            Some(dir) => dir.clone(),
            None => {
                synth::run(&cli.app, "synth", &cli.out)?;
                cli.out.clone()
            }
        };
        cfnkit_local::cli::run(&dir, std::path::PathBuf::from("."), args)
            .await
            .map_err(|e| DeployError::Local(e.to_string()))?;
        return Ok(false);
    }
    let clients = Clients::from_env().await?;
    let dir = match &cli.assembly {
        Some(dir) => dir.clone(),
        None => {
            synth::run(
                &cli.app,
                if cli.package { "package" } else { "synth" },
                &cli.out,
            )?;
            cli.out.clone()
        }
    };
    let assembly = Assembly::load(&dir)?;
    match cli.command {
        Command::Bootstrap { .. } | Command::Local(_) => unreachable!("handled above"),
        Command::Deploy {
            stacks,
            no_execute,
            method,
            require_approval,
            parameters,
            concurrency,
        } => {
            commands::deploy(
                &clients,
                &assembly,
                &stacks,
                &parameters,
                DeployOptions {
                    method,
                    execute: !no_execute,
                    approval: require_approval,
                    concurrency: usize::from(concurrency),
                },
            )
            .await?;
            Ok(false)
        }
        Command::Diff { stacks, change_set } => {
            commands::diff(&clients, &assembly, &stacks, change_set).await
        }
        Command::Destroy { stacks, force } => {
            commands::destroy(&clients, &assembly, &stacks, force).await?;
            Ok(false)
        }
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
    fn bootstrap_refuses_the_app_options_it_would_ignore() {
        let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied()).unwrap();
        assert_eq!(
            bootstrap_app_flags(&parse(&["cfnkit", "bootstrap", "--show-template"])),
            None
        );
        assert_eq!(
            bootstrap_app_flags(&parse(&[
                "cfnkit",
                "bootstrap",
                "--app",
                "./x",
                "--package"
            ])),
            Some("--app, --package".to_owned())
        );
        assert_eq!(
            bootstrap_app_flags(&parse(&["cfnkit", "--assembly", "out", "bootstrap"])),
            Some("--assembly".to_owned())
        );
        assert_eq!(
            bootstrap_app_flags(&parse(&["cfnkit", "deploy", "--app", "./x"])),
            None
        );
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
        assert_eq!(cli.app, "./my-app");
        assert!(
            matches!(cli.command, Command::Destroy { force: true, ref stacks } if stacks == &["A"])
        );
        let cli = Cli::try_parse_from(["cfnkit", "deploy", "--no-execute", "--method", "direct"])
            .unwrap();
        assert!(matches!(
            cli.command,
            Command::Deploy {
                no_execute: true,
                method: Method::Direct,
                require_approval: RequireApproval::Broadening,
                ..
            }
        ));
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
        let Command::Deploy {
            require_approval,
            parameters,
            ..
        } = cli.command
        else {
            panic!("not deploy")
        };
        assert_eq!(require_approval, RequireApproval::AnyChange);
        assert_eq!(
            parameters,
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
