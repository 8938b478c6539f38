//! SNS: [`Topic`] (encrypted, TLS-only), its [`Subscription`]s (SQS, Lambda, email, HTTPS) and grants.
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Notify");
//! let topic = Topic::new(&stack, "Orders", TopicProps::default())?;
//! let inbox = Queue::new(&stack, "Inbox", QueueProps::default())?;
//! // The queue's policy lets this topic (only) send to it.
//! topic.add_subscription(Subscription::sqs(&inbox, Default::default()))?;
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use cfnkit_core::{RemovalPolicy, Val, Value};
use cfnkit_l1::lambda as l1_lambda;
use cfnkit_l1::sns as l1;
use l1::subscription::Protocol;

use super::cloudwatch::AlarmAction;
use super::iam::{Grant, Grantable, PolicyStatement, Principal, ResourcePolicy};
use super::kms::{Key, KeyRef};
use super::sqs::Queue;
use super::{
    actions, check_imported_arn, check_name, construct_id, imported_name, ArnResource, Construct,
    ConstructError, LambdaTarget, OwnScope,
};
use crate::AsScope;

/// The AWS-managed key SNS encrypts with when a topic is given no key of its own.
pub const AWS_MANAGED_SNS_KEY: &str = "alias/aws/sns";

/// Props of a [`Topic`].
#[derive(Clone, Debug)]
pub struct TopicProps<'a> {
    /// A fixed topic name (FIFO topics must end in `.fifo`). Without it CloudFormation generates a unique name.
    pub topic_name: Option<Val<String>>,
    /// The display name used as the sender of SMS and email. Without it messages show no display name.
    pub display_name: Option<String>,
    /// A FIFO topic. Without it the topic is a standard topic.
    pub fifo: bool,
    /// Content-based deduplication (FIFO only). Without it publishers must give a deduplication id.
    pub content_based_deduplication: bool,
    /// A customer-managed key for server-side encryption. Without it messages are encrypted with the
    /// AWS-managed key `alias/aws/sns`, which AWS services such as EventBridge and CloudWatch alarms cannot use:
    /// give a key to a topic those services publish to.
    pub master_key: Option<&'a Key>,
    /// A topic policy denying publishing not made over TLS (SNS3 of cdk-nag). On unless turned off.
    pub enforce_ssl: bool,
    /// What happens to the topic when it leaves the stack. Without it the topic is deleted with the stack.
    pub removal_policy: Option<RemovalPolicy>,
}

impl Default for TopicProps<'_> {
    fn default() -> Self {
        TopicProps {
            topic_name: None,
            display_name: None,
            fifo: false,
            content_based_deduplication: false,
            master_key: None,
            enforce_ssl: true,
            removal_policy: None,
        }
    }
}

impl TopicProps<'_> {
    /// Every check of the props, before anything is built: FIFO-only props and the name.
    fn validate(&self, path: &str) -> Result<(), ConstructError> {
        if self.content_based_deduplication && !self.fifo {
            return Err(ConstructError::conflict(
                path,
                "content_based_deduplication needs a FIFO topic: set fifo: true",
            ));
        }
        if let Some(Value::String(name)) = self.topic_name.as_ref().map(|n| n.raw()) {
            if self.fifo != name.ends_with(".fifo") {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "topic_name must end in `.fifo` exactly when the topic is FIFO (fifo: {}), got {name:?}",
                        self.fifo
                    ),
                ));
            }
            check_name(path, "topic_name", name, 256, "topic")?;
        }
        Ok(())
    }
}

/// A topic as grants see it: its ARN and name, and its customer-managed key. A [`Topic`] made here derefs to
/// one; [`Topic::from_arn`] and [`Topic::from_attributes`] make one for a topic made elsewhere.
#[derive(Clone, Debug)]
pub struct TopicRef {
    topic_arn: Val<String>,
    topic_name: Val<String>,
    key: Option<KeyRef>,
}

impl TopicRef {
    /// Lets the grantee publish (and use the topic's customer-managed key to do so).
    pub fn grant_publish(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        grantee
            .grant_role()
            .grant(actions::SNS_PUBLISH, [self.topic_arn()])
            .with_key(
                self.key
                    .as_ref()
                    .map(|k| k.grant(grantee, actions::SNS_KMS_PUBLISH)),
            )
    }
    /// The topic ARN.
    pub fn topic_arn(&self) -> Val<String> {
        self.topic_arn.clone()
    }
    /// The topic name: the `TopicName` dimension of the topic's CloudWatch metrics.
    pub fn topic_name(&self) -> Val<String> {
        self.topic_name.clone()
    }
    /// The customer-managed key, when the topic uses one.
    pub fn encryption_key(&self) -> Option<&KeyRef> {
        self.key.as_ref()
    }
}

