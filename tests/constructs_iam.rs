//! IAM constructs: roles, their grants policy, typed statements.

mod constructs_support;

use cfnkit::constructs::{actions, Grantable, PolicyStatement, Principal, Role, RoleProps};
use cfnkit::App;
use constructs_support::*;
use serde_json::json;
use std::time::Duration;

fn role(app: &App) -> Role {
    let s = app.stack("Iam");
    Role::new(
        &s.scope(),
        "WorkerRole",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap()
}

#[test]
fn a_role_without_statements_has_no_policy() {
    let app = App::new();
    role(&app);
    let t = template(&app, "Iam");
    let r = resource(&t, "WorkerRole");
    assert_eq!(r["Type"], "AWS::IAM::Role");
    assert!(r["Properties"].get("Policies").is_none());
    assert_eq!(
        r["Properties"]["AssumeRolePolicyDocument"],
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "lambda.amazonaws.com"}
        }]})
    );
}

#[test]
fn grants_made_after_creation_land_in_the_template_and_merge() {
    let app = App::new();
    let r = role(&app);
    r.grant(actions::SQS_SEND, ["arn:aws:sqs:us-east-1:111111111111:a"]);
    r.grant_role()
        .grant(actions::SQS_SEND, ["arn:aws:sqs:us-east-1:111111111111:b"]);
    r.add_to_policy(
        PolicyStatement::allow()
            .actions(actions::SQS_SEND)
            .resource("arn:aws:sqs:us-east-1:111111111111:a"),
    );
    let t = template(&app, "Iam");
    let stmts = role_statements(&t, "WorkerRole");
    assert_eq!(stmts.len(), 1, "{stmts:#?}");
    assert_eq!(
        stmts[0]["Resource"],
        json!([
            "arn:aws:sqs:us-east-1:111111111111:a",
            "arn:aws:sqs:us-east-1:111111111111:b"
        ])
    );
    assert!(allows(&stmts, "sqs:SendMessage"));
}

#[test]
fn session_duration_out_of_range_is_an_error_naming_the_value() {
    let app = App::new();
    let s = app.stack("Iam");
    let e = Role::new(
        &s.scope(),
        "R",
        Principal::service("lambda.amazonaws.com"),
        RoleProps {
            max_session_duration: Some(Duration::from_secs(13 * 3600)),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Iam/R: max_session_duration must be a whole number of seconds between 1 hour and 12 hours, got 13 hours"
    );
}

#[test]
fn a_role_with_grants_passes_cfn_lint() {
    let app = App::new();
    let r = role(&app);
    r.grant(
        actions::SQS_CONSUME,
        ["arn:aws:sqs:us-east-1:111111111111:a"],
    );
    lint_or_skip(&app);
}

#[test]
fn grants_return_the_statements_they_added_with_the_key_statements_apart() {
    use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
    use cfnkit::constructs::kms::{Key, KeyProps};
    use cfnkit::constructs::sqs::{Queue, QueueEncryption, QueueProps};

    let app = App::new();
    let worker = role(&app);
    let scope = app.stack("Iam").scope();
    let key = Key::new(&scope, "DataKey", KeyProps::default()).unwrap();
    let queue = Queue::new(
        &scope,
        "Jobs",
        QueueProps {
            encryption: QueueEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let grant = queue.grant_consume_messages(&worker);
    assert_eq!(grant.grantee().role_arn(), worker.role_arn());
    assert_eq!(grant.statements().len(), 1);
    assert_eq!(grant.statements()[0].action_names(), actions::SQS_CONSUME);
    assert_eq!(grant.key_statements().len(), 1);
    assert_eq!(
        grant.key_statements()[0].action_names(),
        actions::KMS_DECRYPT
    );

    // Everything a grant returns is in the role's policy, and nothing else was added.
    let policy = worker.policy_document();
    assert_eq!(policy.statements().len(), 2);
    for s in grant.statements().iter().chain(grant.key_statements()) {
        assert!(policy.statements().contains(s), "{s:?}");
    }

    let table = Table::new(
        &scope,
        "Orders",
        Attribute::string("pk"),
        TableProps::default(),
    )
    .unwrap();
    // A table without a stream has nothing to read: an error naming the table and the prop that gives it one,
    // not a grant that silently adds nothing.
    let e = table.grant_stream_read(&worker).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Iam/Orders: table Iam/Orders has no stream to read: give it one with TableProps::stream (`stream: \
         Some(StreamViewType::NewImage)`), or, for an imported table, TableAttributes::table_stream_arn"
    );
    let rw = table.grant_read_write_data(&worker);
    assert!(!rw.is_empty() && rw.key_statements().is_empty());
}
