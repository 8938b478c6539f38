//! SQS: [`Queue`] (encrypted, TLS-only, with an optional dead-letter queue) and its grants.
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Jobs");
//! // Encrypted, TLS-only, with a dead-letter queue (`WorkDlq`) after 3 receives: the defaults.
//! let work = Queue::new(&stack, "Work", QueueProps::default())?;
//! assert!(work.dead_letter_queue().is_some());
//! let producer = Role::new(&stack, "Producer", Principal::service("lambda.amazonaws.com"), Default::default())?;
//! work.grant_send_messages(&producer);
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{RemovalPolicy, Val};
use cfnkit_l1::sqs as l1;

use super::cloudwatch::{Metric, Statistic};
use super::iam::{Grant, Grantable, PolicyStatement, Principal, ResourcePolicy};
use super::kms::{Key, KeyRef};
use super::{
    actions, arn_field, check_imported_arn, check_name, imported_name, removal_default, seconds_in,
    ArnResource, Construct, ConstructError, OwnScope,
};
use crate::{fns, AsScope, Scope};

/// How a queue's messages are encrypted at rest.
#[derive(Clone, Copy, Debug, Default)]
pub enum QueueEncryption<'a> {
    /// SQS-managed server-side encryption (SSE-SQS): no key to manage, no KMS cost.
    #[default]
    SqsManaged,
    /// A customer-managed KMS key. Grants on the queue then also grant the key, and services delivering to the
    /// queue (SNS, EventBridge) are let into the key policy.
    Kms(&'a Key),
}

/// Receives before a message moves to the dead-letter queue a queue creates by default: a transient failure gets
/// two retries, a poison message stops blocking after three.
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 3;

/// How long SQS keeps a message when not told otherwise (4 days), written into the template.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(4 * 86_400);

/// A queue's dead-letter queue.
#[derive(Clone, Copy, Debug)]
pub enum DeadLetter<'a> {
    /// No dead-letter queue: a message that keeps failing is retried until its retention ends. For a queue that
    /// is itself a dead-letter queue (or an on-failure destination); any other such queue fails cdk-nag SQS3.
    None,
    /// Messages received more than `max_receive_count` times move to this queue.
    Queue {
        /// The dead-letter queue.
        queue: &'a Queue,
        /// Receives before a message moves there.
        max_receive_count: u32,
    },
    /// A dead-letter queue is created as `<id>/Dlq` (logical ID `<Id>Dlq`) with the same encryption, 14-day
    /// retention and a TLS-only policy; messages received more than `max_receive_count` times move to it.
    Create {
        /// Receives before a message moves there.
        max_receive_count: u32,
    },
}

impl Default for DeadLetter<'_> {
    /// [`DeadLetter::Create`] after [`DEFAULT_MAX_RECEIVE_COUNT`] receives.
    fn default() -> Self {
        DeadLetter::Create {
            max_receive_count: DEFAULT_MAX_RECEIVE_COUNT,
        }
    }
}

/// Props of a [`Queue`].
#[derive(Clone, Debug)]
pub struct QueueProps<'a> {
    /// A fixed queue name (FIFO queues must end in `.fifo`). Without it CloudFormation generates a unique name.
    pub queue_name: Option<Val<String>>,
    /// A FIFO queue. Without it the queue is a standard queue.
    pub fifo: bool,
    /// Content-based deduplication (FIFO only). Without it senders must give a deduplication id.
    pub content_based_deduplication: bool,
    /// Encryption at rest. Without it messages are encrypted with SQS-managed keys.
    pub encryption: QueueEncryption<'a>,
    /// How long KMS data keys are reused (1 minute to 24 hours; KMS encryption only). Without it SQS reuses them
    /// for 5 minutes.
    pub data_key_reuse: Option<Duration>,
    /// The dead-letter queue. Without it one is created ([`DeadLetter::Create`], after
    /// [`DEFAULT_MAX_RECEIVE_COUNT`] receives), so a message that keeps failing stops blocking the queue and is
    /// kept for someone to look at (cdk-nag SQS3); a queue that is itself a dead-letter queue sets
    /// [`DeadLetter::None`].
    pub dead_letter: DeadLetter<'a>,
    /// How long messages are kept (1 minute to 14 days). Without it 4 days, SQS's default, written into the
    /// template so that how long a message survives is stated (cfn-lint I3013).
    pub retention_period: Option<Duration>,
    /// How long a received message stays invisible to other consumers (0 to 12 hours). Without it 30 seconds.
    /// A Lambda consumer needs at least 6 times its timeout.
    pub visibility_timeout: Option<Duration>,
    /// Delay before a new message becomes visible (0 to 15 minutes). Without it messages are visible at once.
    pub delivery_delay: Option<Duration>,
    /// Long-polling wait of `ReceiveMessage` (0 to 20 seconds). Without it receives return immediately.
    pub receive_message_wait_time: Option<Duration>,
    /// Largest message size in bytes (1,024 to 1,048,576). Without it the queue accepts SQS's default maximum.
    pub max_message_size_bytes: Option<u32>,
    /// A queue policy denying every request not made over TLS (SQS4 of cdk-nag). On unless turned off.
    pub enforce_ssl: bool,
    /// What happens to the queue when it leaves the stack or is replaced. Without it the queue is deleted, like
    /// AWS CDK: a queue holds messages in transit ([`crate::resource_types::Holds::Transit`]), and a new one does
    /// the same job. The template states it either way (`DeletionPolicy` and `UpdateReplacePolicy`).
    pub removal_policy: Option<RemovalPolicy>,
}

