//! IAM's evaluation of identity policies, case by case: explicit deny, allow, implicit deny; NotAction and
//! NotResource; wildcards and their case rules; the conditions evaluated locally and those reported.

use cfnkit_local::iam::{Check, DenyReason, Effect, Policy, RolePolicies};
use serde_json::{json, Value};

const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders";

fn role(statements: Value) -> RolePolicies {
    RolePolicies {
        principal: "Order/OrderApi".into(),
        role_arn: "arn:aws:iam::123456789012:role/OrderApiRole".into(),
        session_arn: "arn:aws:sts::123456789012:assumed-role/OrderApiRole/order-api".into(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        policies: vec![Policy::parse(
            "Order/OrderApiRole inline policy \"grants\"",
            &json!({"Version": "2012-10-17", "Statement": statements}),
        )
        .unwrap()],
        unreadable: vec![],
    }
}

fn allows(role: &RolePolicies, action: &str, resource: &str) -> bool {
    role.evaluate("Op", &Check::new(action, resource)).is_ok()
}

#[test]
fn an_explicit_deny_wins_over_any_allow_and_names_its_statement() {
    let r = role(json!([
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE},
    ]));
    assert!(allows(&r, "dynamodb:PutItem", TABLE));
    let denied = r
        .evaluate("DeleteItem", &Check::new("dynamodb:DeleteItem", TABLE))
        .unwrap_err();
    assert_eq!(
        denied.reason,
        DenyReason::ExplicitDeny {
            policy: "Order/OrderApiRole inline policy \"grants\"".into(),
            statement: "statement \"NoDeletes\"".into()
        }
    );
    assert_eq!(
        denied.to_string(),
        format!(
            "AccessDenied: Order/OrderApi's role may not dynamodb:DeleteItem on {TABLE} (explicitly denied by \
             statement \"NoDeletes\" of Order/OrderApiRole inline policy \"grants\")"
        )
    );
    assert_eq!(
        denied.aws_message(),
        format!(
            "User: arn:aws:sts::123456789012:assumed-role/OrderApiRole/order-api is not authorized to perform: \
             dynamodb:DeleteItem on resource: {TABLE} with an explicit deny in an identity-based policy"
        )
    );
}

#[test]
fn nothing_allowed_is_an_implicit_deny_with_the_grant_that_fixes_it() {
    let r = role(json!([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]));
    let denied = r
        .evaluate(
            "Publish",
            &Check::new("sns:Publish", "arn:aws:sns:us-east-1:123456789012:Ops"),
        )
        .unwrap_err();
    assert_eq!(denied.reason, DenyReason::NoAllow);
    assert_eq!(
        denied.to_string(),
        "AccessDenied: Order/OrderApi's role may not sns:Publish on arn:aws:sns:us-east-1:123456789012:Ops (no \
         statement allows it; grant it in the stack, e.g. topic.grant_publish(&function))"
    );
    // An action no grant gives gets the raw statement to add.
    let denied = r
        .evaluate(
            "GetParameter",
            &Check::new(
                "ssm:GetParameter",
                "arn:aws:ssm:us-east-1:123456789012:parameter/x",
            ),
        )
        .unwrap_err();
    assert!(denied
        .to_string()
        .ends_with("e.g. function.role().grant(&[\"ssm:GetParameter\"], [\"arn:aws:ssm:us-east-1:123456789012:parameter/x\"]) with the resource's ARN)"));
}

