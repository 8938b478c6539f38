//! DynamoDB constructs: table defaults, indexes, grants (and the key grants of a CMK-encrypted table).

mod constructs_support;

use cfnkit::constructs::dynamodb::{
    Attribute, GlobalSecondaryIndex, LocalSecondaryIndex, Projection, StreamViewType, Table,
    TableProps,
};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::App;
use constructs_support::*;
use serde_json::{json, Value};

fn example(app: &App) -> (Table, Table, Role) {
    let s = app.stack("Ddb");
    let scope = s.scope();
    let key = Key::new(&scope, "TableKey", KeyProps::default()).unwrap();
    let plain = Table::new(
        &scope,
        "Sessions",
        Attribute::string("id"),
        TableProps {
            time_to_live_attribute: Some("expiresAt".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let orders = Table::new(
        &scope,
        "Orders",
        Attribute::string("pk"),
        TableProps {
            sort_key: Some(Attribute::string("sk")),
            encryption_key: Some(&key),
            stream: Some(StreamViewType::NewAndOldImages),
            global_secondary_indexes: vec![GlobalSecondaryIndex {
                index_name: "byCustomer".into(),
                partition_key: Attribute::string("customerId"),
                sort_key: Some(Attribute::number("createdAt")),
                projection: Projection::KeysOnly,
            }],
            local_secondary_indexes: vec![LocalSecondaryIndex {
                index_name: "byStatus".into(),
                sort_key: Attribute::string("status"),
                projection: Projection::Include(vec!["total".into()]),
            }],
            ..Default::default()
        },
    )
    .unwrap();
    let role = Role::new(
        &scope,
        "Reader",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap();
    (plain, orders, role)
}

/// [`example`] with the role granted reads of `Sessions` and reads and writes of `Orders`.
fn granted_example(app: &App) -> (Table, Table, Role) {
    let (plain, orders, role) = example(app);
    plain.grant_read_data(&role);
    orders.grant_read_write_data(&role);
    (plain, orders, role)
}

#[test]
fn defaults_are_on_demand_pitr_deletion_protection_and_retain() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Ddb");
    let r = resource(&t, "Sessions");
    let p = &r["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["PointInTimeRecoverySpecification"],
        json!({"PointInTimeRecoveryEnabled": true})
    );
    assert_eq!(p["DeletionProtectionEnabled"], true);
    assert_eq!(r["DeletionPolicy"], "Retain");
    assert_eq!(r["UpdateReplacePolicy"], "Retain");
    assert!(p.get("SSESpecification").is_none());
    assert!(p.get("StreamSpecification").is_none());
    assert_eq!(
        p["TimeToLiveSpecification"],
        json!({"AttributeName": "expiresAt", "Enabled": true})
    );
    assert_eq!(
        p["KeySchema"],
        json!([{"AttributeName": "id", "KeyType": "HASH"}])
    );
}

#[test]
fn a_key_stream_and_indexes_render() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Ddb");
    let p = &resource(&t, "Orders")["Properties"];
    assert_eq!(
        p["SSESpecification"],
        json!({"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": {"Fn::GetAtt": ["TableKey", "Arn"]}})
    );
    assert_eq!(
        p["StreamSpecification"],
        json!({"StreamViewType": "NEW_AND_OLD_IMAGES"})
    );
    let defs: Vec<_> = p["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["AttributeName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(defs, ["pk", "sk", "customerId", "createdAt", "status"]);
    assert_eq!(
        p["GlobalSecondaryIndexes"][0]["Projection"],
        json!({"ProjectionType": "KEYS_ONLY"})
    );
    assert_eq!(
        p["LocalSecondaryIndexes"][0]["Projection"],
        json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]})
    );
}

#[test]
fn read_grants_cover_the_table_and_its_indexes() {
    let app = App::new();
    let (plain, _, role) = example(&app);
    plain.grant_read_data(&role);
    let t = template(&app, "Ddb");
    let stmts = role_statements(&t, "Reader");
    assert_eq!(stmts.len(), 1, "{stmts:#?}");
    assert!(allows(&stmts, "dynamodb:Query"));
    assert!(!allows(&stmts, "dynamodb:PutItem"));
    assert_eq!(
        stmts[0]["Resource"],
        json!([
            {"Fn::GetAtt": ["Sessions", "Arn"]},
            {"Fn::Sub": ["${Table}/index/*", {"Table": {"Fn::GetAtt": ["Sessions", "Arn"]}}]}
        ])
    );
}

