//! CloudFormation constructs: a stack set deploying a cfnkit stack to organizational units or accounts, its
//! rollout, the capabilities its template needs, and what it refuses.

mod constructs_support;

use std::collections::BTreeMap;

use cfnkit::constructs::cloudformation::{
    AccountFilterType, AutoDeploy, CallAs, Capability, Concurrency, RegionConcurrencyType,
    StackSet, StackSetOperation, StackSetPermissions, StackSetProps, StackSetTargets,
};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps};
use cfnkit::constructs::sns::{Topic, TopicProps};
use cfnkit::constructs::Construct;
use cfnkit::constructs::{ConstructError, Principal, Role, RoleProps};
use cfnkit::{App, Parameter, RawResource, Stack, Val};
use constructs_support::*;
use serde_json::{json, Value};

const OU: &str = "ou-ab12-34cd56ef";

/// The stack every account gets: an alert topic, named by a parameter.
fn baseline() -> (App, Stack) {
    let app = App::new();
    let s = app.stack("AccountBaseline");
    s.set_description("Account baseline: the alert topic");
    let name = s.add_parameter(
        "AlertsName",
        Parameter::string()
            .description("The alert topic's name")
            .default_value("alerts"),
    );
    Topic::new(
        &s,
        "Alerts",
        TopicProps {
            topic_name: Some(name.ref_()),
            ..Default::default()
        },
    )
    .unwrap();
    (app, s)
}

fn org_units() -> StackSetProps {
    StackSetProps {
        targets: StackSetTargets::organizational_units([OU]),
        regions: vec!["eu-west-1".into(), "eu-central-1".into()],
        ..Default::default()
    }
}

fn example() -> (App, StackSet) {
    let (_inner, template) = baseline();
    let app = App::new();
    let s = app.stack("Org");
    let set = StackSet::new(&s, "Baseline", &template, org_units()).unwrap();
    (app, set)
}

fn props_of(app: &App) -> Value {
    let t = template(app, "Org");
    resource(&t, "Baseline").clone()
}

/// The message of the error `new` returns, after checking that nothing was added to the stack.
fn error(template: &Stack, props: StackSetProps) -> String {
    let app = App::new();
    let s = app.stack("Org");
    s.add_raw("Keep", RawResource::new("AWS::SNS::Topic"));
    let e: ConstructError = StackSet::new(&s, "Baseline", template, props).unwrap_err();
    let t = template_of(&app);
    assert_eq!(
        t["Resources"].as_object().unwrap().len(),
        1,
        "nothing is added for props that fail"
    );
    e.to_string()
}

fn template_of(app: &App) -> Value {
    template(app, "Org")
}

#[test]
fn a_stack_set_deploys_its_template_stack_to_organizational_units_with_stated_defaults() {
    let (app, set) = example();
    let r = props_of(&app);
    assert_eq!(r["Type"], "AWS::CloudFormation::StackSet");
    // Deleting a stack set deletes its instances in every account: retained unless told otherwise.
    assert_eq!(r["DeletionPolicy"], "Retain");
    assert_eq!(r["UpdateReplacePolicy"], "Retain");
    let p = &r["Properties"];
    assert_eq!(p["StackSetName"], "Org-Baseline");
    assert_eq!(p["Description"], "Account baseline: the alert topic");
    assert_eq!(p["PermissionModel"], "SERVICE_MANAGED");
    assert_eq!(p["CallAs"], "SELF");
    assert_eq!(
        p["AutoDeployment"],
        json!({"Enabled": true, "RetainStacksOnAccountRemoval": true})
    );
    assert_eq!(p["ManagedExecution"], json!({"Active": true}));
    assert_eq!(
        p["OperationPreferences"],
        json!({
            "MaxConcurrentCount": 1, "FailureToleranceCount": 0, "RegionConcurrencyType": "SEQUENTIAL",
            "RegionOrder": ["eu-west-1", "eu-central-1"]
        })
    );
    assert_eq!(
        p["StackInstancesGroup"],
        json!([{
            "DeploymentTargets": {"OrganizationalUnitIds": [OU]},
            "Regions": ["eu-west-1", "eu-central-1"]
        }])
    );
    assert!(p.get("Capabilities").is_none() && p.get("Parameters").is_none());

    // The body is the template stack as synth writes it, on one line.
    let body = p["TemplateBody"].as_str().unwrap();
    assert_eq!(body, set.template_body());
    assert!(!body.contains('\n'));
    let (inner_app, _) = baseline();
    let inner: Value = serde_json::from_str(
        &cfnkit::synth::synth(&inner_app).unwrap().stacks[0]
            .template
            .to_json(),
    )
    .unwrap();
    assert_eq!(serde_json::from_str::<Value>(body).unwrap(), inner);
}