#[test]
fn actions_match_case_insensitively_with_wildcards_and_arns_case_sensitively() {
    let r = role(
        json!([{"Effect": "Allow", "Action": ["DynamoDB:get*", "dynamodb:???Item"], "Resource": TABLE}]),
    );
    assert!(allows(&r, "dynamodb:GetItem", TABLE));
    assert!(allows(&r, "dynamodb:PutItem", TABLE));
    assert!(
        !allows(&r, "dynamodb:UpdateItem", TABLE),
        "??? is exactly three characters"
    );
    assert!(!allows(
        &r,
        "dynamodb:GetItem",
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    ));
    let r = role(
        json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::Bucket/*"}]),
    );
    assert!(!allows(&r, "s3:GetObject", "arn:aws:s3:::bucket/a"));
    assert!(allows(&r, "s3:GetObject", "arn:aws:s3:::Bucket/a/b.json"));
}

#[test]
fn a_star_in_the_resource_part_spans_colons_and_slashes_but_not_the_account() {
    let r = role(json!([{"Effect": "Allow", "Action": "logs:PutLogEvents",
        "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/order-api:*"}]));
    assert!(allows(
        &r,
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/order-api:log-stream:2024/01/01/[$LATEST]ab"
    ));
    assert!(!allows(
        &r,
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:210987654321:log-group:/aws/lambda/order-api:log-stream:x"
    ));
    let r = role(
        json!([{"Effect": "Allow", "Action": "dynamodb:Query", "Resource": format!("{TABLE}/index/*")}]),
    );
    assert!(allows(
        &r,
        "dynamodb:Query",
        &format!("{TABLE}/index/byCustomer")
    ));
    assert!(
        !allows(&r, "dynamodb:Query", TABLE),
        "an index grant does not cover the table"
    );
}

#[test]
fn not_action_and_not_resource_cover_everything_but_their_list() {
    let r = role(json!([
        {"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": TABLE},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": "arn:aws:sqs:us-east-1:123456789012:admin"},
    ]));
    assert!(allows(&r, "dynamodb:PutItem", TABLE));
    assert!(!allows(&r, "dynamodb:DeleteItem", TABLE));
    assert!(allows(
        &r,
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:123456789012:orders"
    ));
    assert!(!allows(
        &r,
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:123456789012:admin"
    ));
}

#[test]
fn kms_via_service_holds_only_for_calls_made_through_that_service() {
    let key = "arn:aws:kms:us-east-1:123456789012:key/k";
    let r = role(
        json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key,
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}}]),
    );
    let via = |service: &str| Check::new("kms:Decrypt", key).with_key("kms:ViaService", service);
    assert!(r
        .evaluate("Decrypt", &via("secretsmanager.us-east-1.amazonaws.com"))
        .is_ok());
    assert!(r
        .evaluate("Decrypt", &via("sqs.us-east-1.amazonaws.com"))
        .is_err());
    // A direct call has no kms:ViaService: StringEquals on an absent key does not hold.
    assert!(r
        .evaluate("Decrypt", &Check::new("kms:Decrypt", key))
        .is_err());
}

#[test]
fn the_tls_only_deny_does_not_apply_to_sdk_calls() {
    let r = role(json!([
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sqs:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]));
    assert!(allows(
        &r,
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:123456789012:orders"
    ));
}

#[test]
fn absent_keys_follow_iams_rules_for_if_exists_negation_and_sets() {
    let cond = |c: Value| {
        role(
            json!([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": c}]),
        )
    };
    let list = Check::new("s3:ListBucket", "arn:aws:s3:::b");
    let list_prefix = list.clone().with_key("s3:prefix", "home/alice/");
    let allows = |r: &RolePolicies, c: &Check| r.evaluate("ListObjectsV2", c).is_ok();
    let like = cond(json!({"StringLike": {"s3:prefix": ["home/alice/*"]}}));
    assert!(allows(&like, &list_prefix));
    assert!(!allows(&like, &list));
    let if_exists = cond(json!({"StringLikeIfExists": {"s3:prefix": "home/alice/*"}}));
    assert!(allows(&if_exists, &list));
    let not_equals = cond(json!({"StringNotEquals": {"s3:prefix": "secret/"}}));
    assert!(allows(&not_equals, &list));
    assert!(allows(&not_equals, &list_prefix));
    let null = cond(json!({"Null": {"s3:prefix": "true"}}));
    assert!(allows(&null, &list));
    assert!(!allows(&null, &list_prefix));
    let any = cond(
        json!({"ForAnyValue:StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}),
    );
    assert!(allows(&any, &list));
    let all = cond(json!({"ForAllValues:StringEquals": {"s3:prefix": ["a"]}}));
    assert!(
        allows(&all, &list),
        "ForAllValues holds vacuously on an absent key"
    );
    let arn =
        cond(json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/Order*"}}));
    assert!(allows(&arn, &list));
    let numeric = cond(json!({"NumericLessThanEquals": {"s3:max-keys": "10"}}));
    assert!(allows(&numeric, &list.clone().with_key("s3:max-keys", "5")));
    assert!(!allows(&numeric, &list.with_key("s3:max-keys", "50")));
}

#[test]
fn a_condition_that_cannot_be_evaluated_leaves_its_statement_out_and_says_so() {
    let r = role(json!([
        {"Sid": "OfficeHours", "Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
        {"Sid": "FromVpc", "Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {"Sid": "Tagged", "Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "orders"}}},
    ]));
    let denied = r
        .evaluate(
            "Publish",
            &Check::new("sns:Publish", "arn:aws:sns:us-east-1:123456789012:Ops"),
        )
        .unwrap_err();
    assert_eq!(denied.skipped.len(), 3);
    assert!(denied.skipped.iter().all(|s| s.effect == Effect::Allow));
    let text = denied.to_string();
    assert!(text.contains("Allow statement \"OfficeHours\" of Order/OrderApiRole inline policy \"grants\" was left out: condition operator DateGreaterThan is not evaluated locally"), "{text}");
    assert!(text.contains("Allow statement \"FromVpc\""), "{text}");
    assert!(
        text.contains("condition key aws:ResourceTag/team has no local value"),
        "{text}"
    );
}

#[test]
fn managed_policies_outside_the_app_are_reported_with_the_denial() {
    let mut r = role(json!([]));
    r.unreadable = vec!["arn:aws:iam::aws:policy/AmazonSQSFullAccess".into()];
    let denied = r
        .evaluate(
            "SendMessage",
            &Check::new(
                "sqs:SendMessage",
                "arn:aws:sqs:us-east-1:123456789012:orders",
            ),
        )
        .unwrap_err();
    assert!(denied.to_string().ends_with(
        "; the role's managed policies arn:aws:iam::aws:policy/AmazonSQSFullAccess are not read locally (only \
         policies in the app are): a permission they give is not seen"
    ));
}

#[test]
fn a_policy_iam_would_refuse_is_an_error_naming_the_statement() {
    let err = Policy::parse(
        "P",
        &json!({"Statement": [{"Action": "s3:*", "Resource": "*"}]}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy P is not a valid IAM policy: statement 0: Effect must be \"Allow\" or \"Deny\", got nothing"
    );
    let err = Policy::parse("P", &json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy P is not a valid IAM policy: statement 0: has both Action and NotAction"
    );
}
