//! Secrets Manager constructs: generated values, customer-managed keys, rotation, grants (with the key through
//! Secrets Manager only), checked with cfn-lint, checkov and the rule pack.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps, FunctionRef};
use cfnkit::constructs::secretsmanager::{GenerateSecretString, Secret, SecretProps};
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::{fns, App};
use constructs_support::*;
use serde_json::{json, Value};

fn role(s: &cfnkit::Stack, id: &str) -> Role {
    Role::new(
        &s.scope(),
        id,
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap()
}

fn rotator() -> FunctionRef {
    Function::from_arn(
        "Rotator",
        fns::sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:rotator"),
    )
    .unwrap()
}

/// A database credential (JSON, encrypted with a key, rotated monthly) read by one role and rotated by another.
fn example() -> App {
    let app = App::new();
    let s = app.stack("Secrets");
    let key = Key::new(&s.scope(), "SecretKey", KeyProps::default()).unwrap();
    let secret = Secret::new(
        &s.scope(),
        "DbCredentials",
        SecretProps {
            description: Some("orders database user".into()),
            encryption_key: Some(&key),
            generate_secret_string: GenerateSecretString {
                exclude_characters: Some("/@\" ".into()),
                length: Some(40),
                ..GenerateSecretString::json(json!({"username": "orders"}), "password")
            },
            ..Default::default()
        },
    )
    .unwrap();
    let reader = role(&s, "Reader");
    secret.grant_read(&reader);
    let rotation = role(&s, "RotationRole");
    secret.grant_rotate(&rotation);
    secret
        .add_rotation_schedule(&rotator(), Duration::from_secs(30 * 86_400))
        .unwrap();
    app
}

fn via_secrets_manager() -> Value {
    json!({"StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}})
}

#[test]
fn a_secret_is_generated_and_retained_by_default() {
    let app = App::new();
    let s = app.stack("Secrets");
    Secret::new(&s.scope(), "Token", SecretProps::default()).unwrap();
    let t = template(&app, "Secrets");
    let r = resource(&t, "Token");
    assert_eq!(r["DeletionPolicy"], "Retain");
    assert_eq!(r["UpdateReplacePolicy"], "Retain");
    assert_eq!(
        r["Properties"],
        json!({"GenerateSecretString": {"RequireEachIncludedType": true}}),
        "no value in the template and no key: Secrets Manager's own key (checkov CKV_AWS_149 wants a CMK)"
    );
}

#[test]
fn a_json_secret_is_the_template_with_a_generated_field() {
    let t = template(&example(), "Secrets");
    let p = &resource(&t, "DbCredentials")["Properties"];
    assert_eq!(
        p["GenerateSecretString"],
        json!({
            "SecretStringTemplate": "{\"username\":\"orders\"}",
            "GenerateStringKey": "password",
            "PasswordLength": 40,
            "ExcludeCharacters": "/@\" ",
            "RequireEachIncludedType": true
        })
    );
    assert_eq!(p["KmsKeyId"], json!({"Fn::GetAtt": ["SecretKey", "Arn"]}));
}

#[test]
fn grant_read_gives_the_secret_and_the_key_through_secrets_manager_only() {
    let t = template(&example(), "Secrets");
    let stmts = role_statements(&t, "Reader");
    assert_eq!(
        stmts,
        vec![
            json!({
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": {"Ref": "DbCredentials"}
            }),
            json!({
                "Effect": "Allow", "Action": "kms:Decrypt",
                "Resource": {"Fn::GetAtt": ["SecretKey", "Arn"]},
                "Condition": via_secrets_manager()
            })
        ]
    );
}

#[test]
fn grant_write_and_grant_rotate_extend_to_encrypting_with_the_key() {
    let app = App::new();
    let s = app.stack("Secrets");
    let key = Key::new(&s.scope(), "K", KeyProps::default()).unwrap();
    let secret = Secret::new(
        &s.scope(),
        "S",
        SecretProps {
            encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let writer = role(&s, "Writer");
    secret.grant_write(&writer);
    let t = template(&app, "Secrets");
    let stmts = role_statements(&t, "Writer");
    assert!(allows(&stmts, "secretsmanager:PutSecretValue"));
    let key_stmt = stmts
        .iter()
        .find(|s| s["Resource"] == json!({"Fn::GetAtt": ["K", "Arn"]}))
        .expect("the write grant includes the key");
    assert_eq!(
        key_stmt["Action"],
        json!(["kms:GenerateDataKey", "kms:Decrypt"])
    );
    assert_eq!(key_stmt["Condition"], via_secrets_manager());

    let t = template(&example(), "Secrets");
    let rot = role_statements(&t, "RotationRole");
    for a in [
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "kms:GenerateDataKey",
    ] {
        assert!(allows(&rot, a), "{a}: {rot:#?}");
    }
}

#[test]
fn a_secret_without_a_key_grants_no_key_usage() {
    let app = App::new();
    let s = app.stack("Secrets");
    let secret = Secret::new(&s.scope(), "S", SecretProps::default()).unwrap();
    let r = role(&s, "Reader");
    secret.grant_read(&r);
    let t = template(&app, "Secrets");
    let stmts = role_statements(&t, "Reader");
    assert_eq!(stmts.len(), 1, "{stmts:#?}");
    assert!(!stmts[0]["Action"].to_string().contains("kms:"));
}

#[test]
fn rotation_adds_a_schedule_after_the_functions_permission() {
    let t = template(&example(), "Secrets");
    let schedule = resource(&t, "DbCredentialsRotationSchedule");
    assert_eq!(schedule["Type"], "AWS::SecretsManager::RotationSchedule");
    assert_eq!(
        schedule["DependsOn"],
        json!(["DbCredentialsRotationPermission"])
    );
    assert_eq!(
        schedule["Properties"],
        json!({
            "SecretId": {"Ref": "DbCredentials"},
            "RotationLambdaARN": {"Fn::Sub":
                "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:rotator"},
            "RotationRules": {"AutomaticallyAfterDays": 30}
        })
    );
    let p = &resource(&t, "DbCredentialsRotationPermission")["Properties"];
    assert_eq!(p["Principal"], "secretsmanager.amazonaws.com");
    assert_eq!(p["Action"], "lambda:InvokeFunction");
    assert_eq!(p["SourceArn"], json!({"Ref": "DbCredentials"}));
}

#[test]
fn a_rotation_function_in_the_same_stack_is_granted_and_wired_without_a_cycle() {
    let app = App::new();
    let s = app.stack("Secrets");
    let key = Key::new(&s.scope(), "K", KeyProps::default()).unwrap();
    let secret = Secret::new(
        &s.scope(),
        "ApiToken",
        SecretProps {
            encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let f = Function::new(
        &s.scope(),
        "Rotator",
        Code::asset("rotator"),
        FunctionProps::default(),
    )
    .unwrap();
    secret.grant_rotate(&f);
    secret
        .add_rotation_schedule(&f, Duration::from_secs(7 * 86_400))
        .unwrap();
    let t = template(&app, "Secrets");
    assert_eq!(
        resource(&t, "ApiTokenRotationSchedule")["Properties"]["RotationLambdaARN"],
        json!({"Fn::GetAtt": ["Rotator", "Arn"]})
    );
    assert!(allows(
        &role_statements(&t, "RotatorServiceRole"),
        "secretsmanager:UpdateSecretVersionStage"
    ));
    // cfn-lint's E3004 reports dependency cycles.
    lint_or_skip(&app);
}

#[test]
fn bad_values_are_errors_naming_the_value_and_the_fix() {
    let app = App::new();
    let s = app.stack("Secrets");
    let err = |id: &str, g: GenerateSecretString| {
        Secret::new(
            &s.scope(),
            id,
            SecretProps {
                generate_secret_string: g,
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        err(
            "A",
            GenerateSecretString {
                template: Some(json!({"username": "orders"})),
                ..Default::default()
            }
        ),
        "Secrets/A: generate_secret_string needs both a template and a key, or neither; got a template without a key"
    );
    assert_eq!(
        err(
            "B",
            GenerateSecretString::json(json!({"password": "x"}), "password")
        ),
        "Secrets/B: generate_secret_string.template already has the field \"password\" the password would be \
         generated into: remove it from the template or choose another key"
    );
    assert_eq!(
        err("C", GenerateSecretString::json(json!(["x"]), "password")),
        "Secrets/C: generate_secret_string.template must be a JSON object, got [\"x\"]"
    );
    assert_eq!(
        err(
            "D",
            GenerateSecretString {
                length: Some(5000),
                ..Default::default()
            }
        ),
        "Secrets/D: generate_secret_string.length must be from 1 to 4096, got 5000"
    );

    let secret = Secret::new(&s.scope(), "E", SecretProps::default()).unwrap();
    assert_eq!(
        secret
            .add_rotation_schedule(&rotator(), Duration::from_secs(1001 * 86_400))
            .unwrap_err()
            .to_string(),
        "Secrets/E: rotation interval must be a whole number of days from 1 to 1000, got 1001 days"
    );
    secret
        .add_rotation_schedule(&rotator(), Duration::from_secs(86_400))
        .unwrap();
    assert_eq!(
        secret
            .add_rotation_schedule(&rotator(), Duration::from_secs(86_400))
            .unwrap_err()
            .to_string(),
        "Secrets/E: the secret already has a rotation schedule: a secret rotates on one schedule only"
    );
}

#[test]
fn secretsmanager_example() {
    let app = example();
    insta::assert_snapshot!(cfnkit::synth::synth(&app)
        .unwrap()
        .stack("Secrets")
        .unwrap()
        .template
        .to_yaml());
    lint_or_skip(&app);
    checkov_or_skip(&app);
    assert_rules_clean(&app);
}