#[test]
fn capabilities_follow_the_templates_iam_resources() {
    let with_role = |role_name: Option<&str>| {
        let inner = App::new();
        let s = inner.stack("Roles");
        Role::new(
            &s,
            "Reader",
            Principal::service("lambda.amazonaws.com"),
            RoleProps {
                role_name: role_name.map(Val::from),
                ..Default::default()
            },
        )
        .unwrap();
        let app = App::new();
        let set = StackSet::new(&app.stack("Org"), "Roles", &s, org_units()).unwrap();
        (app, set.capabilities().to_vec())
    };
    let (_, none) = (App::new(), example().1.capabilities().to_vec());
    assert!(none.is_empty());
    let (app, unnamed) = with_role(None);
    assert_eq!(unnamed, [Capability::CapabilityIam]);
    assert_eq!(
        props_of_id(&app, "Roles")["Properties"]["Capabilities"],
        json!(["CAPABILITY_IAM"])
    );
    let (_, named) = with_role(Some("baseline-reader"));
    assert_eq!(named, [Capability::CapabilityNamedIam]);
}

fn props_of_id(app: &App, id: &str) -> Value {
    resource(&template_of(app), id).clone()
}

#[test]
fn self_managed_rollouts_take_accounts_percentages_region_order_and_parameters() {
    let (_inner, template) = baseline();
    let app = App::new();
    let s = app.stack("Org");
    StackSet::new(
        &s,
        "Baseline",
        &template,
        StackSetProps {
            stack_set_name: Some("account-baseline".into()),
            permissions: StackSetPermissions::SelfManaged {
                administration_role_arn: Some(
                    "arn:aws:iam::111122223333:role/StackSetAdmin".into(),
                ),
                execution_role_name: Some("StackSetExecution".into()),
            },
            targets: StackSetTargets::accounts(["111122223333", "444455556666"]),
            regions: vec![
                "eu-west-1".into(),
                "us-east-1".into(),
                "eu-central-1".into(),
            ],
            operation: StackSetOperation {
                max_concurrent: Concurrency::Percentage(50),
                failure_tolerance: Concurrency::Percentage(10),
                region_order: vec!["us-east-1".into()],
                region_concurrency: RegionConcurrencyType::Parallel,
            },
            parameters: BTreeMap::from([("AlertsName".to_owned(), Val::from("ops"))]),
            managed_execution: false,
            ..Default::default()
        },
    )
    .unwrap();
    let p = &props_of(&app)["Properties"];
    assert_eq!(p["StackSetName"], "account-baseline");
    assert_eq!(p["PermissionModel"], "SELF_MANAGED");
    assert_eq!(
        p["AdministrationRoleARN"],
        "arn:aws:iam::111122223333:role/StackSetAdmin"
    );
    assert_eq!(p["ExecutionRoleName"], "StackSetExecution");
    assert!(p.get("CallAs").is_none() && p.get("AutoDeployment").is_none());
    assert_eq!(p["ManagedExecution"], json!({"Active": false}));
    // Regions left out of region_order follow it, in the order given.
    assert_eq!(
        p["OperationPreferences"],
        json!({
            "MaxConcurrentPercentage": 50, "FailureTolerancePercentage": 10, "RegionConcurrencyType": "PARALLEL",
            "RegionOrder": ["us-east-1", "eu-west-1", "eu-central-1"]
        })
    );
    assert_eq!(
        p["StackInstancesGroup"][0]["DeploymentTargets"],
        json!({"Accounts": ["111122223333", "444455556666"]})
    );
    assert_eq!(
        p["Parameters"],
        json!([{"ParameterKey": "AlertsName", "ParameterValue": "ops"}])
    );
}