/// What [`Topic::from_attributes`] needs to know of a topic made elsewhere.
#[derive(Clone, Debug)]
pub struct TopicAttributes<'a> {
    /// The topic ARN (`arn:<partition>:sns:<region>:<account>:<name>`; a literal one is checked).
    pub topic_arn: Val<String>,
    /// The customer-managed key the topic is encrypted with, so publish grants also grant its use. Without it
    /// grants name the topic only (right for the AWS-managed key).
    pub encryption_key: Option<&'a KeyRef>,
}

/// An SNS topic: encrypted at rest and TLS-only by default.
#[derive(Clone, Debug)]
pub struct Topic {
    reference: TopicRef,
    scope: OwnScope,
    handle: l1::TopicHandle,
    key: Option<Key>,
    policy: Rc<RefCell<ResourcePolicy<l1::TopicPolicyHandle>>>,
}

impl std::ops::Deref for Topic {
    type Target = TopicRef;
    fn deref(&self) -> &TopicRef {
        &self.reference
    }
}

impl Topic {
    /// A topic made elsewhere, by ARN (encrypted with the AWS-managed key, or not at all): publish grants name
    /// it; nothing can be added to its topic policy.
    pub fn from_arn(
        id: &str,
        topic_arn: impl Into<Val<String>>,
    ) -> Result<TopicRef, ConstructError> {
        Topic::from_attributes(
            id,
            TopicAttributes {
                topic_arn: topic_arn.into(),
                encryption_key: None,
            },
        )
    }

    /// A topic made elsewhere, with its customer-managed key: publish grants also grant the key usage they need.
    pub fn from_attributes(
        id: &str,
        attributes: TopicAttributes<'_>,
    ) -> Result<TopicRef, ConstructError> {
        let arn = attributes.topic_arn;
        check_imported_arn(id, "topic_arn", &arn, "sns", ArnResource::Name)?;
        Ok(TopicRef {
            topic_name: imported_name(&arn, ArnResource::Name),
            topic_arn: arn,
            key: attributes.encryption_key.cloned(),
        })
    }

