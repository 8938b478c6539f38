//! Seed 000, credential rotation: the rotation function Secrets Manager calls for the outside
//! provider's credentials, with the four steps of its rotation protocol
//! (<https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html>).
//! Every step is safe to repeat: Secrets Manager retries a failed step.
//!
//! - `createSecret`: a new random API key as the AWSPENDING version (unless it exists).
//! - `setSecret`: would register the key with the provider. There is no provider API in this
//!   repository, so this step only checks the pending value; a real provider's "add API key" call
//!   goes here.
//! - `testSecret`: the pending value parses and is non-empty.
//! - `finishSecret`: AWSCURRENT moves to the new version.

use aws_config::SdkConfig;
use contracts::outbox::ProviderCredentials;
use serde::Deserialize;

use crate::Error;

/// The rotation event.
#[derive(Debug, Clone, Deserialize)]
pub struct RotationEvent {
    #[serde(rename = "Step")]
    pub step: String,
    #[serde(rename = "SecretId")]
    pub secret_id: String,
    #[serde(rename = "ClientRequestToken")]
    pub token: String,
}

/// Length of generated API keys.
pub const API_KEY_LENGTH: i64 = 40;

pub struct Rotation {
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Rotation {
    pub fn new(sdk: &SdkConfig) -> Self {
        Rotation {
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
        }
    }
}

async fn pending_value(
    r: &Rotation,
    e: &RotationEvent,
) -> Result<Option<ProviderCredentials>, Error> {
    let got = r
        .secrets
        .get_secret_value()
        .secret_id(&e.secret_id)
        .version_id(&e.token)
        .version_stage("AWSPENDING")
        .send()
        .await;
    match got {
        Ok(out) => {
            let text = out.secret_string().unwrap_or_default();
            let creds: ProviderCredentials = serde_json::from_str(text).map_err(|err| {
                format!(
                    "pending version {} of {} is not provider credentials: {err}",
                    e.token, e.secret_id
                )
            })?;
            Ok(Some(creds))
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

/// Runs one rotation step.
pub async fn handle(r: &Rotation, e: RotationEvent) -> Result<(), Error> {
    let described = r
        .secrets
        .describe_secret()
        .secret_id(&e.secret_id)
        .send()
        .await?;
    let stages = described
        .version_ids_to_stages()
        .and_then(|m| m.get(&e.token))
        .ok_or_else(|| format!("version {} is not a version of {}", e.token, e.secret_id))?;
    let has = |stage: &str| stages.iter().any(|s| s == stage);
    if has("AWSCURRENT") {
        // Already finished (a repeated finishSecret, or a retried rotation).
        return Ok(());
    }
    if !has("AWSPENDING") {
        return Err(format!("version {} of {} is not AWSPENDING", e.token, e.secret_id).into());
    }
    match e.step.as_str() {
        "createSecret" => {
            if pending_value(r, &e).await?.is_some() {
                return Ok(());
            }
            let key = r
                .secrets
                .get_random_password()
                .password_length(API_KEY_LENGTH)
                .exclude_punctuation(true)
                .send()
                .await?
                .random_password
                .ok_or("GetRandomPassword returned nothing")?;
            r.secrets
                .put_secret_value()
                .secret_id(&e.secret_id)
                .client_request_token(&e.token)
                .secret_string(serde_json::to_string(&ProviderCredentials { api_key: key })?)
                .version_stages("AWSPENDING")
                .send()
                .await?;
            Ok(())
        }
        "setSecret" | "testSecret" => match pending_value(r, &e).await? {
            Some(c) if !c.api_key.is_empty() => Ok(()),
            Some(_) => Err(format!("pending version {} of {} has an empty apiKey", e.token, e.secret_id).into()),
            None => Err(format!("{}: no pending version {} of {}", e.step, e.token, e.secret_id).into()),
        },
        "finishSecret" => {
            let current = described
                .version_ids_to_stages()
                .into_iter()
                .flatten()
                .find(|(_, st)| st.iter().any(|s| s == "AWSCURRENT"))
                .map(|(v, _)| v.clone());
            let mut update = r
                .secrets
                .update_secret_version_stage()
                .secret_id(&e.secret_id)
                .version_stage("AWSCURRENT")
                .move_to_version_id(&e.token);
            if let Some(current) = current {
                update = update.remove_from_version_id(current);
            }
            update.send().await?;
            Ok(())
        }
        other => Err(format!(
            "unknown rotation step {other:?}: expected createSecret, setSecret, testSecret or finishSecret"
        )
        .into()),
    }
}
