//! Gradual Lambda deploys (`Function::deploy_gradually`): the version, the alias with CodeDeploy's update policy,
//! the deployment group rolling back on alarms, and every trigger of the function invoking the alias.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::apigateway::{RestApi, RestApiProps};
use cfnkit::constructs::apigatewayv2::{
    HttpApi, HttpApiProps, HttpLambdaIntegration, RouteOptions,
};
use cfnkit::constructs::cloudwatch::{Alarm, AlarmProps};
use cfnkit::constructs::codedeploy::{DeployGraduallyProps, LambdaDeploymentConfig};
use cfnkit::constructs::events::{Rule, RuleProps, Schedule, Target};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps, SqsEventSource};
use cfnkit::constructs::sns::{Subscription, Topic, TopicProps};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::{Construct, ConstructError};
use cfnkit::{App, RemovalPolicy, Scope};
use constructs_support::*;
use serde_json::{json, Value};

fn function(scope: &Scope, id: &str) -> Function {
    Function::new(
        scope,
        id,
        Code::cargo_bin("order-handlers", "order_api"),
        FunctionProps {
            timeout: Some(Duration::from_secs(10)),
            reserved_concurrency: Some(5),
            ..Default::default()
        },
    )
    .unwrap()
}

/// A function as checkov and the rule pack want it: environment and logs under `key`, and the reasons for what
/// the example leaves out.
fn hardened_function(scope: &Scope, id: &str, key: &Key) -> Function {
    let f = Function::new(
        scope,
        id,
        Code::cargo_bin("order-handlers", "order_api"),
        FunctionProps {
            timeout: Some(Duration::from_secs(10)),
            reserved_concurrency: Some(5),
            environment_encryption: Some(key),
            log_encryption_key: Some(key),
            ..Default::default()
        },
    )
    .unwrap();
    cfnkit::rules::skip_checkov(
        f.handle(),
        "CKV_AWS_117",
        "the example calls no VPC resource",
    );
    cfnkit::rules::skip_checkov(
        f.handle(),
        "CKV_AWS_116",
        "invoked synchronously or by an event source mapping",
    );
    f
}

