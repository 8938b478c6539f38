//! The event-driven order platform, described with cfnkit: one module per stack.
//!
//! - Seed 003 (the order flow): [`base`], [`order`], [`inventory`], [`payment`], [`shipping`].
//! - Seeds 000, 001 and 002 (outbox, stream processing, bronze layer): [`seeds`].
//! - Seed 004 (analytics, notifications, network/data/compute foundation): [`foundation`]; its CI/CD: [`delivery`].

pub mod base;
pub mod delivery;
pub mod foundation;
pub mod inventory;
pub mod order;
pub mod payment;
pub mod seeds;
pub mod service;
pub mod shipping;

use cfnkit::constructs::ConstructError;
use cfnkit::App;

pub use base::Base;

/// Why the platform app could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A construct refused its props; the message names its path, the value and the fix.
    #[error(transparent)]
    Construct(#[from] ConstructError),
    /// The platform does not synthesize, so the pipeline cannot know its stacks' order.
    #[error("the platform's stacks, which the delivery pipeline deploys, do not synthesize: {0}")]
    Synth(#[from] cfnkit::synth::SynthError),
}

/// The platform app: every stack, wired together through cross-stack references, and the delivery pipeline
/// that deploys them ([`delivery`]).
pub fn app() -> Result<App, AppError> {
    let app = platform()?;
    // The pipeline deploys the platform's stacks in their deploy order, which synth decides: synthesize an
    // identical app (apps are built by code, so a second build is the same) to read it.
    let deployed = cfnkit::synth::synth(&platform()?)?;
    delivery::stack(&app, &deployed)?;
    Ok(app)
}

/// The platform's stacks without the pipeline.
pub fn platform() -> Result<App, AppError> {
    let app = App::new();
    app.add_tag("app", "order-platform");
    let base = base::stack(&app)?;
    inventory::stack(&app, &base)?;
    payment::stack(&app, &base)?;
    shipping::stack(&app, &base)?;
    seeds::stacks(&app, &base)?;
    // Seed 004's identity: the order API takes the prod user pool's users as callers, and its stage sits behind
    // the prod web ACL (rate limit, AWS managed rule groups). Stack declaration order only breaks deploy-order ties.
    let prod = foundation::stacks(&app, &base)?;
    let order = order::stack(&app, &base, &prod.user_pool_arn)?;
    order
        .api
        .deployment_stage()
        .associate_web_acl(prod.web_acl_arn.clone());
    Ok(app)
}