impl Default for QueueProps<'_> {
    fn default() -> Self {
        QueueProps {
            queue_name: None,
            fifo: false,
            content_based_deduplication: false,
            encryption: QueueEncryption::SqsManaged,
            data_key_reuse: None,
            dead_letter: DeadLetter::default(),
            retention_period: None,
            visibility_timeout: None,
            delivery_delay: None,
            receive_message_wait_time: None,
            max_message_size_bytes: None,
            enforce_ssl: true,
            removal_policy: None,
        }
    }
}

/// [`QueueProps`] as [`QueueProps::validate`] accepted them: durations in the whole seconds CloudFormation takes.
struct CheckedQueueProps {
    retention_period: Option<i64>,
    visibility_timeout: Option<i64>,
    delivery_delay: Option<i64>,
    receive_message_wait_time: Option<i64>,
    data_key_reuse: Option<i64>,
    /// Of the dead-letter queue, when there is one.
    max_receive_count: Option<u32>,
}

impl QueueProps<'_> {
    /// Every check of the props, before anything is built (aws-sqs's `validate-props.ts`): ranges, the props
    /// that need KMS or FIFO, the name, the dead-letter queue.
    fn validate(&self, path: &str) -> Result<CheckedQueueProps, ConstructError> {
        let secs = |prop: &str, d: Option<Duration>, min: u64, max: u64| {
            d.map(|d| {
                seconds_in(
                    path,
                    prop,
                    d,
                    Duration::from_secs(min),
                    Duration::from_secs(max),
                )
            })
            .transpose()
        };
        let checked = CheckedQueueProps {
            retention_period: secs("retention_period", self.retention_period, 60, 14 * 86_400)?,
            visibility_timeout: secs("visibility_timeout", self.visibility_timeout, 0, 12 * 3_600)?,
            delivery_delay: secs("delivery_delay", self.delivery_delay, 0, 15 * 60)?,
            receive_message_wait_time: secs(
                "receive_message_wait_time",
                self.receive_message_wait_time,
                0,
                20,
            )?,
            data_key_reuse: secs("data_key_reuse", self.data_key_reuse, 60, 86_400)?,
            max_receive_count: match self.dead_letter {
                DeadLetter::None => None,
                DeadLetter::Queue {
                    max_receive_count, ..
                }
                | DeadLetter::Create { max_receive_count } => {
                    Some(check_receive_count(path, max_receive_count)?)
                }
            },
        };
        if let Some(size) = self.max_message_size_bytes {
            if !(1_024..=1_048_576).contains(&size) {
                return Err(ConstructError::invalid(
                    path,
                    format!("max_message_size_bytes must be from 1024 to 1048576, got {size}"),
                ));
            }
        }
        if checked.data_key_reuse.is_some()
            && matches!(self.encryption, QueueEncryption::SqsManaged)
        {
            return Err(ConstructError::conflict(
                path,
                "data_key_reuse applies to KMS encryption only: set encryption to QueueEncryption::Kms(&key) \
                 or drop data_key_reuse",
            ));
        }
        if self.content_based_deduplication && !self.fifo {
            return Err(ConstructError::conflict(
                path,
                "content_based_deduplication needs a FIFO queue: set fifo: true",
            ));
        }
        if let Some(cfnkit_core::Value::String(name)) = self.queue_name.as_ref().map(|n| n.raw()) {
            if self.fifo != name.ends_with(".fifo") {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "queue_name must end in `.fifo` exactly when the queue is FIFO (fifo: {}), got {name:?}",
                        self.fifo
                    ),
                ));
            }
            check_name(path, "queue_name", name, 80, "queue")?;
        }
        // A dead-letter queue made here (`DeadLetter::Create`) is FIFO exactly when this one is.
        if let DeadLetter::Queue { queue, .. } = self.dead_letter {
            if let Some(own) = queue.dead_letter_queue() {
                return Err(ConstructError::conflict(
                    path,
                    format!(
                        "queue {} is this queue's dead-letter queue but has one of its own ({}; QueueProps.\
                         dead_letter creates one unless told otherwise): make it with dead_letter: \
                         DeadLetter::None",
                        queue.path(),
                        own.queue.path()
                    ),
                ));
            }
            if queue.is_fifo() != self.fifo {
                return Err(ConstructError::conflict(
                    path,
                    "a FIFO queue needs a FIFO dead-letter queue and a standard queue a standard one",
                ));
            }
        }
        Ok(checked)
    }
}

