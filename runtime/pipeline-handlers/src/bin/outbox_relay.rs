//! Seed 000: the relay (outbox table stream, and the relay's retry queue).
use lambda_runtime::{service_fn, LambdaEvent};
use pipeline_handlers::{clients, relay, ProcessEnv};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = relay::Relay::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        relay::handle_any(svc, event.payload).await
    }))
    .await
}
