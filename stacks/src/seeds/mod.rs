//! Seeds 000 (transactional outbox), 001 (stream-driven processing) and 002 (raw-event bronze layer), one stack
//! each, beside the seed-003 order flow: [`outbox`] (`Outbox`), [`stream`] (`StreamOrders`), [`ingest`]
//! (`Ingest`). Their handlers are the binaries of `runtime/pipeline-handlers` (package `pipeline-handlers`); stacks/README.md's
//! "Seeds 000-002" section maps every element of each seed to what implements it here.
//!
//! What the three stacks share lives in this module: a function with the platform's defaults, an HTTP API
//! (API Gateway v2) in front of one function, checkov skips with their reasons, and alarms that notify the
//! platform's ops topic.

pub mod ingest;
pub mod outbox;
pub mod stream;

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::apigatewayv2::{
    HttpApi, HttpApiProps, HttpLambdaIntegration, RouteOptions,
};
use cfnkit::constructs::cloudwatch::{Alarm, AlarmProps, Metric};
use cfnkit::constructs::lambda::Function;
use cfnkit::constructs::sqs::QueueRef;
use cfnkit::constructs::ConstructError;
use cfnkit::{App, Scope, Val};

use crate::service::{self, FunctionDefaults};
use crate::Base;

/// The cargo package whose binaries the seeds' functions run.
pub const PACKAGE: &str = "pipeline-handlers";

/// Every seed function's timeout: a handful of S3, DynamoDB, SQS, SNS and Lambda calls per event, with room for
/// SDK retries.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Visibility timeout of every queue a seed function consumes: six times [`FUNCTION_TIMEOUT`] (AWS's guidance
/// and the rule pack's CFNKIT-SQS-VIS), so a batch being retried is not delivered again while still running.
pub const QUEUE_VISIBILITY: Duration = Duration::from_secs(6 * 30);

/// Receives before a message moves to its dead-letter queue: two retries for a transient failure, then the
/// message stops blocking and an alarm fires.
pub const MAX_RECEIVE_COUNT: u32 = 3;

/// Concurrent executions reserved for each function (checkov CKV_AWS_115): bounds the load on DynamoDB and S3.
pub const RESERVED_CONCURRENCY: u32 = 10;

/// Most concurrent invocations an SQS event source drives: below [`RESERVED_CONCURRENCY`], so throttled batches
/// do not count towards a message's receives.
pub const SQS_MAX_CONCURRENCY: u32 = 5;

/// Why the seeds' functions run outside a VPC (checkov CKV_AWS_117).
pub const NO_VPC_REASON: &str = "the function only calls AWS APIs (S3, DynamoDB, SQS, SNS, Lambda, Secrets Manager) \
     over TLS with IAM authentication; a VPC would add NAT gateways or endpoints without reducing what it can reach";

/// Why synchronously invoked functions have no Lambda dead-letter queue (checkov CKV_AWS_116).
pub const SYNC_INVOKED_REASON: &str = "the function is invoked synchronously (API Gateway, an SQS or DynamoDB \
     stream event source, or Secrets Manager rotation), and a Lambda dead-letter queue only receives failed \
     asynchronous invocations; failed records go to the event source's own failure destination";

/// An HTTP API (API Gateway v2) at `<scope>/<id>` with one IAM-authorized route `route` (`"POST /orders"`) to
/// `function`: payload format 2.0 (`ApiGatewayV2httpRequest`), access logs encrypted with the platform key,
/// throttled. `request_schema`: the body's JSON Schema, for the API's OpenAPI document.
pub fn http_api(
    scope: &Scope,
    id: &str,
    description: &str,
    route: &str,
    function: &Function,
    base: &Base,
    request_schema: Option<serde_json::Value>,
) -> Result<HttpApi, ConstructError> {
    let api = HttpApi::new(
        scope,
        id,
        HttpApiProps {
            description: Some(description.to_owned()),
            access_log_encryption_key: Some(&base.key),
            ..Default::default()
        },
    )?;
    api.add_route(
        route,
        HttpLambdaIntegration::new(function, Default::default()),
        RouteOptions {
            request_schema,
            ..Default::default()
        },
    )?;
    Ok(api)
}

/// Creates the three seed stacks.
pub fn stacks(app: &App, base: &Base) -> Result<(), ConstructError> {
    ingest::stack(app, base)?;
    stream::stack(app, base)?;
    outbox::stack(app, base)?;
    Ok(())
}

/// The binary `bin` of [`PACKAGE`] with the platform's defaults: the platform key for its environment and its
/// logs, active tracing, one year of logs, [`FUNCTION_TIMEOUT`], [`RESERVED_CONCURRENCY`]. `environment` names
/// come from the seed's contract module (`contracts::ingest`, `contracts::stream_orders`,
/// `contracts::outbox`), which the handlers read.
pub fn function(
    scope: &Scope,
    id: &str,
    bin: &str,
    description: &str,
    base: &Base,
    environment: BTreeMap<&'static str, Val<String>>,
    dead_letter_queue: Option<&QueueRef>,
) -> Result<Function, ConstructError> {
    service::platform_function(
        scope,
        id,
        bin,
        description,
        &FunctionDefaults {
            package: PACKAGE,
            key: &base.key,
            timeout: FUNCTION_TIMEOUT,
            reserved_concurrency: RESERVED_CONCURRENCY,
            no_vpc_reason: NO_VPC_REASON,
            sync_invoked_reason: SYNC_INVOKED_REASON,
        },
        environment,
        dead_letter_queue,
    )
}

/// Delivers only INSERT records of a table stream to `mapping`'s function: the seeds' stream consumers act on
/// new items, and their own updates would otherwise come back as MODIFY records and cost an invocation each
/// (the handlers skip them too, so nothing depends on the filter).
pub fn inserts_only(mapping: &cfnkit::l1::lambda::EventSourceMappingHandle) {
    use cfnkit::l1::lambda::event_source_mapping::{Filter, FilterCriteria};
    mapping.resource_mut().filter_criteria = Some(Val::from(FilterCriteria {
        filters: Some(Val::from(vec![Filter {
            pattern: Some(r#"{"eventName":["INSERT"]}"#.into()),
        }])),
    }));
}

/// An alarm that notifies the platform's ops topic when `metric` reaches `threshold` in one period.
pub fn alarm(
    scope: &Scope,
    id: &str,
    metric: &Metric,
    threshold: f64,
    description: &str,
    base: &Base,
) -> Result<Alarm, ConstructError> {
    let alarm = Alarm::new(
        scope,
        id,
        metric,
        threshold,
        AlarmProps {
            description: Some(description.to_owned()),
            ..Default::default()
        },
    )?;
    alarm.add_alarm_action(&base.ops_topic)?;
    Ok(alarm)
}