/// A dead-letter queue as attached to its source queue.
#[derive(Clone, Debug)]
pub struct DeadLetterQueue {
    /// The dead-letter queue.
    pub queue: Queue,
    /// Receives before a message moves to it.
    pub max_receive_count: u32,
}

/// A queue as grants and metrics see it: its ARN, URL and name, and its customer-managed key. A [`Queue`] made
/// here derefs to one; [`Queue::from_arn`] and [`Queue::from_attributes`] make one for a queue made elsewhere.
#[derive(Clone, Debug)]
pub struct QueueRef {
    queue_arn: Val<String>,
    queue_url: Val<String>,
    queue_name: Val<String>,
    key: Option<KeyRef>,
}

impl QueueRef {
    /// Lets the grantee receive, change the visibility of and delete messages (and decrypt them when the queue
    /// uses a customer-managed key).
    pub fn grant_consume_messages(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::SQS_CONSUME)
            .with_key(self.key.as_ref().map(|k| k.grant_decrypt(grantee)))
    }
    /// Lets the grantee send messages (and, when the queue uses a customer-managed key, get and check data keys
    /// with it: [`actions::SQS_KMS_SEND`]).
    pub fn grant_send_messages(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::SQS_SEND).with_key(
            self.key
                .as_ref()
                .map(|k| k.grant(grantee, actions::SQS_KMS_SEND)),
        )
    }
    /// Lets the grantee purge the queue.
    pub fn grant_purge(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::SQS_PURGE)
    }
    /// Lets the grantee perform `actions` on this queue (no key permissions).
    pub fn grant(&self, grantee: &(impl Grantable + ?Sized), actions: &[&str]) -> Grant {
        grantee.grant_role().grant(actions, [self.queue_arn()])
    }
    /// The queue ARN.
    pub fn queue_arn(&self) -> Val<String> {
        self.queue_arn.clone()
    }
    /// The queue URL.
    pub fn queue_url(&self) -> Val<String> {
        self.queue_url.clone()
    }
    /// The queue name: the `QueueName` dimension of the queue's CloudWatch metrics.
    pub fn queue_name(&self) -> Val<String> {
        self.queue_name.clone()
    }
    /// `(namespace, [(dimension, value)])` of the queue's CloudWatch metrics.
    pub fn metric_name_dimensions(&self) -> (&'static str, Vec<(&'static str, Val<String>)>) {
        ("AWS/SQS", vec![("QueueName", self.queue_name())])
    }
    /// A metric of the queue (`AWS/SQS`, dimension `QueueName`), averaged over 5 minutes until told otherwise.
    pub fn metric(&self, metric_name: &str) -> Metric {
        let (namespace, dimensions) = self.metric_name_dimensions();
        dimensions
            .into_iter()
            .fold(Metric::new(namespace, metric_name), |m, (k, v)| {
                m.dimension(k, v)
            })
    }
    /// `ApproximateNumberOfMessagesVisible` (maximum over 5 minutes): the backlog waiting for a consumer.
    pub fn metric_approximate_number_of_messages_visible(&self) -> Metric {
        self.metric("ApproximateNumberOfMessagesVisible")
            .statistic(Statistic::Maximum)
    }
    /// `ApproximateNumberOfMessagesNotVisible` (maximum over 5 minutes): messages received and in flight.
    pub fn metric_approximate_number_of_messages_not_visible(&self) -> Metric {
        self.metric("ApproximateNumberOfMessagesNotVisible")
            .statistic(Statistic::Maximum)
    }
    /// `ApproximateNumberOfMessagesDelayed` (maximum over 5 minutes): messages not yet visible because of a
    /// delivery delay.
    pub fn metric_approximate_number_of_messages_delayed(&self) -> Metric {
        self.metric("ApproximateNumberOfMessagesDelayed")
            .statistic(Statistic::Maximum)
    }
    /// `ApproximateAgeOfOldestMessage` (maximum over 5 minutes, in seconds): how far behind the consumers are.
    pub fn metric_approximate_age_of_oldest_message(&self) -> Metric {
        self.metric("ApproximateAgeOfOldestMessage")
            .statistic(Statistic::Maximum)
    }
    /// `NumberOfMessagesSent` (sum over 5 minutes).
    pub fn metric_number_of_messages_sent(&self) -> Metric {
        self.metric("NumberOfMessagesSent")
            .statistic(Statistic::Sum)
    }
    /// `NumberOfMessagesReceived` (sum over 5 minutes).
    pub fn metric_number_of_messages_received(&self) -> Metric {
        self.metric("NumberOfMessagesReceived")
            .statistic(Statistic::Sum)
    }
    /// `NumberOfMessagesDeleted` (sum over 5 minutes): messages consumed successfully.
    pub fn metric_number_of_messages_deleted(&self) -> Metric {
        self.metric("NumberOfMessagesDeleted")
            .statistic(Statistic::Sum)
    }
    /// `NumberOfEmptyReceives` (sum over 5 minutes): polls that found nothing.
    pub fn metric_number_of_empty_receives(&self) -> Metric {
        self.metric("NumberOfEmptyReceives")
            .statistic(Statistic::Sum)
    }
    /// `SentMessageSize` (average over 5 minutes, in bytes).
    pub fn metric_sent_message_size(&self) -> Metric {
        self.metric("SentMessageSize")
    }
    /// The customer-managed key, when the queue uses one.
    pub fn encryption_key(&self) -> Option<&KeyRef> {
        self.key.as_ref()
    }
}

