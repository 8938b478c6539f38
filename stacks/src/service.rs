//! What the order-flow stacks (Order, Inventory, Payment, Shipping) share: a function of the runtime crate with
//! the platform's defaults, a work queue with its dead-letter queue, a table with the contracts' key layout, and
//! EventBridge rules whose patterns come from the event types of `contracts`.

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::cloudwatch::{Alarm, AlarmProps};
use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
use cfnkit::constructs::events::{EventPattern, Rule, RuleProps, Target};
use cfnkit::constructs::kms::Key;
use cfnkit::constructs::lambda::{
    env, Architecture, Code, Function, FunctionProps, SqsEventSource, SqsEventSourceProps,
};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps, QueueRef};
use cfnkit::constructs::Construct;
use cfnkit::constructs::ConstructError;
use cfnkit::{Scope, Val};
use contracts::env::{self, Handler};
use contracts::tables::TableSpec;

use crate::Base;

/// Every function's timeout. The handlers make a handful of DynamoDB, EventBridge, SQS and SNS calls per batch;
/// ten seconds leaves room for SDK retries without letting a stuck invocation hold a batch for long.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Visibility timeout of every queue a function consumes: six times [`FUNCTION_TIMEOUT`], AWS's guidance for
/// Lambda event sources (and the rule pack's CFNKIT-SQS-VIS), so a batch being retried is not delivered again
/// while it is still being processed.
pub const QUEUE_VISIBILITY: Duration = Duration::from_secs(6 * 10);

/// Receives before a message moves to its dead-letter queue (the figure for the shipping queue, used by
/// every work queue): a transient failure gets two retries, a poison message stops blocking after three.
pub const MAX_RECEIVE_COUNT: u32 = 3;

/// Concurrent executions reserved for each function: bounds the load one service can put on DynamoDB and keeps
/// a runaway function from starving the account (checkov CKV_AWS_115).
pub const RESERVED_CONCURRENCY: u32 = 10;

/// Most concurrent invocations an SQS event source drives: below [`RESERVED_CONCURRENCY`], so Lambda's pollers
/// never receive more than the function may run and throttled batches do not count towards a message's receives
/// (which would send healthy messages to the dead-letter queue).
pub const SQS_MAX_CONCURRENCY: u32 = 5;

/// Memory of every function. The handlers are small Rust binaries; 256 MB buys a faster CPU share than 128 MB
/// for the TLS handshakes of a cold start.
pub const MEMORY_MB: u32 = 256;

/// The instruction set every function is built for: Graviton, cheaper per millisecond; `cargo run -- package`
/// cross-builds the handlers for it with cargo-zigbuild on any host.
pub const ARCHITECTURE: Architecture = Architecture::Arm64;

/// The cargo package whose binaries the functions run (one binary per handler, named by
/// `contracts::env::Handler::binary_name`).
pub const HANDLERS_PACKAGE: &str = "order-handlers";

/// Why the platform's functions run outside a VPC (checkov CKV_AWS_117): they only call AWS APIs (DynamoDB,
/// SQS, SNS, EventBridge) over TLS with IAM authentication; a VPC would add NAT gateways or interface endpoints
/// without reducing what they can reach.
pub const NO_VPC_REASON: &str = "the function only calls AWS APIs (DynamoDB, SQS, SNS, EventBridge) over TLS with \
     IAM authentication; a VPC would add NAT gateways or endpoints without reducing what it can reach";

/// Why functions fed by SQS or API Gateway have no dead-letter queue of their own (checkov CKV_AWS_116): they
/// are invoked synchronously, and Lambda's dead-letter queue only receives failed asynchronous invocations. A
/// failed SQS message goes to its source queue's dead-letter queue; a failed API call is answered with an error.
pub const SYNC_INVOKED_REASON: &str = "the function is invoked synchronously (SQS event source or API Gateway), \
     and a Lambda dead-letter queue only receives failed asynchronous invocations; failed SQS messages move to \
     the source queue's dead-letter queue";

/// Every platform function's role has `Resource::*` (cdk-nag IAM5) for X-Ray, whose write actions have no
/// resource-level permissions: the `Function` construct suppresses exactly that item with its reason
/// ([`cfnkit::constructs::lambda::XRAY_REASON`]). Each other wildcard a role has is suppressed, with its own
/// reason, where it is granted (a table grant's `index/*` by the table construct, an object prefix or an action
/// that accepts only `*` in the stack that grants it). The grants on resources encrypted with the platform key
/// name their KMS actions, so no KMS action has a wildcard.
pub use cfnkit::constructs::lambda::XRAY_REASON;