    /// A topic at `<scope>/<id>` (logical ID `<Id>`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: TopicProps<'_>,
    ) -> Result<Topic, ConstructError> {
        let scope = scope.as_scope().child(id);
        props.validate(scope.path())?;
        let key = props.master_key.cloned();
        let topic = l1::Topic {
            topic_name: props.topic_name,
            display_name: props.display_name.map(Val::from),
            fifo_topic: props.fifo.then(|| true.into()),
            content_based_deduplication: props.content_based_deduplication.then(|| true.into()),
            kms_master_key_id: Some(
                key.as_ref()
                    .map_or_else(|| Val::from(AWS_MANAGED_SNS_KEY), |k| k.key_arn()),
            ),
            ..Default::default()
        };
        let handle: l1::TopicHandle = scope.add("Resource", topic);
        if let Some(p) = props.removal_policy {
            handle.apply_removal_policy(p);
        }
        let topic = Topic {
            reference: TopicRef {
                topic_arn: handle.attr_topic_arn(),
                topic_name: handle.get_att("TopicName"),
                key: key.as_deref().cloned(),
            },
            scope: OwnScope(scope),
            handle,
            key,
            policy: Rc::new(RefCell::new(ResourcePolicy::new())),
        };
        if props.enforce_ssl {
            topic.add_to_resource_policy(PolicyStatement::deny_insecure_transport(
                actions::SNS_PUBLISH,
                [topic.topic_arn()],
            ));
        }
        Ok(topic)
    }

    /// Adds a statement to the topic policy (`<Id>Policy`, created with the first statement).
    pub fn add_to_resource_policy(&self, statement: PolicyStatement) {
        self.policy.borrow_mut().add(
            statement,
            |document| {
                let policy = l1::TopicPolicy {
                    policy_document: Some(document),
                    topics: Some(Val::from(vec![self.topic_arn()])),
                };
                self.scope.add("Policy", policy)
            },
            |h, document| h.resource_mut().policy_document = Some(document),
        );
    }

    /// Lets an AWS service (`events.amazonaws.com`, `cloudwatch.amazonaws.com`) publish to the topic, on behalf
    /// of `source_arn` only when given, and use the topic's key. Fails when the topic uses the AWS-managed key,
    /// whose key policy AWS services cannot be added to.
    pub fn allow_service_publish(
        &self,
        service: &str,
        source_arn: Option<Val<String>>,
    ) -> Result<(), ConstructError> {
        let Some(key) = &self.key else {
            return Err(ConstructError::conflict(
                self.path(),
                format!(
                    "{service} cannot publish to a topic encrypted with the AWS-managed key {AWS_MANAGED_SNS_KEY}: \
                     give the topic a customer-managed key (TopicProps {{ master_key: Some(&key), .. }})"
                ),
            ));
        };
        let mut statement = PolicyStatement::allow()
            .actions(actions::SNS_PUBLISH)
            .principal(Principal::service(service))
            .resource(self.topic_arn());
        statement = match source_arn {
            Some(arn) => statement.condition("ArnEquals", "aws:SourceArn", arn),
            None => statement.from_this_account(),
        };
        self.add_to_resource_policy(statement);
        key.allow_service(service);
        Ok(())
    }

    /// Subscribes a target. SQS subscriptions live in the queue's scope (`<queue>/<TopicId>Subscription`), like
    /// AWS CDK, so a queue in another stack imports the topic and not the other way round; they also let the
    /// topic into the queue policy (and the queue's key). Other subscriptions live at `<topic>/<id>`.
    pub fn add_subscription(
        &self,
        subscription: Subscription<'_>,
    ) -> Result<l1::SubscriptionHandle, ConstructError> {
        let Subscription { target, props } = subscription;
        let SubscriptionProps {
            filter_policy,
            filter_on_body,
            raw_message_delivery,
            dead_letter_queue,
        } = props;
        let (scope, protocol, endpoint) = match &target {
            SubscriptionTarget::Sqs(queue) => (
                queue
                    .scope()
                    .child(&format!("{}Subscription", construct_id(self.path()))),
                Protocol::Sqs,
                queue.queue_arn(),
            ),
            SubscriptionTarget::Lambda { id, function_arn } => {
                (self.scope.child(id), Protocol::Lambda, function_arn.clone())
            }
            SubscriptionTarget::Email { id, address } => {
                (self.scope.child(id), Protocol::Email, Val::from(address))
            }
            SubscriptionTarget::Https { id, url } => {
                (self.scope.child(id), Protocol::Https, Val::from(url))
            }
        };
        if raw_message_delivery && !matches!(protocol, Protocol::Sqs | Protocol::Https) {
            return Err(ConstructError::conflict(
                scope.path(),
                format!(
                    "raw_message_delivery applies to SQS and HTTPS subscriptions only, not {}",
                    protocol.as_str()
                ),
            ));
        }
        if let SubscriptionTarget::Https { url, .. } = &target {
            if !url.starts_with("https://") {
                return Err(ConstructError::invalid(
                    scope.path(),
                    format!("an HTTPS subscription needs an https:// URL, got {url:?}"),
                ));
            }
        }
        if let SubscriptionTarget::Sqs(queue) = &target {
            queue.allow_service_send("sns.amazonaws.com", self.topic_arn());
        }
        if let Some(dlq) = &dead_letter_queue {
            dlq.allow_service_send("sns.amazonaws.com", self.topic_arn());
        }
        let subscription = l1::Subscription {
            topic_arn: Some(self.topic_arn()),
            protocol: Some(protocol.into()),
            endpoint: Some(endpoint),
            filter_policy: filter_policy.map(Val::from),
            filter_policy_scope: filter_on_body
                .then(|| l1::subscription::FilterPolicyScope::MessageBody.into()),
            raw_message_delivery: raw_message_delivery.then(|| true.into()),
            redrive_policy: dead_letter_queue
                .as_ref()
                .map(|q| Val::from(Value::map([("deadLetterTargetArn", q.queue_arn())]))),
            ..Default::default()
        };
        let handle: l1::SubscriptionHandle = scope.add("Resource", subscription);
        if let SubscriptionTarget::Lambda { function_arn, .. } = &target {
            scope.add(
                "Permission",
                l1_lambda::Permission {
                    action: Some(actions::LAMBDA_INVOKE[0].into()),
                    function_name: Some(function_arn.clone()),
                    principal: Some("sns.amazonaws.com".into()),
                    source_arn: Some(self.topic_arn()),
                    ..Default::default()
                },
            );
        }
        Ok(handle)
    }

    /// The topic policy, once it exists (it does by default: the TLS-only statement).
    pub fn policy(&self) -> Option<l1::TopicPolicyHandle> {
        self.policy.borrow().handle()
    }
}

