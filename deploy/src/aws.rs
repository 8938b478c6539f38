//! AWS clients from the standard configuration chain (environment, profiles, SSO, `AWS_ENDPOINT_URL`...),
//! and the account and region they resolve to.

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

/// The standard configuration chain with this crate's HTTPS client; callers may override parts (tests point
/// it at an emulator).
pub fn config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

impl Clients {
    pub async fn from_env() -> Result<Self, DeployError> {
        Self::new(&config_loader().load().await)
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
