//! EventBridge: [`EventBus`] (optional archive and key), [`Rule`] with a typed [`EventPattern`], and targets
//! (SQS, SNS, Lambda, Kinesis, another bus) that wire their own permissions.
//!
//! ```
//! use cfnkit::prelude::*;
//! use cfnkit::constructs::events::TargetProps;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Orders");
//! let bus = EventBus::new(&stack, "Platform", EventBusProps::default())?;
//! let inbox = Queue::new(&stack, "Inbox", QueueProps::default())?;
//! let rule = Rule::new(&stack, "Placed", RuleProps {
//!     event_bus: Some(&bus),
//!     event_pattern: Some(EventPattern::new().source(["shop.orders"]).detail_type(["OrderPlaced"])),
//!     ..Default::default()
//! })?;
//! // The queue's policy lets this rule (only) send to it.
//! rule.add_target(Target::sqs(&inbox, TargetProps::default()))?;
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{RemovalPolicy, Val};
use cfnkit_l1::events as l1;
use cfnkit_l1::lambda as l1_lambda;

use super::iam::{Grant, Grantable, Principal, Role, RoleProps};
use super::kms::{Key, KeyRef};
use super::sns::Topic;
use super::sqs::Queue;
use super::{
    actions, check_imported_arn, days_in, imported_name, seconds_in, ArnResource, Construct,
    ConstructError, LambdaTarget, OwnScope,
};
use crate::{fns, AsScope};

const EVENTS_SERVICE: &str = "events.amazonaws.com";

/// An archive of the events sent to a bus, for replay.
#[derive(Clone, Debug, Default)]
pub struct ArchiveProps {
    /// How long archived events are kept (whole days). Without it events are kept indefinitely.
    pub retention: Option<Duration>,
    /// Archive only matching events. Without it every event of the bus is archived.
    pub event_pattern: Option<EventPattern>,
    /// What the archive is for. Without it the archive has no description.
    pub description: Option<String>,
}

/// Props of an [`EventBus`].
#[derive(Clone, Debug, Default)]
pub struct EventBusProps<'a> {
    /// The bus name. Without it the bus is named `<stack name>-<id>`, unique per stack and region.
    pub event_bus_name: Option<Val<String>>,
    /// What the bus is for. Without it the bus has no description.
    pub description: Option<String>,
    /// A customer-managed key for the events at rest. Without it events are encrypted with an AWS-owned key.
    /// EventBridge is let into the key policy.
    pub kms_key: Option<&'a Key>,
    /// An archive of the bus's events (`<id>/Archive`). Without it events are not archived.
    pub archive: Option<ArchiveProps>,
    /// What happens to the bus when it leaves the stack. Without it the bus is deleted with the stack.
    pub removal_policy: Option<RemovalPolicy>,
}

impl EventBusProps<'_> {
    /// Every check of the props, before anything is built: the archive's retention, returned in whole days.
    fn validate(&self, path: &str) -> Result<Option<i64>, ConstructError> {
        self.archive
            .as_ref()
            .and_then(|a| a.retention)
            .map(|d| days_in(path, "archive.retention", d, 1, 36_500))
            .transpose()
    }
}

/// A custom event bus.
#[derive(Clone, Debug)]
pub struct EventBus {
    reference: EventBusRef,
    scope: OwnScope,
    handle: l1::EventBusHandle,
    archive: Option<l1::ArchiveHandle>,
}

/// An event bus as grants, rules and targets see it: its ARN and name. An [`EventBus`] made here derefs to one;
/// [`EventBus::from_arn`] makes one for a bus made elsewhere.
#[derive(Clone, Debug)]
pub struct EventBusRef {
    event_bus_arn: Val<String>,
    event_bus_name: Val<String>,
}

impl EventBusRef {
    /// Lets the grantee put events on this bus.
    pub fn grant_put_events(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        grantee
            .grant_role()
            .grant(actions::EVENTS_PUT, [self.event_bus_arn()])
    }
    /// The bus ARN.
    pub fn event_bus_arn(&self) -> Val<String> {
        self.event_bus_arn.clone()
    }
    /// The bus name (what rules and `PutEvents` callers name it by).
    pub fn event_bus_name(&self) -> Val<String> {
        self.event_bus_name.clone()
    }
}

