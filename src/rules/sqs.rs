//! SQS: SQS2 (encryption), SQS3 (a dead-letter queue), SQS4 (TLS-only queue policy), and CFNKIT-SQS-VIS (the
//! visibility timeout covers the consuming function's timeout six times, as AWS recommends, so that a message
//! is not delivered again while a retried invocation still processes it).

use std::collections::BTreeSet;

use cfnkit_l1::{events, lambda, sns, sqs};

use super::context::{type_name, Ctx, Res};
use super::read::{as_f64, is_false, is_tls_deny, items, statements, TLS_STATEMENT};
use super::registry::{CFNKIT_SQS_VIS, SQS2, SQS3, SQS4};
use crate::synth::Node;

const QUEUE: &str = type_name::<sqs::Queue>();
const SUBSCRIPTION: &str = type_name::<sns::Subscription>();
const FUNCTION: &str = type_name::<lambda::Function>();
const EVENT_SOURCE_MAPPING: &str = type_name::<lambda::EventSourceMapping>();
const EVENT_INVOKE_CONFIG: &str = type_name::<lambda::EventInvokeConfig>();
const EVENT_RULE: &str = type_name::<events::Rule>();
/// EventBridge Pipes is not among cfnkit-l1's default features (cfnkit has no construct for it), so its type name
/// is written out; the vendored registry schema `schemas/us-east-1/aws-pipes-pipe.json` has it.
const PIPE: &str = "AWS::Pipes::Pipe";

/// SQS's default visibility timeout, in seconds.
const DEFAULT_VISIBILITY: f64 = 30.0;
/// Lambda's default function timeout, in seconds.
const DEFAULT_FUNCTION_TIMEOUT: f64 = 3.0;

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let queues: Vec<Res<'_>> = ctx.of::<sqs::Queue>().collect();
    let dlqs = dead_letter_queues(ctx);
    for q in &queues {
        if q.prop("KmsMasterKeyId").is_none() && is_false(q.prop("SqsManagedSseEnabled")) {
            ctx.report(&SQS2,
                q,
                "the queue is not encrypted (SqsManagedSseEnabled is false and there is no KmsMasterKeyId).",
                "cfnkit's Queue is encrypted (QueueProps.encryption: QueueEncryption::SqsManaged unless set, or \
                 Kms); on a raw queue set KmsMasterKeyId to a KMS key, or remove SqsManagedSseEnabled: false.",
            );
        }
        if q.prop("RedrivePolicy").is_none() && !dlqs.contains(&q.key()) {
            ctx.report(&SQS3,
                q,
                "the queue has no dead-letter queue, and no queue, subscription, rule target or function uses it \
                 as one.",
                "set QueueProps.dead_letter: DeadLetter::Create { max_receive_count: 3 } on cfnkit's Queue (or \
                 DeadLetter::Queue with an existing queue); on a raw queue set RedrivePolicy: \
                 {deadLetterTargetArn: <the DLQ's Arn>, maxReceiveCount: <n>}.",
            );
        }
        if !has_tls_policy(ctx, q) {
            ctx.report(
                &SQS4,
                q,
                "no queue policy denies requests that do not use TLS.",
                format!(
                    "cfnkit's Queue has it unless QueueProps.enforce_ssl is turned off; on a raw queue add an \
                     AWS::SQS::QueuePolicy with Queues: [Ref {}] and the statement {}.",
                    q.id,
                    TLS_STATEMENT
                        .replace("<service>", "sqs")
                        .replace("<the resource>", "<the queue Arn>")
                ),
            );
        }
    }
    visibility_timeouts(ctx);
}

/// Queues used as a dead-letter queue or failure destination by anything in the app (any stack).
fn dead_letter_queues<'a>(ctx: &Ctx<'a>) -> BTreeSet<(&'a str, &'a str)> {
    let mut out = BTreeSet::new();
    let mut add = |stack, node: Option<&'a Node>| {
        if let Some(t) = node.and_then(|n| ctx.referent(stack, n)) {
            if t.res.type_name() == QUEUE && t.attribute == Some("Arn") {
                out.insert(t.res.key());
            }
        }
    };
    for r in ctx.all() {
        let s = r.stack;
        match r.type_name() {
            QUEUE | SUBSCRIPTION => add(s, r.prop_at(&["RedrivePolicy", "deadLetterTargetArn"])),
            FUNCTION => add(s, r.prop_at(&["DeadLetterConfig", "TargetArn"])),
            EVENT_SOURCE_MAPPING | EVENT_INVOKE_CONFIG => add(
                s,
                r.prop_at(&["DestinationConfig", "OnFailure", "Destination"]),
            ),
            EVENT_RULE => {
                for t in r.prop("Targets").map(items).unwrap_or_default() {
                    add(s, t.get("DeadLetterConfig").and_then(|d| d.get("Arn")));
                }
            }
            PIPE => {
                for source in ["DynamoDBStreamParameters", "KinesisStreamParameters"] {
                    add(
                        s,
                        r.prop_at(&["SourceParameters", source, "DeadLetterConfig", "Arn"]),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

fn has_tls_policy(ctx: &Ctx<'_>, queue: &Res<'_>) -> bool {
    ctx.of::<sqs::QueuePolicy>().any(|p| {
        let covers = p
            .prop("Queues")
            .map(items)
            .unwrap_or_default()
            .into_iter()
            .any(|q| {
                ctx.referent(p.stack, q)
                    .is_some_and(|t| t.res.key() == queue.key())
            });
        covers
            && statements(p.prop("PolicyDocument"))
                .into_iter()
                .any(|s| is_tls_deny(s, &["*", "sqs:*"]))
    })
}

fn visibility_timeouts(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    for mapping in ctx.of::<lambda::EventSourceMapping>() {
        let queue = mapping
            .prop("EventSourceArn")
            .and_then(|a| ctx.referent(mapping.stack, a))
            .filter(|t| t.res.type_name() == QUEUE && t.attribute == Some("Arn"));
        let function = mapping
            .prop("FunctionName")
            .and_then(|f| ctx.referent(mapping.stack, f))
            .filter(|t| t.res.is::<lambda::Function>());
        let (Some(queue), Some(function)) = (queue, function) else {
            continue;
        };
        let visibility = match queue.res.prop("VisibilityTimeout") {
            None => Some(DEFAULT_VISIBILITY),
            Some(v) => as_f64(v),
        };
        let timeout = match function.res.prop("Timeout") {
            None => Some(DEFAULT_FUNCTION_TIMEOUT),
            Some(v) => as_f64(v),
        };
        // A value only known at deploy time (a parameter) cannot be checked here.
        let (Some(visibility), Some(timeout)) = (visibility, timeout) else {
            continue;
        };
        if visibility < 6.0 * timeout {
            let f = function.res;
            let name = f.stack.paths.get(f.id).map_or(f.id, String::as_str);
            found.push((
                queue.res,
                format!(
                    "the visibility timeout ({visibility} s) is less than 6x the {timeout} s timeout of function \
                     {name} (stack {}), which consumes the queue through {}: a message can be delivered again \
                     while it is still being processed.",
                    f.stack.name, mapping.id
                ),
                format!(
                    "set QueueProps.visibility_timeout (VisibilityTimeout on a raw queue) to at least {} s, or \
                     lower the function's FunctionProps.timeout (Timeout).",
                    6.0 * timeout
                ),
            ));
        }
    }
    for (queue, message, fix) in found {
        ctx.report(&CFNKIT_SQS_VIS, &queue, message, fix);
    }
}
