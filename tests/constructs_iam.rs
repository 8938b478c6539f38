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