/// What [`Queue::from_attributes`] needs to know of a queue made elsewhere.
#[derive(Clone, Debug)]
pub struct QueueAttributes<'a> {
    /// The queue ARN (`arn:<partition>:sqs:<region>:<account>:<name>`; a literal one is checked).
    pub queue_arn: Val<String>,
    /// The customer-managed key the queue is encrypted with, so grants also grant its use. Without it grants
    /// name the queue only (right for SQS-managed encryption).
    pub encryption_key: Option<&'a KeyRef>,
}

/// An SQS queue: encrypted at rest (SQS-managed keys unless given a [`Key`]) and TLS-only by default.
#[derive(Clone, Debug)]
pub struct Queue {
    reference: QueueRef,
    scope: OwnScope,
    handle: l1::QueueHandle,
    key: Option<Key>,
    dead_letter: Option<Box<DeadLetterQueue>>,
    visibility_timeout: Option<Duration>,
    policy: Rc<RefCell<ResourcePolicy<l1::QueuePolicyHandle>>>,
}

impl std::ops::Deref for Queue {
    type Target = QueueRef;
    fn deref(&self) -> &QueueRef {
        &self.reference
    }
}

impl Queue {
    /// A queue made elsewhere, by ARN (SQS-managed encryption): grants add statements to the grantee naming it,
    /// and its metrics name it; nothing can be added to its queue policy.
    pub fn from_arn(
        id: &str,
        queue_arn: impl Into<Val<String>>,
    ) -> Result<QueueRef, ConstructError> {
        Queue::from_attributes(
            id,
            QueueAttributes {
                queue_arn: queue_arn.into(),
                encryption_key: None,
            },
        )
    }

