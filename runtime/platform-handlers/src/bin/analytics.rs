//! Aggregates domain events from the analytics stream (Kinesis).
use aws_lambda_events::event::kinesis::KinesisEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use platform_handlers::{analytics, clients, Error, ProcessEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let agg = analytics::Aggregator::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let agg = &agg;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<KinesisEvent>| async move {
            Ok::<_, Error>(analytics::handle(agg, event.payload).await)
        },
    ))
    .await
}