#[test]
fn organizational_units_combine_with_accounts_through_a_filter() {
    let (_inner, template) = baseline();
    let app = App::new();
    StackSet::new(
        &app.stack("Org"),
        "Baseline",
        &template,
        StackSetProps {
            targets: StackSetTargets {
                organizational_unit_ids: vec![OU.into(), "r-ab12".into()],
                accounts: vec!["111122223333".into()],
                account_filter: Some(AccountFilterType::Difference),
            },
            permissions: StackSetPermissions::ServiceManaged {
                auto_deploy: AutoDeploy::Disabled,
            },
            call_as: CallAs::DelegatedAdmin,
            ..org_units()
        },
    )
    .unwrap();
    let p = &props_of(&app)["Properties"];
    assert_eq!(p["CallAs"], "DELEGATED_ADMIN");
    assert_eq!(p["AutoDeployment"], json!({"Enabled": false}));
    assert_eq!(
        p["StackInstancesGroup"][0]["DeploymentTargets"],
        json!({"OrganizationalUnitIds": [OU, "r-ab12"], "Accounts": ["111122223333"], "AccountFilterType": "DIFFERENCE"})
    );
}

#[test]
fn bad_targets_regions_and_rollouts_are_all_named_with_their_fix() {
    let (_inner, template) = baseline();
    let e = error(
        &template,
        StackSetProps {
            targets: StackSetTargets {
                organizational_unit_ids: vec!["ou-12".into()],
                accounts: vec!["12345".into()],
                account_filter: None,
            },
            regions: vec!["eu-west-1".into(), "Europe".into()],
            operation: StackSetOperation {
                max_concurrent: Concurrency::Count(5),
                failure_tolerance: Concurrency::Count(1),
                region_order: vec!["us-east-1".into()],
                ..Default::default()
            },
            ..Default::default()
        },
    );
    for expected in [
        "Org/Baseline: ",
        "\"ou-12\" is not an organizational unit id",
        "\"12345\" is not an AWS account id (12 digits",
        "targets.accounts (12345) with service-managed permissions only narrow or widen",
        "set targets.account_filter to Some(AccountFilterType::Union)",
        "regions: \"Europe\" is not a region name like \"eu-west-1\"",
        "operation.region_order names \"us-east-1\", which is not in regions [eu-west-1, Europe]",
        "operation.max_concurrent Count(5) is more than failure_tolerance Count(1) + 1",
        "lower max_concurrent to Count(2) or raise failure_tolerance to Count(4)",
    ] {
        assert!(e.contains(expected), "{expected:?} not in: {e}");
    }

    let e = error(&template, StackSetProps::default());
    assert!(e.contains("give targets.organizational_unit_ids"), "{e}");
    assert!(e.contains("regions is empty: name the regions"), "{e}");

    let e = error(
        &template,
        StackSetProps {
            permissions: StackSetPermissions::SelfManaged {
                administration_role_arn: None,
                execution_role_name: None,
            },
            call_as: CallAs::DelegatedAdmin,
            operation: StackSetOperation {
                max_concurrent: Concurrency::Percentage(0),
                failure_tolerance: Concurrency::Percentage(101),
                ..Default::default()
            },
            ..org_units()
        },
    );
    for expected in [
        "self-managed permissions deploy to listed accounts, not organizational units (ou-ab12-34cd56ef)",
        "call_as DELEGATED_ADMIN applies to service-managed permissions only",
        "max_concurrent must be a Percentage from 1 to 100, got Percentage(0)",
        "failure_tolerance must be a Percentage from 0 to 100, got Percentage(101)",
    ] {
        assert!(e.contains(expected), "{expected:?} not in: {e}");
    }
}

#[test]
fn parameters_must_match_the_templates() {
    let inner = App::new();
    let s = inner.stack("Needs");
    s.add_parameter("Team", Parameter::string());
    Topic::new(&s, "Alerts", TopicProps::default()).unwrap();
    let e = error(
        &s,
        StackSetProps {
            parameters: BTreeMap::from([("Tema".to_owned(), Val::from("ops"))]),
            ..org_units()
        },
    );
    assert!(
        e.contains("parameters: \"Tema\" is not a parameter of the template (stack Needs), whose parameters are: [Team]"),
        "{e}"
    );
    assert!(
        e.contains("the template's parameter Team has no default: give its value in parameters"),
        "{e}"
    );
}