    /// A queue made elsewhere, with its customer-managed key: grants also grant the key usage they need.
    pub fn from_attributes(
        id: &str,
        attributes: QueueAttributes<'_>,
    ) -> Result<QueueRef, ConstructError> {
        let arn = attributes.queue_arn;
        check_imported_arn(id, "queue_arn", &arn, "sqs", ArnResource::Name)?;
        let name = imported_name(&arn, ArnResource::Name);
        Ok(QueueRef {
            queue_url: fns::sub_with(
                "https://sqs.${Region}.${AWS::URLSuffix}/${Account}/${Name}",
                [
                    ("Region", arn_field(&arn, 3)),
                    ("Account", arn_field(&arn, 4)),
                    ("Name", name.clone()),
                ],
            ),
            queue_name: name,
            queue_arn: arn,
            key: attributes.encryption_key.cloned(),
        })
    }

    /// A queue at `<scope>/<id>` (logical ID `<Id>`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: QueueProps<'_>,
    ) -> Result<Queue, ConstructError> {
        let scope = scope.as_scope().child(id);
        let checked = props.validate(scope.path())?;
        let key = match props.encryption {
            QueueEncryption::SqsManaged => None,
            QueueEncryption::Kms(k) => Some(k.clone()),
        };
        let dead_letter = match props.dead_letter {
            DeadLetter::None => None,
            DeadLetter::Queue { queue, .. } => Some(queue.clone()),
            DeadLetter::Create { .. } => Some(Queue::new(
                &scope,
                "Dlq",
                QueueProps {
                    fifo: props.fifo,
                    encryption: props.encryption,
                    retention_period: Some(Duration::from_secs(14 * 86_400)),
                    dead_letter: DeadLetter::None,
                    enforce_ssl: props.enforce_ssl,
                    removal_policy: props.removal_policy,
                    ..Default::default()
                },
            )?),
        }
        .zip(checked.max_receive_count)
        .map(|(queue, max_receive_count)| DeadLetterQueue {
            queue,
            max_receive_count,
        });

        let queue = l1::Queue {
            queue_name: props.queue_name,
            fifo_queue: props.fifo.then(|| true.into()),
            content_based_deduplication: props.content_based_deduplication.then(|| true.into()),
            sqs_managed_sse_enabled: key.is_none().then(|| true.into()),
            kms_master_key_id: key.as_ref().map(|k| k.key_arn()),
            kms_data_key_reuse_period_seconds: checked.data_key_reuse.map(Val::from),
            message_retention_period: Some(
                checked
                    .retention_period
                    .unwrap_or(DEFAULT_RETENTION.as_secs() as i64)
                    .into(),
            ),
            visibility_timeout: checked.visibility_timeout.map(Val::from),
            delay_seconds: checked.delivery_delay.map(Val::from),
            receive_message_wait_time_seconds: checked.receive_message_wait_time.map(Val::from),
            maximum_message_size: props.max_message_size_bytes.map(Val::from),
            redrive_policy: dead_letter.as_ref().map(|dl| {
                Val::from(l1::queue::RedrivePolicy {
                    dead_letter_target_arn: Some(dl.queue.queue_arn()),
                    max_receive_count: Some(dl.max_receive_count.into()),
                })
            }),
            ..Default::default()
        };
        let handle: l1::QueueHandle = scope.add("Resource", queue);
        handle.apply_removal_policy(
            props
                .removal_policy
                .unwrap_or(removal_default::<l1::Queue>()),
        );
        if key.is_none() {
            // checkov reads KmsMasterKeyId only, and SSE-SQS sets SqsManagedSseEnabled instead.
            crate::rules::skip_checkov(
                &handle,
                "CKV_AWS_27",
                "encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), which checkov does not read; set \
                 QueueProps.encryption to QueueEncryption::Kms(&key) for a customer-managed key",
            );
        }
        let queue = Queue {
            reference: QueueRef {
                queue_arn: handle.attr_arn(),
                queue_url: handle.ref_(),
                queue_name: handle.get_att("QueueName"),
                key: key.as_deref().cloned(),
            },
            scope: OwnScope(scope),
            handle,
            key,
            dead_letter: dead_letter.map(Box::new),
            visibility_timeout: props.visibility_timeout,
            policy: Rc::new(RefCell::new(ResourcePolicy::new())),
        };
        if props.enforce_ssl {
            queue.add_to_resource_policy(PolicyStatement::deny_insecure_transport(
                actions::SQS_ALL,
                [queue.queue_arn()],
            ));
        }
        Ok(queue)
    }

    /// Adds a statement to the queue policy (`<Id>Policy`, created with the first statement).
    pub fn add_to_resource_policy(&self, statement: PolicyStatement) {
        self.policy.borrow_mut().add(
            statement,
            |document| {
                let policy = l1::QueuePolicy {
                    policy_document: Some(document),
                    queues: Some(Val::from(vec![self.queue_url()])),
                };
                self.scope.add("Policy", policy)
            },
            |h, document| h.resource_mut().policy_document = Some(document),
        );
    }

    /// Lets an AWS service (`sns.amazonaws.com`, `events.amazonaws.com`) send messages to the queue on behalf of
    /// `source_arn` (a topic, a rule) only, and, when the queue uses a customer-managed key, use that key.
    pub fn allow_service_send(&self, service: &str, source_arn: Val<String>) {
        self.add_to_resource_policy(
            PolicyStatement::allow()
                .actions(actions::SQS_SERVICE_SEND)
                .principal(Principal::service(service))
                .resource(self.queue_arn())
                .condition("ArnEquals", "aws:SourceArn", source_arn),
        );
        if let Some(key) = &self.key {
            key.allow_service(service);
        }
    }

    /// Whether this is a FIFO queue.
    pub fn is_fifo(&self) -> bool {
        self.handle
            .resource()
            .fifo_queue
            .as_ref()
            .is_some_and(|v| *v == Val::from(true))
    }
    /// The visibility timeout given in the props (SQS's default, 30 seconds, when `None`), for checks against
    /// the timeout of a consuming function.
    pub fn visibility_timeout(&self) -> Duration {
        self.visibility_timeout.unwrap_or(Duration::from_secs(30))
    }
    /// The dead-letter queue, when there is one.
    pub fn dead_letter_queue(&self) -> Option<&DeadLetterQueue> {
        self.dead_letter.as_deref()
    }
    /// The queue policy, once it exists (it does by default: the TLS-only statement).
    pub fn policy(&self) -> Option<l1::QueuePolicyHandle> {
        self.policy.borrow().handle()
    }
    /// The construct's scope, for resources that belong to the queue (subscriptions in its stack).
    pub(crate) fn scope(&self) -> &Scope {
        &self.scope
    }
}