#[test]
fn grants_on_a_cmk_encrypted_table_also_grant_the_key() {
    let app = App::new();
    let (_, orders, role) = example(&app);
    orders.grant_read_write_data(&role);
    let t = template(&app, "Ddb");
    let stmts = role_statements(&t, "Reader");
    assert!(allows(&stmts, "dynamodb:PutItem"));
    assert!(allows(&stmts, "dynamodb:GetItem"));
    let key_stmt = stmts
        .iter()
        .find(|s| s["Resource"] == json!({"Fn::GetAtt": ["TableKey", "Arn"]}))
        .expect("a statement on the key");
    // Named actions only: no `kms:ReEncrypt*`/`kms:GenerateDataKey*` as AWS CDK grants.
    assert_eq!(
        key_stmt["Action"],
        json!(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"])
    );
}

/// The wildcards the grants write (`<table>/index/*`, ListStreams' `*`) come with a scoped IAM5 suppression of
/// exactly those items, once per role however many tables are granted, and nothing else is suppressed.
#[test]
fn grants_suppress_exactly_their_own_wildcards_once() {
    let app = App::new();
    let (_, orders, role) = granted_example(&app);
    orders.grant_stream_read(&role).unwrap();
    let t = template(&app, "Ddb");
    let entries = resource(&t, "Reader")["Metadata"]["cfnkit"]["suppress"].clone();
    let applies: Vec<&Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["appliesTo"])
        .collect();
    assert_eq!(
        applies,
        [
            &json!(["Resource::<Table>/index/*"]),
            &json!(["Resource::*"])
        ],
        "{entries}"
    );
    assert_rules_clean(&app);
    // A wildcard the grants did not write is not covered.
    role.grant(&["dynamodb:*"], [orders.table_arn()]);
    let report = cfnkit::rules::check(&cfnkit::synth::synth(&app).unwrap());
    let errors: Vec<_> = report.errors().collect();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0].items, ["Action::dynamodb:*"]);
}

#[test]
fn stream_read_grants_the_stream_and_list_streams() {
    let app = App::new();
    let (_, orders, role) = example(&app);
    orders.grant_stream_read(&role).unwrap();
    let t = template(&app, "Ddb");
    let stmts = role_statements(&t, "Reader");
    assert!(stmts
        .contains(&json!({"Effect": "Allow", "Action": "dynamodb:ListStreams", "Resource": "*"})));
    assert!(stmts
        .iter()
        .any(|s| s["Resource"] == json!({"Fn::GetAtt": ["Orders", "StreamArn"]})));
    assert!(allows(&stmts, "kms:Decrypt"));
}

#[test]
fn local_indexes_need_a_sort_key_and_attribute_types_must_agree() {
    let app = App::new();
    let s = app.stack("Ddb");
    let e = Table::new(
        &s.scope(),
        "T",
        Attribute::string("pk"),
        TableProps {
            local_secondary_indexes: vec![LocalSecondaryIndex {
                index_name: "byX".into(),
                sort_key: Attribute::string("x"),
                projection: Projection::All,
            }],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("local secondary indexes need a table with a sort key"),
        "{e}"
    );
    let e = Table::new(
        &s.scope(),
        "U",
        Attribute::string("pk"),
        TableProps {
            sort_key: Some(Attribute::number("pk")),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("attribute \"pk\" is used as a key with two types"),
        "{e}"
    );
}

#[test]
fn example_stack_snapshot() {
    let app = App::new();
    granted_example(&app);
    let t = template(&app, "Ddb");
    insta::assert_snapshot!(
        "dynamodb_example",
        serde_json::to_string_pretty(&t).unwrap()
    );
}

#[test]
fn example_stack_passes_cfn_lint() {
    let app = App::new();
    granted_example(&app);
    lint_or_skip(&app);
}