/// A function running `handler`'s binary of the runtime crate, with the platform's defaults: the key of the
/// platform for its environment and its logs, active tracing, one year of logs, [`FUNCTION_TIMEOUT`].
///
/// `environment` must hold exactly the variables `contracts::env::required_by(handler)` names, plus any of
/// `optional_for(handler)`: the handlers read these names and nothing else, so a missing or unknown one is an
/// error here rather than a failed invocation after deploy.
pub fn function(
    scope: &Scope,
    id: &str,
    handler: Handler,
    base: &Base,
    environment: BTreeMap<&'static str, Val<String>>,
    dead_letter_queue: Option<&QueueRef>,
) -> Result<Function, ConstructError> {
    let path = format!("{}/{id}", scope.path());
    let required = env::required_by(handler);
    let optional = env::optional_for(handler);
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|v| !environment.contains_key(v))
        .collect();
    let unknown: Vec<&str> = environment
        .keys()
        .copied()
        .filter(|v| !required.contains(v) && !optional.contains(v))
        .collect();
    if !missing.is_empty() || !unknown.is_empty() {
        return Err(ConstructError::InvalidProp {
            path,
            message: format!(
                "the {} handler reads {required:?} (and optionally {optional:?}): missing {missing:?}, unknown \
                 {unknown:?}; set exactly the variables of contracts::env::required_by",
                handler.binary_name()
            ),
        });
    }
    platform_function(
        scope,
        id,
        handler.binary_name(),
        &format!("Order platform: the {} handler", handler.binary_name()),
        &FunctionDefaults {
            package: HANDLERS_PACKAGE,
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

/// What differs between the platform's groups of functions (seed 003 here, seeds 000-002 in `seeds`, seed 004's
/// serverless stacks in `foundation::serverless`): the handler package, the key, the limits, and the reasons
/// their checkov skips carry.
pub struct FunctionDefaults<'a> {
    /// The cargo package whose binary the function runs.
    pub package: &'static str,
    /// Encrypts the function's environment and its log group.
    pub key: &'a Key,
    pub timeout: Duration,
    pub reserved_concurrency: u32,
    /// Why the function runs outside a VPC (checkov CKV_AWS_117).
    pub no_vpc_reason: &'static str,
    /// Why a function without a dead-letter queue needs none (checkov CKV_AWS_116).
    pub sync_invoked_reason: &'static str,
}

/// The binary `bin` of `defaults.package` with what every platform function has: [`ARCHITECTURE`],
/// [`MEMORY_MB`], active tracing and a year of logs (the construct's defaults), environment and logs encrypted
/// with `defaults.key`, and its checkov skips in the platform's words (written over the construct's: the
/// construct itself suppresses X-Ray's `Resource::*`, [`XRAY_REASON`]).
#[allow(clippy::too_many_arguments)]
pub fn platform_function(
    scope: &Scope,
    id: &str,
    bin: &str,
    description: &str,
    defaults: &FunctionDefaults<'_>,
    environment: BTreeMap<&'static str, Val<String>>,
    dead_letter_queue: Option<&QueueRef>,
) -> Result<Function, ConstructError> {
    let function = Function::new(
        scope,
        id,
        Code::cargo_bin(defaults.package, bin),
        FunctionProps {
            architecture: ARCHITECTURE,
            description: Some(description.to_owned()),
            environment: env(environment),
            environment_encryption: Some(defaults.key),
            timeout: Some(defaults.timeout),
            memory_size: Some(MEMORY_MB),
            reserved_concurrency: Some(defaults.reserved_concurrency),
            dead_letter_queue,
            log_encryption_key: Some(defaults.key),
            ..Default::default()
        },
    )?;
    cfnkit::rules::skip_checkov(function.handle(), "CKV_AWS_117", defaults.no_vpc_reason);
    if dead_letter_queue.is_none() {
        cfnkit::rules::skip_checkov(
            function.handle(),
            "CKV_AWS_116",
            defaults.sync_invoked_reason,
        );
    }
    Ok(function)
}

/// Lets `function` consume `queue`: an SQS event source reporting batch item failures, at most
/// [`SQS_MAX_CONCURRENCY`] concurrent batches.
pub fn consume(function: &Function, queue: &Queue) -> Result<(), ConstructError> {
    function.add_event_source(SqsEventSource::new(
        queue,
        SqsEventSourceProps {
            max_concurrency: Some(SQS_MAX_CONCURRENCY),
            ..Default::default()
        },
    ))?;
    Ok(())
}

/// An alarm to the ops topic as soon as the dead-letter queue `dlq` holds a message (maximum of
/// `ApproximateNumberOfMessagesVisible` over 5 minutes at least 1): a dead letter is an order stuck half-way
/// until someone looks. `what` says whose dead letters they are, for the alarm's description.
pub fn dead_letter_alarm(
    scope: &Scope,
    id: &str,
    dlq: &Queue,
    base: &Base,
    what: &str,
) -> Result<Alarm, ConstructError> {
    let alarm = Alarm::new(
        scope,
        id,
        &dlq.metric_approximate_number_of_messages_visible(),
        1.0,
        AlarmProps {
            description: Some(format!(
                "Dead letters of {what} are waiting: read them, fix the cause, and move them back to their \
                 queue (SQS StartMessageMoveTask)."
            )),
            ..Default::default()
        },
    )?;
    alarm.add_alarm_action(&base.ops_topic)?;
    Ok(alarm)
}

/// The dead-letter queue a [`work_queue`] was made with.
pub fn dead_letter_queue_of(queue: &Queue) -> &Queue {
    &queue
        .dead_letter_queue()
        .expect("work queues are made with a dead-letter queue")
        .queue
}

/// A queue a function consumes: encrypted with the platform key, [`QUEUE_VISIBILITY`], and a dead-letter queue
/// (`<id>/Dlq`, logical ID `<Id>Dlq`) after [`MAX_RECEIVE_COUNT`] receives.
pub fn work_queue(scope: &Scope, id: &str, base: &Base) -> Result<Queue, ConstructError> {
    work_queue_with(
        scope,
        id,
        base,
        DeadLetter::Create {
            max_receive_count: MAX_RECEIVE_COUNT,
        },
    )
}

/// A queue a function consumes, with the given dead-letter handling.
pub fn work_queue_with(
    scope: &Scope,
    id: &str,
    base: &Base,
    dead_letter: DeadLetter<'_>,
) -> Result<Queue, ConstructError> {
    Queue::new(
        scope,
        id,
        QueueProps {
            encryption: QueueEncryption::Kms(&base.key),
            visibility_timeout: Some(QUEUE_VISIBILITY),
            dead_letter,
            ..Default::default()
        },
    )
}

/// The table of `spec` (`<Name>Table`, keyed by the contracts' partition key), encrypted with the platform key,
/// with point-in-time recovery and deletion protection, retained.
pub fn table(scope: &Scope, spec: &TableSpec, base: &Base) -> Result<Table, ConstructError> {
    Table::new(
        scope,
        &format!("{}Table", spec.name),
        Attribute::string(spec.partition_key),
        TableProps {
            encryption_key: Some(&base.key),
            ..Default::default()
        },
    )
}

/// cfnkit's typed pattern for a pattern derived from the event types (source, detail type and the detail
/// filters checked against the event's schema).
pub fn event_pattern(p: &contracts::EventPattern) -> EventPattern {
    let pattern = EventPattern::new()
        .source([p.source()])
        .detail_type([p.detail_type()]);
    match p.to_value().get("detail") {
        Some(detail) => pattern.detail(detail.clone()),
        None => pattern,
    }
}

/// A rule on the platform bus matching `pattern`, delivering to `target`.
pub fn rule(
    scope: &Scope,
    id: &str,
    base: &Base,
    pattern: contracts::EventPattern,
    target: Target,
) -> Result<Rule, ConstructError> {
    let description = format!(
        "{} events from {} on the platform bus",
        pattern.detail_type(),
        pattern.source()
    );
    let rule = Rule::new(
        scope,
        id,
        RuleProps {
            event_bus: Some(&base.bus),
            event_pattern: Some(event_pattern(&pattern)),
            description: Some(description),
            ..Default::default()
        },
    )?;
    rule.add_target(target)?;
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::{OrderPlaced, StockConfirmation};
    use serde_json::json;

    #[test]
    fn patterns_keep_the_contract_filters() {
        let p = event_pattern(
            &contracts::EventPattern::of::<StockConfirmation>()
                .detail_equals("stockConfirmed", true),
        );
        assert_eq!(
            p.to_json(),
            json!({
                "source": ["ecommerce.inventory"],
                "detail-type": ["StockConfirmation"],
                "detail": {"stockConfirmed": [true]}
            })
        );
        assert_eq!(
            event_pattern(&contracts::EventPattern::of::<OrderPlaced>()).to_json(),
            json!({"source": ["ecommerce.orders"], "detail-type": ["OrderPlaced"]})
        );
    }

    #[test]
    fn a_function_needs_exactly_the_variables_its_handler_reads() {
        let app = cfnkit::App::new();
        let base = crate::base::stack(&app).unwrap();
        let scope = app.stack("T").scope();
        let e = function(
            &scope,
            "Payment",
            Handler::Payment,
            &base,
            BTreeMap::from([
                (env::PAYMENTS_TABLE, Val::from("t")),
                (env::ORDERS_TABLE, Val::from("o")),
            ]),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("T/Payment")
                && e.contains("missing [\"EVENT_BUS_NAME\", \"CUSTOMER_NOTIFICATION_TOPIC_ARN\"]")
                && e.contains("unknown [\"ORDERS_TABLE\"]"),
            "{e}"
        );
    }
}
