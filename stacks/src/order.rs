//! Order: the orders table (point-in-time recovery, encrypted with the platform key).

use cfnkit::{App, RawResource, RemovalPolicy, TagFormat, Value};

use crate::Base;

pub fn stack(app: &App, base: &Base) {
    let stack = app.stack("Order");
    stack.set_description("Order platform: orders table, order API and order state machine");
    let table = stack.add_raw(
        "OrdersTable",
        RawResource::new("AWS::DynamoDB::Table")
            .prop("BillingMode", "PAY_PER_REQUEST")
            .prop(
                "AttributeDefinitions",
                serde_json::json!([{"AttributeName": "orderId", "AttributeType": "S"}]),
            )
            .prop(
                "KeySchema",
                serde_json::json!([{"AttributeName": "orderId", "KeyType": "HASH"}]),
            )
            .prop(
                "PointInTimeRecoverySpecification",
                serde_json::json!({"PointInTimeRecoveryEnabled": true}),
            )
            .prop("DeletionProtectionEnabled", true)
            .prop(
                "SSESpecification",
                Value::map([
                    ("SSEEnabled", Value::from(true)),
                    ("SSEType", Value::from("KMS")),
                    (
                        "KMSMasterKeyId",
                        base.key.key_arn().into_raw(),
                    ),
                ]),
            )
            .taggable(TagFormat::LIST),
    );
    table.apply_removal_policy(RemovalPolicy::Retain);
}
