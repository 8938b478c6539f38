//! `cargo cfn bootstrap`: the CfnkitBootstrap stack and its assets bucket.

use std::collections::BTreeMap;

use crate::aws::{Clients, BOOTSTRAP_STACK};
use crate::commands::deploy::{deploy_stack, report, DeployOptions, StackSpec};
use crate::commands::Found;
use crate::error::DeployError;

/// Create or update the CfnkitBootstrap stack: the assets bucket cfnkit-assets-<account>-<region>
/// (KMS-encrypted, versioned, public access blocked, TLS only), and with --trust the roles other accounts use to
/// deploy here. Safe to run again.
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
    /// An account (12 digits) that may deploy here, a tools account running a pipeline: adds the deploy,
    /// execution, publishing and lookup roles (cfnkit-deploy-<account>-<region>...), which trust it. Repeat for
    /// several. Without it, no roles. Also what lets stacks of that account read this account's outputs
    /// (Fn::GetStackOutput through the lookup role).
    #[arg(long = "trust", value_name = "ACCOUNT")]
    pub trust: Vec<String>,
    /// The AWS services (IAM prefixes, comma-separated) CloudFormation's execution role may manage for the
    /// trusted accounts' deployments. Without it, those of cfnkit's constructs (lambda, dynamodb, sqs, iam...).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "SERVICES",
        requires = "trust"
    )]
    pub execution_services: Vec<String>,
}

impl Args {
    fn options(&self) -> crate::bootstrap::BootstrapOptions {
        crate::bootstrap::BootstrapOptions {
            trust: self.trust.clone(),
            execution_services: self.execution_services.clone(),
        }
    }
}

pub async fn run(args: &Args) -> Result<Found, DeployError> {
    let options = args.options();
    if args.show_template {
        print!("{}", crate::bootstrap::template_with(&options)?);
    } else {
        // Checked before contacting AWS, so a mistyped account fails fast.
        let body = crate::bootstrap::template_with(&options)?;
        bootstrap(&Clients::from_env().await?, body, args.express).await?;
    }
    Ok(Found::Nothing)
}

/// Creates the bootstrap stack with the template `body` ([`crate::bootstrap::template_with`]), or updates it;
/// idempotent.
pub async fn bootstrap(clients: &Clients, body: String, express: bool) -> Result<(), DeployError> {
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
