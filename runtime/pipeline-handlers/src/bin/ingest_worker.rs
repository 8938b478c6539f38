//! Seed 002: the worker (ingest queue).
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use pipeline_handlers::{clients, ingest, Error, ProcessEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = ingest::IngestService::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(ingest::handle_queue(svc, event.payload).await)
    }))
    .await
}
