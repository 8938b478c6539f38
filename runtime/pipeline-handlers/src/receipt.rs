//! Seed 000, the Lambda channel: the receipt function, invoked asynchronously by the relay with
//! an [`OutboxEvent`]. It hands the e-receipt to an outside provider with the provider's
//! credentials from Secrets Manager (rotated; read on a cold start and again when the provider
//! refuses them).
//!
//! An asynchronous invocation is delivered at least once (Lambda retries it, and the relay's
//! last gap may invoke twice), so the function records each event id once in the publish ledger
//! (`RECEIVED#<event>`, conditional put) and does nothing for a repeat.
//!
//! What is not here: the outside provider itself. There is none to call in this repository, so
//! the delivery is the ledger record naming the credentials' version it would authenticate with.

use aws_config::SdkConfig;
use contracts::outbox::{
    received_key, OutboxEvent, ProviderCredentials, PROVIDER_SECRET_ARN, PUBLISH_LEDGER_TABLE,
};
use contracts::tables::PARTITION_KEY;
use handler_support::config::{require, ConfigError, Lookup};
use handler_support::util::{is_conditional_check_failed, now_rfc3339, s};
use tokio::sync::Mutex;

use crate::Error;

/// Credentials as read, with the version they came from.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub value: ProviderCredentials,
    pub version_id: String,
}

/// What the receipt function needs.
pub struct ReceiptService {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ledger_table: String,
    pub secret_arn: String,
    cached: Mutex<Option<Credentials>>,
}

impl ReceiptService {
    pub fn new(
        dynamodb: aws_sdk_dynamodb::Client,
        secrets: aws_sdk_secretsmanager::Client,
        ledger_table: String,
        secret_arn: String,
    ) -> Self {
        ReceiptService {
            dynamodb,
            secrets,
            ledger_table,
            secret_arn,
            cached: Mutex::new(None),
        }
    }

    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(ReceiptService::new(
            aws_sdk_dynamodb::Client::new(sdk),
            aws_sdk_secretsmanager::Client::new(sdk),
            require(env, PUBLISH_LEDGER_TABLE)?,
            require(env, PROVIDER_SECRET_ARN)?,
        ))
    }

    /// The provider's current credentials: cached for the life of the execution environment,
    /// re-read after [`ReceiptService::forget_credentials`] (when the provider rejects them,
    /// typically right after a rotation).
    pub async fn credentials(&self) -> Result<Credentials, Error> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            return Ok(c.clone());
        }
        let out = self
            .secrets
            .get_secret_value()
            .secret_id(&self.secret_arn)
            .version_stage("AWSCURRENT")
            .send()
            .await?;
        let text = out
            .secret_string()
            .ok_or_else(|| format!("secret {} has no string value", self.secret_arn))?;
        let value: ProviderCredentials = serde_json::from_str(text).map_err(|e| {
            format!(
                "secret {} must be JSON like {{\"apiKey\": \"...\"}}: {e}",
                self.secret_arn
            )
        })?;
        let creds = Credentials {
            value,
            version_id: out.version_id().unwrap_or_default().to_owned(),
        };
        *cached = Some(creds.clone());
        Ok(creds)
    }

    pub async fn forget_credentials(&self) {
        *self.cached.lock().await = None;
    }
}

/// What one invocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// First time this event id arrived: recorded as delivered with credentials `version_id`.
    Delivered { version_id: String },
    /// Seen before: nothing done.
    Duplicate,
}

/// Handles one invocation.
pub async fn handle(svc: &ReceiptService, event: OutboxEvent) -> Result<Receipt, Error> {
    let creds = svc.credentials().await?;
    if creds.value.api_key.is_empty() {
        svc.forget_credentials().await;
        return Err(format!("secret {} holds an empty apiKey", svc.secret_arn).into());
    }
    let put = svc
        .dynamodb
        .put_item()
        .table_name(&svc.ledger_table)
        .item(PARTITION_KEY, s(received_key(&event.event_id)))
        .item("eventId", s(&event.event_id))
        .item("orderId", s(&event.order_id))
        .item("credentialsVersion", s(&creds.version_id))
        .item("deliveredAt", s(now_rfc3339()))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .send()
        .await;
    match put {
        Ok(_) => {
            lambda_runtime::tracing::info!(event_id = %event.event_id, order_id = %event.order_id, "e-receipt delivered");
            Ok(Receipt::Delivered {
                version_id: creds.version_id,
            })
        }
        Err(e) if is_conditional_check_failed(&e) => Ok(Receipt::Duplicate),
        Err(e) => Err(e.into()),
    }
}
