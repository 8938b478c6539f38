//! Delivery: seed 004's CI/CD (CodePipeline: source -> build -> deploy) as the platform's pipeline stack. On every
//! push to [`BRANCH`] of [`REPOSITORY`], CodeBuild runs `cargo test --workspace` and `package`; the pipeline
//! updates itself, deploys the dev environment (`foundation::Env::dev()`'s stacks), waits for a person's
//! approval, then deploys prod and the services (every other stack), each stack as a change set in the
//! manifest's order, independent stacks in parallel.
//!
//! The Git connection is made once by hand (a CodeStar connection needs a handshake in the console), and its ARN
//! is kept in the SSM parameter [`CONNECTION_PARAMETER`], which CloudFormation resolves at deploy time (a dynamic
//! reference, not a template parameter: the stack has nothing to ask for, and the local run nothing to read).

use cfnkit::constructs::pipelines::{DeployStage, Pipeline, PipelineProps, PipelineSource};
use cfnkit::constructs::ConstructError;
use cfnkit::synth::Assembly;
use cfnkit::App;

use crate::foundation::Env;

/// The pipeline stack's name.
pub const STACK: &str = "Delivery";
/// The repository the pipeline builds.
pub const REPOSITORY: &str = "order-platform/cfnkit";
/// The branch whose pushes it deploys.
pub const BRANCH: &str = "main";
/// The SSM parameter holding the CodeStar connection's ARN.
pub const CONNECTION_PARAMETER: &str = "/order-platform/delivery/connection-arn";

/// The pipeline stack, deploying `platform` (the app's other stacks, synthesized): the dev environment's stacks,
/// then, after an approval, everything else.
pub fn stack(app: &App, platform: &Assembly) -> Result<Pipeline, ConstructError> {
    let stack = app.stack(STACK);
    stack.set_description("Order platform: the delivery pipeline (dev, approval, prod)");
    let dev_prefix = Env::dev().name;
    let (dev, prod): (Vec<String>, Vec<String>) = platform
        .stacks
        .iter()
        .map(|s| s.name.clone())
        .filter(|s| s != STACK)
        .partition(|s| s.starts_with(dev_prefix));
    Pipeline::new(
        &stack.scope(),
        "Pipeline",
        platform,
        PipelineSource::Connection {
            connection_arn: format!("{{{{resolve:ssm:{CONNECTION_PARAMETER}}}}}").into(),
            repository: REPOSITORY.to_owned(),
            branch: BRANCH.to_owned(),
        },
        vec![
            DeployStage {
                name: "Dev".to_owned(),
                stacks: dev,
                approval_before: false,
                env: None,
            },
            DeployStage {
                name: "Prod".to_owned(),
                stacks: prod,
                approval_before: true,
                env: None,
            },
        ],
        PipelineProps::default(),
    )
}