#[test]
fn the_template_is_judged_by_synth_and_the_rule_pack() {
    let inner = App::new();
    let s = inner.stack("Logs");
    s.add_raw("Forever", RawResource::new("AWS::Logs::LogGroup"));
    let e = error(&s, org_units());
    assert!(
        e.contains("its template, stack Logs, is not one synth accepts"),
        "{e}"
    );
    assert!(e.contains(cfnkit::rules::CFNKIT_LOG1.id()), "{e}");
}

#[test]
fn a_template_over_the_template_body_limit_names_the_limit_and_the_fix() {
    let inner = App::new();
    let s = inner.stack("Big");
    for i in 0..200 {
        Topic::new(
            &s,
            &format!("Topic{i}"),
            TopicProps {
                display_name: Some("x".repeat(90)),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let e = error(&s, org_units());
    assert!(
        e.contains("over CloudFormation's limit of 51,200 bytes"),
        "{e}"
    );
    assert!(e.contains("split the stack into two stack sets"), "{e}");
}

#[test]
fn cfnkit_assets_cannot_reach_the_target_accounts() {
    let inner = App::new();
    let s = inner.stack("Fn");
    let f = Function::new(
        &s,
        "Handler",
        Code::cargo_bin("handlers", "baseline"),
        FunctionProps::default(),
    )
    .unwrap();
    cfnkit::rules::suppress_only(
        f.role().handle(),
        &cfnkit::rules::IAM5,
        &["Resource::*"],
        "X-Ray's PutTraceSegments and PutTelemetryRecords accept only Resource `*`",
    );
    let e = error(&s, org_units());
    assert!(
        e.contains("has Lambda code from cfnkit assets (Handler)"),
        "{e}"
    );
}

#[test]
fn a_stack_cannot_deploy_itself_as_a_stack_set() {
    let app = App::new();
    let s = app.stack("Org");
    Topic::new(&s, "Alerts", TopicProps::default()).unwrap();
    let e = StackSet::new(&s, "Baseline", &s, org_units()).unwrap_err();
    assert!(
        e.to_string().contains("cannot be the stack it is in (Org)"),
        "{e}"
    );
}

#[test]
fn example_stack_snapshot_and_both_templates_pass_cfn_lint_and_checkov() {
    let (app, set) = example();
    insta::assert_snapshot!(cfnkit::synth::synth(&app)
        .unwrap()
        .stack("Org")
        .unwrap()
        .template
        .to_yaml());
    assert_rules_clean(&app);
    lint_or_skip(&app);
    // No checkov on the outer template: checkov has no check for AWS::CloudFormation::StackSet, so a template of
    // one stack set gives it nothing to run (the helper rightly fails a run of no checks). The inner one has.
    // The template every account gets, as CloudFormation will read it from TemplateBody.
    let inner = [("Baseline.stackset.template.json", set.template_body())];
    lint_bodies_or_skip(&inner);
    checkov_bodies_or_skip(&inner);
}

#[test]
fn a_template_stack_made_in_the_deploying_app_is_refused_at_synth() {
    let app = App::new();
    let template = app.stack("AccountBaseline");
    Topic::new(&template, "Alerts", TopicProps::default()).unwrap();
    StackSet::new(&app.stack("Org"), "Baseline", &template, org_units()).unwrap();
    let e = cfnkit::synth::synth(&app).unwrap_err().to_string();
    assert!(
        e.contains("stack AccountBaseline: is the template of stack set Org/Baseline"),
        "{e}"
    );
    assert!(e.contains("make it in an App of its own"), "{e}");
    // Its own app, which holds only the template, still synthesizes it (tests of the template read it there).
    let inner = App::new();
    let template = inner.stack("AccountBaseline");
    Topic::new(&template, "Alerts", TopicProps::default()).unwrap();
    StackSet::new(&App::new().stack("Org"), "Baseline", &template, org_units()).unwrap();
    cfnkit::synth::synth_checked(&inner).unwrap();
}
