//! The built-in rule pack: security and operations checks run on every stack's final template after synth and
//! before anything is written, so they cover typed constructs, L1 types and raw resources alike.
//!
//! The AWS checks carry the ids of cdk-nag's AwsSolutions pack (`SQS3`, `IAM5`, ...) so that findings are
//! familiar; checks of our own are prefixed `CFNKIT-`. Each rule is a constant ([`IAM5`]); [`RULES`] lists every
//! rule with its level. An `error` fails synth (nothing is written, the previous output stays); a `warning` is
//! printed only. [`crate::synth::synth_checked`] runs the pack as `synth` does; [`check`] only reports.
//!
//! Where to look:
//! - `registry.rs`: the rules, their ids and levels.
//! - one file per service (`sqs.rs`, `iam.rs`, ...): the checks, with each finding's message and fix.
//! - `report.rs`: [`Finding`] and [`Report`], and how they print.
//! - `suppression.rs`: [`suppress`] and the other ways to write a suppression, and how suppressions (scoped
//!   ones, `appliesTo`, included) apply; its module docs are the user's guide to suppressing.
//! - `context.rs` and `read.rs`: what the checks share (the indexed assembly, readers of template values).
//!
//! A finding we disagree with is suppressed on its resource with a reason:
//! `rules::suppress(&handle, &rules::IAM5, "why")`, or for IAM4 and IAM5 only the items it covers:
//! `rules::suppress_only(role.handle(), &rules::IAM5, &["Resource::*"], "why")`. See [`suppression`] for the
//! metadata this writes and how it is checked.

mod apigateway;
mod cloudwatch;
mod context;
mod dynamodb;
mod events;
mod iam;
mod kms;
mod lambda;
mod read;
mod registry;
mod report;
mod s3;
mod sns;
mod sqs;
pub mod suppression;

use crate::synth::Assembly;

pub(crate) use read::angle_variables;
pub use registry::{by_id, RuleInfo, Severity, RULES};
pub use registry::{
    APIG1, APIG2, APIG4, APIG6, CFNKIT_CW1, CFNKIT_LOG1, CFNKIT_SQS_VIS, CFNKIT_SUPPRESS,
    CFNKIT_SUPPRESS_STALE, DDB3, EVB1, IAM4, IAM5, KMS5, L1, S1, S10, S2, SNS2, SNS3, SQS2, SQS3,
    SQS4,
};
pub use report::{Finding, Report};
pub use suppression::{skip_checkov, suppress, suppress_only, suppress_only_matching};

/// Runs every rule on every stack of the assembly and applies the resources' suppressions.
pub fn check(assembly: &Assembly) -> Report {
    let mut ctx = context::Ctx::new(assembly);
    kms::check(&mut ctx);
    sqs::check(&mut ctx);
    sns::check(&mut ctx);
    events::check(&mut ctx);
    dynamodb::check(&mut ctx);
    lambda::check(&mut ctx);
    iam::check(&mut ctx);
    s3::check(&mut ctx);
    apigateway::check(&mut ctx);
    cloudwatch::check(&mut ctx);
    let mut findings = ctx.findings;
    suppression::apply(assembly, &mut findings);
    let order = |name: &str| assembly.stacks.iter().position(|s| s.name == name);
    findings.sort_by(|a, b| {
        (order(&a.stack), &a.logical_id, a.rule.id()).cmp(&(
            order(&b.stack),
            &b.logical_id,
            b.rule.id(),
        ))
    });
    findings.dedup();
    Report { findings }
}
