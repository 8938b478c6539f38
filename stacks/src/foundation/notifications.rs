//! `Notifications`: order confirmations (a confirmed payment), payment failures and shipments go from the
//! platform bus to a notification topic, from the topic to a queue, and from the queue to the notification
//! function, which renders an email and an SMS per event and records them as sent (once per event and channel)
//! in the notifications table. Real sending would go through SES with the configuration set made here (TLS
//! required, reputation metrics on), whose name the function records on each notification.
//!
//! The topic is the seed's fan-out point: the ECS notification service of `<Env>Compute` or a push channel
//! can subscribe to it beside the queue.

use std::collections::BTreeMap;

use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
use cfnkit::constructs::events::{EventPattern, Rule, RuleProps, Target};
use cfnkit::constructs::sns::{Subscription, SubscriptionProps, Topic, TopicProps};
use cfnkit::constructs::ConstructError;
use cfnkit::l1::ses;
use cfnkit::{App, Val};
use contracts::notifications;

use super::serverless;
use crate::Base;

pub fn stack(app: &App, base: &Base) -> Result<(), ConstructError> {
    let stack = app.stack("Notifications");
    stack.set_description(
        "Order platform: order confirmation, payment failure and shipment notifications (bus -> SNS -> SQS -> \
         function), SES configuration set",
    );
    let scope = stack.scope();
    let key = serverless::key(&scope, "notifications")?;

    let topic = Topic::new(
        &scope,
        "NotificationTopic",
        TopicProps {
            display_name: Some("Order platform customer notifications".to_owned()),
            master_key: Some(&key),
            ..Default::default()
        },
    )?;
    let (sources, detail_types): (Vec<&str>, Vec<&str>) =
        notifications::NOTIFIED_EVENTS.iter().copied().unzip();
    let rule = Rule::new(
        &scope,
        "NotifiedEventsRule",
        RuleProps {
            event_bus: Some(&base.bus),
            // The sources and detail types of the notified events are disjoint pairs, so matching any
            // source with any detail type matches exactly those events.
            event_pattern: Some(
                EventPattern::new()
                    .source(sources)
                    .detail_type(detail_types),
            ),
            description: Some(
                "Order confirmations, payment failures and shipments, to the notification topic"
                    .to_owned(),
            ),
            ..Default::default()
        },
    )?;
    rule.add_target(Target::sns(&topic, Default::default()))?;

    let table = Table::new(
        &scope,
        "NotificationsTable",
        Attribute::string(notifications::PK),
        TableProps {
            encryption_key: Some(&key),
            ..Default::default()
        },
    )?;
    let configuration_set = scope.add(
        "EmailConfigurationSet",
        ses::ConfigurationSet {
            delivery_options: Some(Val::from(ses::configuration_set::DeliveryOptions {
                tls_policy: Some("REQUIRE".into()),
                ..Default::default()
            })),
            reputation_options: Some(Val::from(ses::configuration_set::ReputationOptions {
                reputation_metrics_enabled: Some(true.into()),
            })),
            sending_options: Some(Val::from(ses::configuration_set::SendingOptions {
                sending_enabled: Some(true.into()),
            })),
            suppression_options: Some(Val::from(ses::configuration_set::SuppressionOptions {
                suppressed_reasons: Some(Val::from(vec!["BOUNCE", "COMPLAINT"])),
                ..Default::default()
            })),
            ..Default::default()
        },
    );
    let function = serverless::function(
        &scope,
        "Sender",
        "notifications",
        "Renders order, payment and shipment notifications and records them as sent, once per event and channel",
        &key,
        BTreeMap::from([
            (notifications::NOTIFICATIONS_TABLE, table.table_name()),
            (notifications::SES_CONFIGURATION_SET, configuration_set.ref_()),
        ]),
    )?;
    table.grant_read_write_data(&function);
    let queue = serverless::queue_into(&scope, "NotificationQueue", &key, &function)?;
    // Raw delivery: the queue receives the EventBridge event itself, not an SNS envelope around it.
    topic.add_subscription(Subscription::sqs(
        &queue,
        SubscriptionProps {
            raw_message_delivery: true,
            ..Default::default()
        },
    ))?;
    Ok(())
}