impl std::ops::Deref for EventBus {
    type Target = EventBusRef;
    fn deref(&self) -> &EventBusRef {
        &self.reference
    }
}

impl EventBus {
    /// A bus made elsewhere (another app, another account), by ARN
    /// (`arn:<partition>:events:<region>:<account>:event-bus/<name>`; a literal one is checked): put-events
    /// grants, rules on it and targets forwarding to it name it.
    pub fn from_arn(
        id: &str,
        event_bus_arn: impl Into<Val<String>>,
    ) -> Result<EventBusRef, ConstructError> {
        let arn = event_bus_arn.into();
        check_imported_arn(
            id,
            "event_bus_arn",
            &arn,
            "events",
            ArnResource::Slash("event-bus"),
        )?;
        Ok(EventBusRef {
            event_bus_name: imported_name(&arn, ArnResource::Slash("event-bus")),
            event_bus_arn: arn,
        })
    }

    /// A bus at `<scope>/<id>` (logical ID `<Id>`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: EventBusProps<'_>,
    ) -> Result<EventBus, ConstructError> {
        let scope = scope.as_scope().child(id);
        let archive_retention = props.validate(scope.path())?;
        let name = props
            .event_bus_name
            .unwrap_or_else(|| fns::sub(format!("${{AWS::StackName}}-{id}")));
        if let Some(key) = props.kms_key {
            key.allow_event_bus_encryption();
        }
        let bus = l1::EventBus {
            name: Some(name),
            description: props.description.map(Val::from),
            kms_key_identifier: props.kms_key.map(|k| k.key_arn()),
            ..Default::default()
        };
        let handle: l1::EventBusHandle = scope.add("Resource", bus);
        if let Some(p) = props.removal_policy {
            handle.apply_removal_policy(p);
        }
        let archive = match props.archive {
            None => None,
            Some(a) => {
                let archive = l1::Archive {
                    source_arn: Some(handle.attr_arn()),
                    retention_days: archive_retention.map(Val::from),
                    event_pattern: a.event_pattern.map(|p| Val::from(p.to_json())),
                    description: a.description.map(Val::from),
                    kms_key_identifier: props.kms_key.map(|k| k.key_arn()),
                    ..Default::default()
                };
                Some(scope.add("Archive", archive))
            }
        };
        Ok(EventBus {
            reference: EventBusRef {
                event_bus_arn: handle.attr_arn(),
                event_bus_name: handle.ref_(),
            },
            scope: OwnScope(scope),
            handle,
            archive,
        })
    }

    /// The archive, when there is one.
    pub fn archive(&self) -> Option<&l1::ArchiveHandle> {
        self.archive.as_ref()
    }
}

impl Construct for EventBus {
    type L1 = l1::EventBus;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::EventBusHandle {
        &self.handle
    }
}

/// An event pattern, built field by field or given whole.
///
/// ```
/// use cfnkit::constructs::events::EventPattern;
/// let p = EventPattern::new()
///     .source(["order-platform.orders"])
///     .detail_type(["OrderPlaced"])
///     .detail(serde_json::json!({"total": [{"numeric": [">", 100]}]}));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventPattern(serde_json::Map<String, serde_json::Value>);

