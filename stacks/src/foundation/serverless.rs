//! What the seed-004 serverless stacks (analytics, notifications, jobs) share: a key per stack, a function of
//! `platform-handlers` with the platform's defaults, an SQS queue with a dead-letter queue feeding a function,
//! and checkov skips with their reasons.

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{Function, SqsEventSource, SqsEventSourceProps};

use crate::service::{platform_function, FunctionDefaults};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::ConstructError;
use cfnkit::{Scope, Val};

/// The cargo package whose binaries the seed-004 functions run (`runtime/platform-handlers`).
pub const PACKAGE: &str = "platform-handlers";

/// Every function's timeout: a few DynamoDB or S3 calls per record, with room for SDK retries.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);
/// Six times [`FUNCTION_TIMEOUT`] (CFNKIT-SQS-VIS): a batch being retried is not delivered again meanwhile.
pub const QUEUE_VISIBILITY: Duration = Duration::from_secs(180);
/// Receives before a message moves to its dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 3;
/// Concurrent executions reserved for each function (checkov CKV_AWS_115).
pub const RESERVED_CONCURRENCY: u32 = 5;

/// Why these functions run outside the environments' VPCs (checkov CKV_AWS_117).
pub const NO_VPC_REASON: &str = "the function only calls AWS APIs (DynamoDB, S3, Kinesis, SQS) over TLS with IAM \
     authentication, and serves both environments' shared bus; a VPC would add NAT or endpoints without \
     narrowing what it can reach";
/// Why they have no Lambda dead-letter queue (checkov CKV_AWS_116).
pub const SYNC_INVOKED_REASON: &str = "the function is invoked by an event source mapping (SQS or Kinesis), never \
     asynchronously; failed records stay in the queue until its dead-letter queue, or go to the stream \
     mapping's on-failure queue";

/// The stack's own customer-managed key (queues, topic, tables, logs, environment).
pub fn key(scope: &Scope, what: &str) -> Result<Key, ConstructError> {
    Key::new(
        scope,
        "ServiceKey",
        KeyProps {
            description: Some(format!("Order platform {what}: data key")),
            ..Default::default()
        },
    )
}

/// The binary `bin` of [`PACKAGE`], tracing on, a year of encrypted logs, environment encrypted with `key`.
pub fn function(
    scope: &Scope,
    id: &str,
    bin: &str,
    description: &str,
    key: &Key,
    environment: BTreeMap<&'static str, Val<String>>,
) -> Result<Function, ConstructError> {
    // Invoked only by event source mappings: no Lambda dead-letter queue (see SYNC_INVOKED_REASON).
    platform_function(
        scope,
        id,
        bin,
        description,
        &FunctionDefaults {
            package: PACKAGE,
            key,
            timeout: FUNCTION_TIMEOUT,
            reserved_concurrency: RESERVED_CONCURRENCY,
            no_vpc_reason: NO_VPC_REASON,
            sync_invoked_reason: SYNC_INVOKED_REASON,
        },
        environment,
        None,
    )
}

/// A queue encrypted with `key`, with a dead-letter queue (`<Id>Dlq`), consumed by `function` with partial
/// batch failures.
pub fn queue_into(
    scope: &Scope,
    id: &str,
    key: &Key,
    function: &Function,
) -> Result<Queue, ConstructError> {
    let queue = Queue::new(
        scope,
        id,
        QueueProps {
            encryption: QueueEncryption::Kms(key),
            dead_letter: DeadLetter::Create {
                max_receive_count: MAX_RECEIVE_COUNT,
            },
            visibility_timeout: Some(QUEUE_VISIBILITY),
            retention_period: Some(Duration::from_secs(4 * 86_400)),
            ..Default::default()
        },
    )?;
    function.add_event_source(SqsEventSource::new(
        &queue,
        SqsEventSourceProps {
            batch_size: Some(10),
            ..Default::default()
        },
    ))?;
    Ok(queue)
}