/// A function deployed gradually (a custom canary, an error alarm, a pre-traffic hook), then wired to one
/// trigger of every kind: an SQS event source, a REST method, an HTTP route, a rule target and an SNS
/// subscription.
fn example(app: &App) -> Function {
    let s = app.stack("Gradual");
    let scope = s.scope();
    let key = Key::new(&scope, "Key", KeyProps::default()).unwrap();
    let ops = Topic::new(
        &scope,
        "Ops",
        TopicProps {
            master_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let mut f = hardened_function(&scope, "Api", &key);
    let hook = hardened_function(&scope, "PreTraffic", &key);
    let errors = Alarm::new(
        &scope,
        "ApiErrors",
        &f.metric_errors(),
        1.0,
        AlarmProps {
            description: Some("The order API failed: CodeDeploy rolls a deployment back".into()),
            ..Default::default()
        },
    )
    .unwrap();
    errors.add_alarm_action(&ops).unwrap();
    f.deploy_gradually(DeployGraduallyProps {
        config: LambdaDeploymentConfig::Canary {
            percentage: 20,
            interval: Duration::from_secs(7 * 60),
        },
        alarms: vec![&errors],
        pre_traffic_hook: Some(&hook),
        ..Default::default()
    })
    .unwrap();

    let queue = Queue::new(
        &scope,
        "Work",
        QueueProps {
            visibility_timeout: Some(Duration::from_secs(60)),
            dead_letter: DeadLetter::Create {
                max_receive_count: 3,
            },
            retention_period: Some(Duration::from_secs(4 * 86_400)),
            encryption: QueueEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    // Explicit, so that cfn-lint's informational checks (I3011, I3013) have nothing to say about the example.
    let dlq = &queue.dead_letter_queue().unwrap().queue;
    for q in [&queue, dlq] {
        q.apply_removal_policy(RemovalPolicy::Delete);
        q.resource_mut().message_retention_period = Some(345_600.into());
    }
    f.add_event_source(SqsEventSource::new(&queue, Default::default()))
        .unwrap();
    let rest = RestApi::new(
        &scope,
        "Rest",
        RestApiProps {
            access_log_encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    rest.add_method("GET", "/orders/{id}", &f, Default::default())
        .unwrap();
    let http = HttpApi::new(
        &scope,
        "Http",
        HttpApiProps {
            access_log_encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    http.add_route(
        "POST /orders",
        HttpLambdaIntegration::new(&f, Default::default()),
        RouteOptions::default(),
    )
    .unwrap();
    let rule = Rule::new(
        &scope,
        "Nightly",
        RuleProps {
            schedule: Some(Schedule::Rate(Duration::from_secs(86_400))),
            ..Default::default()
        },
    )
    .unwrap();
    rule.add_target(Target::lambda(&f, Default::default()))
        .unwrap();
    ops.add_subscription(Subscription::lambda(&f, Default::default()))
        .unwrap();
    f
}

/// Whether `v` references the resource `logical_id` (`Ref`, `Fn::GetAtt`, or a `${Id}` of an `Fn::Sub` that is not
/// one of the sub's own variables).
fn refers_to(v: &Value, logical_id: &str) -> bool {
    let in_sub_template = |template: &str| {
        template.contains(&format!("${{{logical_id}}}"))
            || template.contains(&format!("${{{logical_id}."))
    };
    match v {
        Value::Object(m) => match (m.get("Ref"), m.get("Fn::GetAtt"), m.get("Fn::Sub")) {
            (Some(r), _, _) => r == logical_id,
            (_, Some(a), _) => a[0] == logical_id,
            (_, _, Some(Value::String(t))) => in_sub_template(t),
            (_, _, Some(Value::Array(a))) => {
                let own = a[1].get(logical_id).is_some();
                (!own && a[0].as_str().is_some_and(in_sub_template)) || refers_to(&a[1], logical_id)
            }
            _ => m.values().any(|x| refers_to(x, logical_id)),
        },
        Value::Array(a) => a.iter().any(|x| refers_to(x, logical_id)),
        _ => false,
    }
}

#[test]
fn every_trigger_of_a_gradually_deployed_function_invokes_its_alias() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Gradual");
    let trigger_types = [
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Permission",
        "AWS::Events::Rule",
        "AWS::ApiGateway::Method",
        "AWS::ApiGatewayV2::Integration",
        "AWS::SNS::Subscription",
    ];
    let mut seen = Vec::new();
    for ty in trigger_types {
        for id in of_type(&t, ty) {
            let r = resource(&t, &id);
            assert!(
                refers_to(r, "ApiAlias"),
                "{id} ({ty}) does not invoke the alias: {r:#}"
            );
            assert!(
                !refers_to(r, "Api"),
                "{id} ({ty}) invokes the function directly, bypassing the deployment: {r:#}"
            );
            seen.push(ty);
        }
    }
    for ty in trigger_types {
        assert!(seen.contains(&ty), "the example has no {ty}");
    }
}

#[test]
fn the_alias_is_shifted_by_codedeploy_with_rollback_on_the_alarm() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Gradual");
    let alias = resource(&t, "ApiAlias");
    assert_eq!(alias["Properties"]["Name"], "live");
    assert_eq!(
        alias["Properties"]["FunctionVersion"],
        json!({"Fn::GetAtt": ["ApiVersion", "Version"]})
    );
    assert_eq!(
        alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"],
        json!({
            "ApplicationName": {"Ref": "ApiDeploymentApplication"},
            "DeploymentGroupName": {"Ref": "ApiDeployment"},
            "BeforeAllowTrafficHook": {"Ref": "PreTraffic"},
        })
    );
    let group = &resource(&t, "ApiDeployment")["Properties"];
    assert_eq!(
        group["DeploymentConfigName"],
        json!({"Ref": "ApiDeploymentConfig"})
    );
    assert_eq!(
        group["AlarmConfiguration"]["Alarms"],
        json!([{"Name": {"Ref": "ApiErrors"}}])
    );
    assert_eq!(
        group["AutoRollbackConfiguration"],
        json!({"Enabled": true, "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]})
    );
    let config = &resource(&t, "ApiDeploymentConfig")["Properties"]["TrafficRoutingConfig"];
    assert_eq!(
        config["TimeBasedCanary"],
        json!({"CanaryInterval": 7, "CanaryPercentage": 20})
    );
    // Least privilege: the alias and the function, the alarm, the hook; no managed policy.
    let role = role_statements(&t, "ApiDeploymentServiceRole");
    assert!(allows(&role, "lambda:UpdateAlias"));
    assert!(allows(&role, "cloudwatch:DescribeAlarms"));
    assert!(allows(&role, "lambda:InvokeFunction"));
    assert!(resource(&t, "ApiDeploymentServiceRole")["Properties"]["ManagedPolicyArns"].is_null());
    assert!(role.iter().all(|s| !s.to_string().contains("\"*\"")));
    let hook = role_statements(&t, "PreTrafficServiceRole");
    assert!(allows(
        &hook,
        "codedeploy:PutLifecycleEventHookExecutionStatus"
    ));
}

#[test]
fn a_predefined_configuration_needs_no_resource() {
    let app = App::new();
    let s = app.stack("Predefined");
    let mut f = function(&s.scope(), "Api");
    f.deploy_gradually(DeployGraduallyProps {
        config: LambdaDeploymentConfig::LINEAR_10_PERCENT_EVERY_1_MINUTE,
        ..Default::default()
    })
    .unwrap();
    let t = template(&app, "Predefined");
    assert!(of_type(&t, "AWS::CodeDeploy::DeploymentConfig").is_empty());
    let group = &resource(&t, "ApiDeployment")["Properties"];
    assert_eq!(
        group["DeploymentConfigName"],
        "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
    );
    assert_eq!(
        group["AutoRollbackConfiguration"]["Events"],
        json!(["DEPLOYMENT_FAILURE"])
    );
}

#[test]
fn a_trigger_wired_before_deploy_gradually_is_refused() {
    let app = App::new();
    let s = app.stack("Late");
    let scope = s.scope();
    let mut f = function(&scope, "Api");
    let rest = RestApi::new(&scope, "Rest", RestApiProps::default()).unwrap();
    rest.add_method("GET", "/orders", &f, Default::default())
        .unwrap();
    let e = f.deploy_gradually(Default::default()).unwrap_err();
    assert!(matches!(e, ConstructError::Conflict { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("call deploy_gradually right after Function::new"),
        "{e}"
    );
}

#[test]
fn bad_configurations_and_alias_names_are_refused_with_the_fix() {
    let app = App::new();
    let s = app.stack("Bad");
    let mut f = function(&s.scope(), "Api");
    let e = f
        .deploy_gradually(DeployGraduallyProps {
            config: LambdaDeploymentConfig::Linear {
                percentage: 100,
                interval: Duration::from_secs(60),
            },
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("got 100"), "{e}");
    assert!(e.to_string().contains("AllAtOnce"), "{e}");
    let e = f
        .deploy_gradually(DeployGraduallyProps {
            config: LambdaDeploymentConfig::Canary {
                percentage: 10,
                interval: Duration::from_secs(90),
            },
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("whole number of minutes"), "{e}");
    let e = f
        .deploy_gradually(DeployGraduallyProps {
            alias_name: "42".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("\"42\""), "{e}");
    // Nothing was added for the refused props.
    let t = template(&app, "Bad");
    assert!(of_type(&t, "AWS::Lambda::Alias").is_empty());
    assert_eq!(f.path(), "Bad/Api");
}

#[test]
fn the_version_names_the_code_so_new_code_publishes_a_new_version() {
    let app = App::new();
    let s = app.stack("Version");
    let mut f = function(&s.scope(), "Api");
    f.deploy_gradually(Default::default()).unwrap();
    let t = template(&app, "Version");
    let description = resource(&t, "ApiVersion")["Properties"]["Description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        description.starts_with("code assets/order_api/__CFNKIT_ASSET_HASH__.zip, configuration "),
        "{description}"
    );
}

#[test]
fn example_stack_snapshot() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Gradual");
    insta::assert_snapshot!(
        "codedeploy_example",
        serde_json::to_string_pretty(&t).unwrap()
    );
}

#[test]
fn example_stack_passes_the_rule_pack() {
    let app = App::new();
    example(&app);
    assert_rules_clean(&app);
}

#[test]
fn example_stack_passes_cfn_lint() {
    let app = App::new();
    example(&app);
    lint_or_skip(&app);
}

#[test]
fn example_stack_passes_checkov() {
    let app = App::new();
    example(&app);
    checkov_or_skip(&app);
}