impl EventPattern {
    /// An empty pattern (matches every event until fields are added).
    pub fn new() -> Self {
        Self::default()
    }
    /// A whole pattern as JSON; a value that is not a JSON object yields an empty pattern.
    pub fn raw(pattern: serde_json::Value) -> Self {
        match pattern {
            serde_json::Value::Object(m) => EventPattern(m),
            _ => EventPattern::default(),
        }
    }
    fn strings<S: Into<String>>(
        mut self,
        field: &str,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        let values: Vec<serde_json::Value> = values
            .into_iter()
            .map(|s| serde_json::Value::String(s.into()))
            .collect();
        self.0.insert(field.to_owned(), values.into());
        self
    }
    /// Matches events from these sources.
    pub fn source<S: Into<String>>(self, sources: impl IntoIterator<Item = S>) -> Self {
        self.strings("source", sources)
    }
    /// Matches events of these detail types.
    pub fn detail_type<S: Into<String>>(self, types: impl IntoIterator<Item = S>) -> Self {
        self.strings("detail-type", types)
    }
    /// Matches events from these accounts.
    pub fn account<S: Into<String>>(self, accounts: impl IntoIterator<Item = S>) -> Self {
        self.strings("account", accounts)
    }
    /// Matches events from these regions.
    pub fn region<S: Into<String>>(self, regions: impl IntoIterator<Item = S>) -> Self {
        self.strings("region", regions)
    }
    /// Matches events about these resources.
    pub fn resources<S: Into<String>>(self, arns: impl IntoIterator<Item = S>) -> Self {
        self.strings("resources", arns)
    }
    /// Filters on the event's `detail` (any content filter: prefixes, numeric ranges, `exists`...).
    pub fn detail(mut self, filter: serde_json::Value) -> Self {
        self.0.insert("detail".to_owned(), filter);
        self
    }
    /// Sets any top-level field.
    pub fn field(mut self, name: &str, filter: serde_json::Value) -> Self {
        self.0.insert(name.to_owned(), filter);
        self
    }
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The pattern as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(self.0.clone())
    }
}

/// When a scheduled rule runs (schedules run on the default bus only).
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// Every `Duration` (whole minutes).
    Rate(Duration),
    /// A cron expression, without the `cron(...)` wrapper: `0 12 * * ? *`.
    Cron(String),
}

impl Schedule {
    fn expression(&self, path: &str) -> Result<String, ConstructError> {
        match self {
            Schedule::Cron(c) => Ok(format!("cron({c})")),
            Schedule::Rate(d) => {
                let s = d.as_secs();
                if d.subsec_nanos() != 0 || s == 0 || s % 60 != 0 {
                    return Err(ConstructError::invalid(
                        path,
                        format!(
                            "a schedule rate must be a whole number of minutes, got {}",
                            super::human(*d)
                        ),
                    ));
                }
                let (n, unit) = match s {
                    s if s % 86_400 == 0 => (s / 86_400, "day"),
                    s if s % 3_600 == 0 => (s / 3_600, "hour"),
                    s => (s / 60, "minute"),
                };
                Ok(format!("rate({n} {unit}{})", if n == 1 { "" } else { "s" }))
            }
        }
    }
}

/// Props of a [`Rule`].
#[derive(Clone, Debug)]
pub struct RuleProps<'a> {
    /// The bus the rule listens on. Without it the rule listens on the account's default bus.
    pub event_bus: Option<&'a EventBusRef>,
    /// The events the rule matches. A rule needs a pattern, a schedule or both.
    pub event_pattern: Option<EventPattern>,
    /// Runs the rule on a schedule (default bus only).
    pub schedule: Option<Schedule>,
    /// What the rule is for. Without it the rule has no description.
    pub description: Option<String>,
    /// Whether the rule is enabled. On unless turned off.
    pub enabled: bool,
    /// A fixed rule name. Without it CloudFormation generates a unique name.
    pub rule_name: Option<Val<String>>,
}

impl Default for RuleProps<'_> {
    fn default() -> Self {
        RuleProps {
            event_bus: None,
            event_pattern: None,
            schedule: None,
            description: None,
            enabled: true,
            rule_name: None,
        }
    }
}

impl RuleProps<'_> {
    /// Every check of the props, before anything is built: a pattern or a schedule, schedules on the default
    /// bus only, the schedule itself. Returns the schedule expression.
    fn validate(&self, path: &str) -> Result<Option<String>, ConstructError> {
        let has_pattern = self.event_pattern.as_ref().is_some_and(|p| !p.is_empty());
        if !has_pattern && self.schedule.is_none() {
            return Err(ConstructError::invalid(
                path,
                "a rule needs an event_pattern with at least one field, a schedule, or both",
            ));
        }
        if self.schedule.is_some() && self.event_bus.is_some() {
            return Err(ConstructError::conflict(
                path,
                "scheduled rules run on the default bus only: drop event_bus or the schedule",
            ));
        }
        self.schedule
            .as_ref()
            .map(|s| s.expression(path))
            .transpose()
    }
}

