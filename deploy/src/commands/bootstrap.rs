//! `cargo cfn bootstrap`: the CfnkitBootstrap stack and its assets bucket.

use std::collections::BTreeMap;

use crate::aws::{Clients, BOOTSTRAP_STACK};
use crate::commands::deploy::{deploy_stack, report, DeployOptions, StackSpec};
use crate::commands::Found;
use crate::error::DeployError;

/// Create or update the CfnkitBootstrap stack: the assets bucket cfnkit-assets-<account>-<region>
/// (KMS-encrypted, versioned, public access blocked, TLS only). Safe to run again.
///
/// It deploys its own template and runs no app, so --app, --assembly, --out and --package are refused here.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the bootstrap template and stop, without contacting AWS.
    #[arg(long)]
    pub show_template: bool,
    /// CloudFormation's express mode: the stack's operation completes once the bucket's configuration is
    /// applied, without waiting for it to be ready.
    #[arg(long, conflicts_with = "show_template")]
    pub express: bool,
}

pub async fn run(args: &Args) -> Result<Found, DeployError> {
    if args.show_template {
        print!("{}", crate::bootstrap::template()?);
    } else {
        bootstrap(&Clients::from_env().await?, args.express).await?;
    }
    Ok(Found::Nothing)
}

/// Creates the bootstrap stack, or updates it when this tool's template is newer; idempotent.
pub async fn bootstrap(clients: &Clients, express: bool) -> Result<(), DeployError> {
    let body = crate::bootstrap::template()?;
    let spec = StackSpec {
        name: BOOTSTRAP_STACK.into(),
        body,
        tags: BTreeMap::new(),
        termination_protection: false,
        parameters: BTreeMap::new(),
        dependencies: Vec::new(),
    };
    let options = DeployOptions {
        express,
        ..DeployOptions::unattended()
    };
    let outcome = deploy_stack(clients, &spec, &options).await?;
    report(BOOTSTRAP_STACK, &outcome);
    println!("assets bucket: {}", clients.assets_bucket().await?);
    Ok(())
}
