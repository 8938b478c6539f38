//! `cargo cfn`: deploys a synthesized cfnkit app with CloudFormation. A crate of its own so that the AWS SDK
//! never enters the stacks' build (the edit->synth loop); it reads the cloud assembly synth writes.

pub mod address;
pub mod assembly;
pub mod assets;
pub mod aws;
pub mod bootstrap;
pub mod cfn;
pub mod cli;
pub mod commands;
pub mod diff;
pub mod drift;
pub mod error;
pub mod events;
pub mod express;
pub mod guard;
pub mod hotswap;
pub mod parameters;
pub mod recover;
pub mod refactor;
pub mod security;
pub mod synth;
pub mod template;
pub mod validation;
pub mod workspace;

pub use error::DeployError;