/// What a target receives instead of the whole event.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleInput {
    /// This constant JSON.
    Constant(serde_json::Value),
    /// The part of the event at this JSONPath (`$.detail`).
    Path(String),
    /// A template filled from JSONPaths of the event: `{"order": <order>}` with `order` -> `$.detail.orderId`.
    Transform {
        /// Each placeholder's JSONPath in the event (`order` -> `$.detail.orderId`).
        paths: BTreeMap<String, String>,
        /// The target's input, with `<name>` where a path's value goes.
        template: String,
    },
}

impl RuleInput {
    /// An input transformer from `(name, JSONPath)` pairs and a template using `<name>` placeholders.
    pub fn transform<K: Into<String>, V: Into<String>>(
        paths: impl IntoIterator<Item = (K, V)>,
        template: impl Into<String>,
    ) -> Self {
        RuleInput::Transform {
            paths: paths
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            template: template.into(),
        }
    }
}

#[derive(Clone, Debug)]
enum TargetKind {
    Sqs(Box<Queue>),
    Sns(Box<Topic>),
    Lambda {
        id: String,
        arn: Val<String>,
    },
    Kinesis {
        arn: Val<String>,
        key: Option<KeyRef>,
    },
    EventBus {
        arn: Val<String>,
    },
}

/// How EventBridge retries delivering to a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries at most this many times (0 to 185).
    pub max_retries: u32,
    /// Gives up on an event this old (1 minute to 24 hours).
    pub max_event_age: Duration,
}

/// Props of a [`Target`].
#[derive(Clone, Debug, Default)]
pub struct TargetProps<'a> {
    /// Events that cannot be delivered go to this standard queue (which the rule is let into). Without it
    /// EventBridge drops them after its retries.
    pub dead_letter_queue: Option<&'a Queue>,
    /// How delivery is retried. Without it EventBridge retries 185 times over 24 hours.
    pub retry_policy: Option<RetryPolicy>,
    /// What the target receives. Without it the target receives the whole event.
    pub input: Option<RuleInput>,
    /// The message group of an SQS FIFO queue target (required for one, refused for other targets).
    pub message_group_id: Option<String>,
    /// The JSONPath of the partition key of a Kinesis target (refused for other targets). Without it the event
    /// id is the partition key.
    pub partition_key_path: Option<String>,
}

impl TargetProps<'_> {
    /// Every check of the props for a target of `kind`, before anything is wired (errors name the rule at
    /// `path`). Returns the retry policy's event age in seconds.
    fn validate(&self, path: &str, kind: &TargetKind) -> Result<Option<i64>, ConstructError> {
        if let TargetKind::Sqs(queue) = kind {
            if queue.is_fifo() && self.message_group_id.is_none() {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "the target queue {} is FIFO: give the target a message_group_id",
                        queue.path()
                    ),
                ));
            }
        } else if self.message_group_id.is_some() {
            return Err(ConstructError::conflict(
                path,
                "message_group_id applies to SQS FIFO queue targets only: drop it",
            ));
        }
        if self.partition_key_path.is_some() && !matches!(kind, TargetKind::Kinesis { .. }) {
            return Err(ConstructError::conflict(
                path,
                "partition_key_path applies to Kinesis stream targets only: drop it",
            ));
        }
        if let Some(dlq) = self.dead_letter_queue {
            if dlq.is_fifo() {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "EventBridge dead-letter queues must be standard queues, and {} is FIFO",
                        dlq.path()
                    ),
                ));
            }
        }
        self.retry_policy
            .map(|r| {
                if r.max_retries > 185 {
                    return Err(ConstructError::invalid(
                        path,
                        format!(
                            "retry_policy max_retries must be from 0 to 185, got {}",
                            r.max_retries
                        ),
                    ));
                }
                seconds_in(
                    path,
                    "retry_policy max_event_age",
                    r.max_event_age,
                    Duration::from_secs(60),
                    Duration::from_secs(86_400),
                )
            })
            .transpose()
    }
}

