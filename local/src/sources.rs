//! Event sources as Lambda runs them: SQS queues and DynamoDB and Kinesis streams polled for a function, and
//! asynchronous invocation (rules, topics and buckets that target a function, with retries and a DLQ).

pub mod asynchronous;
pub mod sqs;
pub mod streams;

use crate::invoke::FunctionRef;
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
