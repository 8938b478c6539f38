//! Renders and records customer notifications (notification queue).
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use platform_handlers::{clients, notifications, Error, ProcessEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let sender = notifications::Sender::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let sender = &sender;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(notifications::handle(sender, event.payload).await)
    }))
    .await
}
