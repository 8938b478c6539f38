//! What every handler crate of the platform shares: AWS SDK configuration built once per process
//! ([`clients`]), settings from environment variables ([`config`]), SQS batches with partial failures
//! ([`batch`]) and DynamoDB attribute helpers ([`util`]).

pub mod batch;
pub mod clients;
pub mod config;
pub mod util;

/// The error type of the handlers (what `lambda_runtime` takes).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub use config::{ConfigError, Lookup, ProcessEnv};
