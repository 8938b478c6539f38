//! `cargo cfn local`: the synthesized app running on this machine.
//!
//! The pieces, each in its own module:
//! - [`model`]: the app as the local run sees it: every stack's resources with their intrinsics resolved to the
//!   names and ARNs they have locally (Ref, GetAtt, Sub, ImportValue, parameters), read from a cloud assembly.
//! - [`invoke`]: how anything (an event source, an HTTP API, a rule) invokes a function: the [`invoke::Invoke`]
//!   trait, implemented by the function runner.
//! - [`iam`]: IAM policy evaluation of the AWS calls a handler makes, from its role's synthesized statements.
//! - [`apigw`]: REST and HTTP APIs served on localhost, proxying to functions in the right payload version.

pub mod apigw;
pub mod cli;
pub mod functions;
pub mod iam;
pub mod invoke;
pub mod model;
pub mod moto;
pub mod pattern;
pub mod provision;
pub mod proxy;
pub mod run;
pub mod sources;
pub mod trace;
pub mod watch;