impl Construct for Queue {
    type L1 = l1::Queue;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::QueueHandle {
        &self.handle
    }
}

fn check_receive_count(path: &str, n: u32) -> Result<u32, ConstructError> {
    if (1..=1000).contains(&n) {
        Ok(n)
    } else {
        Err(ConstructError::invalid(
            path,
            format!("max_receive_count must be from 1 to 1000, got {n}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constructs::cloudwatch::Statistic;

    #[test]
    fn queue_metrics_carry_the_queue_name_and_the_statistic_that_makes_sense() {
        let app = crate::App::new();
        let s = app.stack("S");
        let q = Queue::new(&s.scope(), "Q", QueueProps::default()).unwrap();
        let name = [("QueueName".to_owned(), q.queue_name())];
        let cases = [
            (
                q.metric_approximate_number_of_messages_visible(),
                "ApproximateNumberOfMessagesVisible",
                Statistic::Maximum,
            ),
            (
                q.metric_approximate_age_of_oldest_message(),
                "ApproximateAgeOfOldestMessage",
                Statistic::Maximum,
            ),
            (
                q.metric_number_of_messages_sent(),
                "NumberOfMessagesSent",
                Statistic::Sum,
            ),
            (
                q.metric_number_of_messages_deleted(),
                "NumberOfMessagesDeleted",
                Statistic::Sum,
            ),
            (
                q.metric_sent_message_size(),
                "SentMessageSize",
                Statistic::Average,
            ),
        ];
        for (metric, metric_name, statistic) in cases {
            assert_eq!(metric.namespace(), "AWS/SQS");
            assert_eq!(metric.metric_name(), metric_name);
            assert_eq!(metric.get_statistic(), statistic, "{metric_name}");
            assert_eq!(metric.dimensions(), &name[..]);
            assert_eq!(metric.get_period(), Duration::from_secs(300));
        }
    }
}
