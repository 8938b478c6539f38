//! Writes invoices of confirmed payments to S3 (invoice queue).
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use platform_handlers::{clients, invoice, Error, ProcessEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let writer = invoice::InvoiceWriter::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let writer = &writer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(invoice::handle(writer, event.payload).await)
    }))
    .await
}