impl Construct for Topic {
    type L1 = l1::Topic;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::TopicHandle {
        &self.handle
    }
}

/// CloudWatch alarms publish to the topic: CloudWatch must be able to publish to it and use its key, so the
/// topic needs a customer-managed key; the topic policy and key policy get a statement for
/// `cloudwatch.amazonaws.com` (requests from this account). Fails, naming the fix, for a topic encrypted with the
/// AWS-managed key.
impl AlarmAction for Topic {
    fn bind_to_alarm(&self) -> Result<Val<String>, ConstructError> {
        self.allow_service_publish("cloudwatch.amazonaws.com", None)?;
        Ok(self.topic_arn())
    }
}

/// Where a subscription delivers.
#[derive(Clone, Debug)]
pub enum SubscriptionTarget {
    /// An SQS queue.
    Sqs(Box<Queue>),
    /// A Lambda function; `id` names the subscription and the function's invoke permission.
    Lambda {
        /// The subscription's construct id.
        id: String,
        /// The function's ARN.
        function_arn: Val<String>,
    },
    /// An email address (confirmed by the recipient).
    Email {
        /// The subscription's construct id.
        id: String,
        /// The address.
        address: String,
    },
    /// An HTTPS endpoint (confirmed by the endpoint).
    Https {
        /// The subscription's construct id.
        id: String,
        /// The endpoint's URL.
        url: String,
    },
}

/// Props of a [`Subscription`].
#[derive(Clone, Debug, Default)]
pub struct SubscriptionProps<'a> {
    /// Delivers only messages whose attributes (or body, with `filter_on_body`) match this filter policy.
    /// Without it every message is delivered.
    pub filter_policy: Option<serde_json::Value>,
    /// Applies the filter policy to the message body instead of its attributes. Off unless turned on.
    pub filter_on_body: bool,
    /// Delivers the message as published, without the SNS envelope (SQS and HTTPS only). Off unless turned on.
    pub raw_message_delivery: bool,
    /// Messages that cannot be delivered go to this queue (which the topic is let into). Without it SNS drops
    /// them after its retries.
    pub dead_letter_queue: Option<&'a Queue>,
}

/// A subscription to add to a topic with [`Topic::add_subscription`].
///
/// ```no_run
/// # use cfnkit::constructs::{sns::{Subscription, SubscriptionProps, Topic}, sqs::Queue};
/// # fn f(topic: &Topic, queue: &Queue) {
/// topic.add_subscription(Subscription::sqs(queue, SubscriptionProps {
///     filter_policy: Some(serde_json::json!({"type": ["OrderPlaced"]})),
///     raw_message_delivery: true,
///     ..Default::default()
/// })).unwrap();
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Subscription<'a> {
    target: SubscriptionTarget,
    props: SubscriptionProps<'a>,
}

impl<'a> Subscription<'a> {
    /// Delivers to an SQS queue.
    pub fn sqs(queue: &Queue, props: SubscriptionProps<'a>) -> Self {
        Subscription {
            target: SubscriptionTarget::Sqs(Box::new(queue.clone())),
            props,
        }
    }
    /// Invokes a Lambda function (and adds its invoke permission for this topic).
    pub fn lambda(function: &(impl LambdaTarget + ?Sized), props: SubscriptionProps<'a>) -> Self {
        Subscription {
            target: SubscriptionTarget::Lambda {
                id: function.target_id(),
                function_arn: function.function_arn(),
            },
            props,
        }
    }
    /// Emails an address; `id` names the subscription (`<topic>/<id>`).
    pub fn email(
        id: impl Into<String>,
        address: impl Into<String>,
        props: SubscriptionProps<'a>,
    ) -> Self {
        Subscription {
            target: SubscriptionTarget::Email {
                id: id.into(),
                address: address.into(),
            },
            props,
        }
    }
    /// Posts to an HTTPS endpoint; `id` names the subscription (`<topic>/<id>`).
    pub fn https(
        id: impl Into<String>,
        url: impl Into<String>,
        props: SubscriptionProps<'a>,
    ) -> Self {
        Subscription {
            target: SubscriptionTarget::Https {
                id: id.into(),
                url: url.into(),
            },
            props,
        }
    }
}
