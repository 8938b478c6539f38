//! Base: the platform key, the event bus, the ops alert topic, and API Gateway's account settings (the role it
//! writes CloudWatch logs with), shared by every other stack.

use cfnkit::constructs::apigateway::ApiGatewayAccount;
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
    /// API Gateway's CloudWatch role, one per account and region: every REST API of the platform logs through
    /// it (`RestApiProps { cloud_watch_role: CloudWatchRole::Use(&base.api_gateway_account), .. }`), so that no
    /// two stacks manage the account's single setting.
    pub api_gateway_account: ApiGatewayAccount,
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
    let api_gateway_account = ApiGatewayAccount::new(&scope, "ApiGatewayAccount")?;
    Ok(Base {
        key,
        bus,
        ops_topic,
        api_gateway_account,
    })
}