/// A target of a [`Rule`], added with [`Rule::add_target`]: `Target::sqs(&queue, TargetProps::default())`.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    kind: TargetKind,
    props: TargetProps<'a>,
}

impl<'a> Target<'a> {
    /// Sends matching events to a queue (which the rule is let into, with the queue's key).
    pub fn sqs(queue: &Queue, props: TargetProps<'a>) -> Self {
        Target {
            kind: TargetKind::Sqs(Box::new(queue.clone())),
            props,
        }
    }
    /// Publishes matching events to a topic (which needs a customer-managed key: EventBridge cannot use
    /// `alias/aws/sns`).
    pub fn sns(topic: &Topic, props: TargetProps<'a>) -> Self {
        Target {
            kind: TargetKind::Sns(Box::new(topic.clone())),
            props,
        }
    }
    /// Invokes a Lambda function (with an invoke permission for this rule).
    pub fn lambda(function: &(impl LambdaTarget + ?Sized), props: TargetProps<'a>) -> Self {
        Target {
            kind: TargetKind::Lambda {
                id: function.target_id(),
                arn: function.function_arn(),
            },
            props,
        }
    }
    /// Puts matching events on a Kinesis stream through the rule's role; pass the stream's key when it is
    /// encrypted with a customer-managed one. (A stream construct or import makes this for itself:
    /// `stream.rule_target(props)`.)
    pub fn kinesis_stream(
        stream_arn: impl Into<Val<String>>,
        key: Option<&KeyRef>,
        props: TargetProps<'a>,
    ) -> Self {
        Target {
            kind: TargetKind::Kinesis {
                arn: stream_arn.into(),
                key: key.cloned(),
            },
            props,
        }
    }
    /// Forwards matching events to another bus (made here, or imported with [`EventBus::from_arn`], another
    /// account's say) through the rule's role.
    pub fn event_bus(bus: &EventBusRef, props: TargetProps<'a>) -> Self {
        Target {
            kind: TargetKind::EventBus {
                arn: bus.event_bus_arn(),
            },
            props,
        }
    }
}

#[derive(Debug, Default)]
struct RuleState {
    targets: usize,
    role: Option<Role>,
}

/// An EventBridge rule: a pattern (or schedule) on a bus, and targets.
#[derive(Clone, Debug)]
pub struct Rule {
    scope: OwnScope,
    handle: l1::RuleHandle,
    state: Rc<RefCell<RuleState>>,
}

