//! Resizes catalog images uploaded to S3 (image resize queue).
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use platform_handlers::{clients, images, Error, ProcessEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let resizer = images::Resizer::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let resizer = &resizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(images::handle(resizer, event.payload).await)
    }))
    .await
}
