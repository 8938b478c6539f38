//! AWS clients from the standard configuration chain (environment, profiles, SSO, `AWS_ENDPOINT_URL`...),
//! and the account and region they resolve to.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use tokio::sync::OnceCell;

use crate::error::DeployError;

/// The bootstrap stack's name, and the prefix of its bucket (the rest is `<account>-<region>`, as
/// `cfnkit::constructs::lambda::ASSET_BUCKET` expects).
pub const BOOTSTRAP_STACK: &str = "CfnkitBootstrap";
pub const BUCKET_PREFIX: &str = "cfnkit-assets";

/// Cheap to clone (the SDK clients share their connections), so each stack deploying at once has its own.
#[derive(Clone)]
pub struct Clients {
    pub cfn: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub lambda: aws_sdk_lambda::Client,
    sts: aws_sdk_sts::Client,
    pub region: String,
    account: OnceCell<String>,
}

/// rustls with ring instead of the SDK's default aws-lc, so building needs no cmake or NASM.
fn https_client() -> aws_sdk_cloudformation::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// How throttled and transient failures are retried. A deploy polls CloudFormation every second or two per stack
/// for as long as an update takes, so with several stacks at once DescribeStackEvents is throttled now and then;
/// the SDK's standard mode retries throttling, 5xx and connection errors with jittered exponential backoff. More
/// attempts and a longer cap than its defaults (3, 20 s) ride out a burst of throttling instead of failing a
/// deploy that is going well.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(8)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(30))
}

/// The standard configuration chain with this crate's HTTPS client and retries; callers may override parts
/// (tests point it at an emulator).
pub fn config_loader() -> aws_config::ConfigLoader {
    let loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client());
    // The standard variables still decide, for whoever tunes retries (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE).
    if ["AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        loader
    } else {
        loader.retry_config(retry_config())
    }
}

impl Clients {
    pub async fn from_env() -> Result<Self, DeployError> {
        Self::new(&config_loader().load().await)
    }

    /// Clients of this CloudFormation client (a mocked one, in tests) and the others from `config`.
    pub fn with_cloudformation(
        config: &SdkConfig,
        cfn: aws_sdk_cloudformation::Client,
    ) -> Result<Self, DeployError> {
        Ok(Clients {
            cfn,
            ..Self::new(config)?
        })
    }

    pub fn new(config: &SdkConfig) -> Result<Self, DeployError> {
        let region = config.region().ok_or(DeployError::NoRegion)?.to_string();
        // Path-style S3 addressing only against a custom endpoint (an emulator has no per-bucket host names).
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(
                config.endpoint_url().is_some()
                    || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some(),
            )
            .build();
        Ok(Clients {
            cfn: aws_sdk_cloudformation::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            lambda: aws_sdk_lambda::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            region,
            account: OnceCell::new(),
        })
    }

    /// The account of the credentials, asked once (STS GetCallerIdentity).
    pub async fn account(&self) -> Result<&str, DeployError> {
        self.account
            .get_or_try_init(|| async {
                let out = self.sts.get_caller_identity().send().await.map_err(|e| {
                    DeployError::aws("sts:GetCallerIdentity", "the configured credentials", e)
                })?;
                out.account()
                    .map(str::to_owned)
                    .ok_or_else(|| DeployError::Aws {
                        operation: "sts:GetCallerIdentity",
                        subject: "the configured credentials".into(),
                        message: "the answer has no account".into(),
                    })
            })
            .await
            .map(String::as_str)
    }

    /// `cfnkit-assets-<account>-<region>`.
    pub async fn assets_bucket(&self) -> Result<String, DeployError> {
        Ok(format!(
            "{BUCKET_PREFIX}-{}-{}",
            self.account().await?,
            self.region
        ))
    }

    /// The URL CloudFormation reads a template from (virtual-hosted style, which CloudFormation requires).
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        format!("https://{bucket}.s3.{}.amazonaws.com/{key}", self.region)
    }
}