impl Rule {
    /// A rule at `<scope>/<id>` (logical ID `<Id>`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: RuleProps<'_>,
    ) -> Result<Rule, ConstructError> {
        let scope = scope.as_scope().child(id);
        let schedule_expression = props.validate(scope.path())?;
        let pattern = props.event_pattern.filter(|p| !p.is_empty());
        let rule = l1::Rule {
            name: props.rule_name,
            description: props.description.map(Val::from),
            event_bus_name: props.event_bus.map(EventBusRef::event_bus_name),
            event_pattern: pattern.map(|p| Val::from(p.to_json())),
            schedule_expression: schedule_expression.map(Val::from),
            state: Some(Val::from(if props.enabled {
                l1::rule::State::Enabled
            } else {
                l1::rule::State::Disabled
            })),
            ..Default::default()
        };
        Ok(Rule {
            handle: scope.add("Resource", rule),
            scope: OwnScope(scope),
            state: Rc::default(),
        })
    }

    /// Adds a target (ids `Target0`, `Target1`... in order) and the permissions it needs.
    pub fn add_target(&self, target: Target<'_>) -> Result<(), ConstructError> {
        let Target { kind, props } = target;
        let max_event_age = props.validate(self.path(), &kind)?;
        let mut l1_target = l1::rule::Target::default();
        match &kind {
            TargetKind::Sqs(queue) => {
                queue.allow_service_send(EVENTS_SERVICE, self.rule_arn());
                l1_target.arn = Some(queue.queue_arn());
                l1_target.sqs_parameters = props.message_group_id.as_ref().map(|g| {
                    Val::from(l1::rule::SqsParameters {
                        message_group_id: Some(g.into()),
                    })
                });
            }
            TargetKind::Sns(topic) => {
                topic.allow_service_publish(EVENTS_SERVICE, Some(self.rule_arn()))?;
                l1_target.arn = Some(topic.topic_arn());
            }
            TargetKind::Lambda { id, arn } => {
                self.scope.add(
                    &format!("{id}Permission"),
                    l1_lambda::Permission {
                        action: Some(actions::LAMBDA_INVOKE[0].into()),
                        function_name: Some(arn.clone()),
                        principal: Some(EVENTS_SERVICE.into()),
                        source_arn: Some(self.rule_arn()),
                        ..Default::default()
                    },
                );
                l1_target.arn = Some(arn.clone());
            }
            TargetKind::Kinesis { arn, key } => {
                let role = self.events_role()?;
                role.grant(actions::KINESIS_WRITE, [arn.clone()]);
                if let Some(key) = key {
                    // PutRecord(s) to a stream encrypted with a key needs a data key, nothing more.
                    key.grant(&role, actions::KINESIS_KMS_WRITE);
                }
                l1_target.arn = Some(arn.clone());
                l1_target.role_arn = Some(role.role_arn());
                l1_target.kinesis_parameters = props.partition_key_path.as_ref().map(|p| {
                    Val::from(l1::rule::KinesisParameters {
                        partition_key_path: Some(p.into()),
                    })
                });
            }
            TargetKind::EventBus { arn } => {
                let role = self.events_role()?;
                role.grant(actions::EVENTS_PUT, [arn.clone()]);
                l1_target.arn = Some(arn.clone());
                l1_target.role_arn = Some(role.role_arn());
            }
        }
        if let Some(dlq) = props.dead_letter_queue {
            dlq.allow_service_send(EVENTS_SERVICE, self.rule_arn());
            l1_target.dead_letter_config = Some(Val::from(l1::rule::DeadLetterConfig {
                arn: Some(dlq.queue_arn()),
            }));
        }
        if let (Some(retry), Some(age)) = (props.retry_policy, max_event_age) {
            l1_target.retry_policy = Some(Val::from(l1::rule::RetryPolicy {
                maximum_retry_attempts: Some(retry.max_retries.into()),
                maximum_event_age_in_seconds: Some(age.into()),
            }));
        }
        match &props.input {
            None => {}
            Some(RuleInput::Constant(v)) => l1_target.input = Some(v.to_string().into()),
            Some(RuleInput::Path(p)) => l1_target.input_path = Some(p.into()),
            Some(RuleInput::Transform { paths, template }) => {
                l1_target.input_transformer = Some(Val::from(l1::rule::InputTransformer {
                    input_paths_map: Some(Val::from(paths.clone())),
                    input_template: Some(template.into()),
                }))
            }
        }
        let mut state = self.state.borrow_mut();
        l1_target.id = Some(format!("Target{}", state.targets).into());
        state.targets += 1;
        self.handle
            .resource_mut()
            .targets
            .get_or_insert_with(Default::default)
            .push(l1_target);
        Ok(())
    }

    /// The role EventBridge assumes for targets that need one (Kinesis, another bus), `<id>/EventsRole`,
    /// created with the first such target and shared by the rule's targets.
    fn events_role(&self) -> Result<Role, ConstructError> {
        if let Some(role) = &self.state.borrow().role {
            return Ok(role.clone());
        }
        let role = Role::new(
            &self.scope.0,
            "EventsRole",
            Principal::service(EVENTS_SERVICE),
            RoleProps::default(),
        )?;
        self.state.borrow_mut().role = Some(role.clone());
        Ok(role)
    }

    /// The rule ARN.
    pub fn rule_arn(&self) -> Val<String> {
        self.handle.attr_arn()
    }
}

impl Construct for Rule {
    type L1 = l1::Rule;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::RuleHandle {
        &self.handle
    }
}
