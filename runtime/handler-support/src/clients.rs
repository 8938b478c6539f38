//! AWS SDK configuration, built once per process.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The configuration of the Lambda environment: region and credentials from the environment
/// (`AWS_ENDPOINT_URL` is honoured too).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// A configuration for a local emulator (moto's server): fixed endpoint, region us-east-1 and
/// dummy static credentials, nothing read from the environment.
pub async fn local_sdk_config(endpoint_url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .endpoint_url(endpoint_url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "local"))
        .load()
        .await
}
