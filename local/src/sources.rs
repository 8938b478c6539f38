//! Event sources as Lambda runs them: SQS queues and DynamoDB and Kinesis streams polled for a function, and
//! asynchronous invocation (rules, topics and buckets that target a function, with retries and a DLQ).

pub mod asynchronous;
pub mod sqs;
pub mod streams;

use serde_json::Value;

use crate::invoke::{FunctionRef, Invoke, InvokeFuture};
use crate::model::LocalApp;

/// The function a `FunctionName` property (a name, an ARN, or either with a version or alias) names.
pub fn function_named(app: &LocalApp, value: &str) -> Option<FunctionRef> {
    let unqualified = if value.starts_with("arn:") {
        // arn:aws:lambda:region:account:function:name[:qualifier]
        value.split(':').take(7).collect::<Vec<_>>().join(":")
    } else {
        value.split(':').next().unwrap_or(value).to_owned()
    };
    app.find("AWS::Lambda::Function", &unqualified)
        .map(|(stack, r)| FunctionRef {
            stack: stack.to_owned(),
            logical_id: r.logical_id.clone(),
        })
}

/// `Stack/LogicalId` of the resource of `type_name` that `value` (an ARN, URL or name) names, for messages.
pub fn label(app: &LocalApp, type_name: &str, value: &str) -> String {
    app.find(type_name, value).map_or_else(
        || value.to_owned(),
        |(s, r)| format!("{s}/{}", r.logical_id),
    )
}

/// At-least-once delivery made visible (`--deliver-twice`): every invocation an event source makes is made
/// twice, concurrently, as SQS, streams and asynchronous invocation may deliver one event twice; a handler that
/// is not idempotent shows it at once instead of on a rare day in production.
pub struct DeliverTwice(pub std::sync::Arc<dyn Invoke>);

impl Invoke for DeliverTwice {
    fn invoke<'a>(&'a self, function: &'a FunctionRef, payload: Value) -> InvokeFuture<'a> {
        Box::pin(async move {
            let (first, second) = tokio::join!(
                self.0.invoke(function, payload.clone()),
                self.0.invoke(function, payload)
            );
            let (mut first, second) = (first?, second?);
            // A record either delivery failed stays failed, as it would be retried on AWS.
            if let (Some(a), Some(b)) = (
                first["batchItemFailures"].as_array().cloned(),
                second["batchItemFailures"].as_array(),
            ) {
                let mut failed = a;
                failed.extend(
                    b.iter()
                        .filter(|f| !failed.contains(f))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                first["batchItemFailures"] = Value::Array(failed);
            }
            Ok(first)
        })
    }
}
