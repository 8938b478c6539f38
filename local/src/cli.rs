//! `cargo cfn local`: the arguments, and the run from ready line to summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::apigw::{LocalApis, LocalIdentity, ServeOptions};
use crate::model::Templates;
use crate::run::{LocalError, LocalOptions, LocalRun};

/// Run the synthesized app on this machine: moto for the data plane, the handlers' real binaries behind a
/// local Lambda Runtime API, event sources and IAM as AWS runs them. Runs until Ctrl-C, then stops everything
/// and prints a summary.
#[derive(Clone, Debug, clap::Args)]
pub struct LocalArgs {
    /// Stacks to run, with the stacks they import from (all when none are named).
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// The port of the local AWS endpoint (point AWS_ENDPOINT_URL at it to use the app's resources).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// The port of the first REST or HTTP API; the others take the next ports, in the app's order (0: any
    /// free ports). Each API's URL is printed on start.
    #[arg(long, default_value_t = 3000)]
    pub api_port: u16,
    /// Call the APIs as this signed-in user when a request brings no credentials of its own: Cognito and JWT
    /// authorizers see the claims `sub` and `cognito:username` = NAME, IAM routes the user `NAME`. Without it,
    /// such requests are refused as API Gateway refuses them (401 / 403).
    #[arg(long, value_name = "NAME")]
    pub as_user: Option<String>,
    /// A template parameter's value: STACK:KEY=VALUE for one stack, KEY=VALUE for every stack that declares
    /// KEY. Repeat for more. Parameters without a value take their Default.
    #[arg(long = "parameters", value_name = "[STACK:]KEY=VALUE")]
    pub parameters: Vec<String>,
    /// Print each event's path: queue -> function, bus -> rule -> function, retries, dead letters.
    #[arg(long)]
    pub trace: bool,
    /// Rebuild a handler when its sources change and replace its processes; queued events wait meanwhile.
    #[arg(long)]
    pub watch: bool,
    /// Deliver every event twice, concurrently (SQS batches, stream records, asynchronous invocations), as
    /// at-least-once delivery allows: a handler that is not idempotent shows it.
    #[arg(long)]
    pub deliver_twice: bool,
    /// Build the handlers with --release.
    #[arg(long)]
    pub release: bool,
    /// The region the emulator plays.
    #[arg(long, default_value = crate::model::DEFAULT_REGION)]
    pub region: String,
}

/// Why `cargo cfn local` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A `--parameters` value without `=`.
    #[error("--parameters {0}: expected KEY=VALUE or STACK:KEY=VALUE")]
    Parameter(String),
    /// The run could not start.
    #[error(transparent)]
    Start(Box<LocalError>),
    /// Interrupted while starting.
    #[error("interrupted while starting; everything started was stopped")]
    Interrupted,
}

fn parameters(args: &LocalArgs) -> Result<BTreeMap<String, String>, CliError> {
    args.parameters
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| CliError::Parameter(p.clone()))
        })
        .collect()
}

impl From<LocalError> for CliError {
    fn from(e: LocalError) -> Self {
        CliError::Start(Box::new(e))
    }
}

/// Waits for Ctrl-C or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the app of the cloud assembly in `assembly` (handlers built in the workspace at `workspace`) until
/// Ctrl-C, printing the ready line, what is not run, and the summary on exit.
pub async fn run(assembly: &Path, workspace: PathBuf, args: LocalArgs) -> Result<(), CliError> {
    let templates = Templates::from_dir(assembly).map_err(LocalError::from)?;
    let options = LocalOptions {
        stacks: args.stacks.clone(),
        parameters: parameters(&args)?,
        workspace: workspace.clone(),
        port: Some(args.port),
        release: args.release,
        trace: args.trace,
        deliver_twice: args.deliver_twice,
        region: args.region.clone(),
        apis: Some(Arc::new(LocalApis {
            options: ServeOptions {
                base_port: args.api_port,
                identity: args
                    .as_user
                    .as_deref()
                    .map(|name| LocalIdentity::user(crate::model::DEFAULT_ACCOUNT, name)),
            },
        })),
        ..LocalOptions::default()
    };
    let started = std::time::Instant::now();
    // Dropping the start on Ctrl-C kills what it had started (moto, processes: kill-on-drop).
    let run = tokio::select! {
        r = LocalRun::start(&templates, options) => r?,
        _ = interrupted() => return Err(CliError::Interrupted),
    };
    println!("{}", run.ready_report());
    let phases: Vec<String> = run
        .phases
        .iter()
        .map(|(name, d)| format!("{name} {:.1} s", d.as_secs_f64()))
        .collect();
    println!(
        "started in {:.1} s ({}); Ctrl-C stops everything",
        started.elapsed().as_secs_f64(),
        phases.join(", ")
    );
    if args.watch {
        tokio::select! {
            _ = interrupted() => {}
            _ = crate::watch::rebuild_on_change(&run, &workspace, args.release, Duration::from_secs(1)) => {}
        }
    } else {
        interrupted().await;
    }
    eprintln!("stopping...");
    let summary = run.stop().await;
    print!("{summary}");
    Ok(())
}
