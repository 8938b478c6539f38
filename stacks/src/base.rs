//! Base: the platform key, the event bus and the ops alert topic, shared by every other stack.

use cfnkit::constructs::events::{EventBus, EventBusProps};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::sns::{Topic, TopicProps};
use cfnkit::constructs::ConstructError;
use cfnkit::App;

/// What other stacks use from Base.
pub struct Base {
    pub key: Key,
    pub bus: EventBus,
    pub ops_topic: Topic,
}

pub fn stack(app: &App) -> Result<Base, ConstructError> {
    let stack = app.stack("Base");
    stack.set_description("Order platform: shared KMS key, event bus and ops alert topic");
    let scope = stack.scope();

    let key = Key::new(
        &scope,
        "PlatformKey",
        KeyProps {
            description: Some("Order platform data key".to_owned()),
            ..Default::default()
        },
    )?;
    let bus = EventBus::new(
        &scope,
        "EventBus",
        EventBusProps {
            kms_key: Some(&key),
            ..Default::default()
        },
    )?;
    let ops_topic = Topic::new(
        &scope,
        "OpsAlertTopic",
        TopicProps {
            display_name: Some("Order platform ops alerts".to_owned()),
            master_key: Some(&key),
            ..Default::default()
        },
    )?;
    // Alarms in every stack notify this topic, so CloudWatch must be able to use its key.
    key.allow_cloudwatch_alarms_to_sns();
    Ok(Base {
        key,
        bus,
        ops_topic,
    })
}
