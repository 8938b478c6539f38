//! Seed 000: rotation of the outside provider's credentials (Secrets Manager rotation function).
use lambda_runtime::{service_fn, LambdaEvent};
use pipeline_handlers::{clients, rotation};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = rotation::Rotation::new(&clients::sdk_config().await);
    let svc = &svc;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<rotation::RotationEvent>| async move {
            rotation::handle(svc, event.payload).await
        },
    ))
    .await
}
