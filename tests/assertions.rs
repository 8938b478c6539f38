//! `cfnkit::assertions`: templates checked as synth checks them, every matcher on a passing and a failing value,
//! captures, and the failure messages (one as a snapshot).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use cfnkit::assertions::{check, Capture, Match, Template, TemplateError, Templates};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps, Tracing};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueProps};
use cfnkit::{App, Output, Parameter, RawResource, RemovalPolicy, Value};
use serde_json::json;

/// A queue with its dead-letter queue, a retained SSM parameter holding JSON, a parameter and an output: all
/// clean under the rule pack.
fn shop() -> App {
    let app = App::new();
    let s = app.stack("Shop");
    Queue::new(
        &s.scope(),
        "Orders",
        QueueProps {
            dead_letter: DeadLetter::Create {
                max_receive_count: 3,
            },
            visibility_timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        },
    )
    .unwrap();
    let env = s.add_parameter(
        "Env",
        Parameter::string()
            .allowed_values(["dev", "prod"])
            .default_value("dev"),
    );
    let setting = s.add_raw(
        "Setting",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Type", "String")
            .prop("Value", r#"{"retries":3,"channels":["email","sms"]}"#)
            .prop("Tags", Value::from(json!({"team": "shop"})))
            .prop("Description", env.ref_()),
    );
    setting.apply_removal_policy(RemovalPolicy::Retain);
    setting.add_metadata("owner", "team-shop");
    s.add_output(
        "SettingName",
        Output::new(setting.ref_()).description("the setting's name"),
    );
    app
}

fn template() -> Template {
    Template::from_stack(&shop(), "Shop").unwrap()
}

/// The message an assertion panics with.
fn failure(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the assertion should fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a panic with a message")
}

#[test]
fn a_template_is_refused_when_the_rule_pack_finds_errors_as_synth_would_refuse_it() {
    let app = App::new();
    // Without a dead-letter queue: SQS3, an error of the rule pack.
    Queue::new(
        &app.stack("Bare").scope(),
        "Jobs",
        QueueProps {
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )
    .unwrap();
    // Plain synth accepts it: a snapshot test on it alone would pass.
    cfnkit::synth::synth(&app).unwrap();
    let e = Template::from_stack(&app, "Bare").unwrap_err();
    assert!(matches!(e, TemplateError::Rules { .. }), "{e:?}");
    let message = e.to_string();
    assert!(
        message.starts_with("the rule pack found 1 error(s), so `synth` would write nothing:\n"),
        "{message}"
    );
    assert!(
        message.contains(
            "error[SQS3] stack Bare, Bare/Jobs/Resource (Jobs): the queue has no dead-letter queue"
        ),
        "{message}"
    );
    assert!(message.contains(" Fix: "), "the fix is named: {message}");
    assert!(Templates::from_app(&app).is_err());
}

#[test]
fn a_template_is_refused_when_synth_fails_or_the_stack_is_unknown() {
    let app = App::new();
    app.stack("Empty");
    let e = Template::from_stack(&app, "Empty").unwrap_err();
    assert!(matches!(e, TemplateError::Synth(_)), "{e:?}");

    let e = Template::from_stack(&shop(), "Shopp")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "no stack named \"Shopp\" in this app; its stacks are: Shop"
    );
    let templates = Templates::from_app(&shop()).unwrap();
    assert_eq!(templates.stack("Shop").stack_name(), "Shop");
    let m = failure(|| {
        templates.stack("Nope");
    });
    assert_eq!(
        m,
        "no stack named \"Nope\" in this app; its stacks are: Shop"
    );
}

#[test]
fn resource_count_is_counts_one_type_and_names_what_it_found() {
    let t = template();
    t.resource_count_is("AWS::SQS::Queue", 2);
    t.resource_count_is("AWS::Lambda::Function", 0);
    let m = failure(|| t.resource_count_is("AWS::SQS::Queue", 1));
    assert_eq!(
        m,
        "stack Shop: expected 1 resource(s) of type AWS::SQS::Queue, found 2: Orders, OrdersDlq"
    );
    let m = failure(|| t.resource_count_is("AWS::SQS::queue", 1));
    assert!(
        m.contains(
            "found 0 (did you mean AWS::SQS::Queue?); its resource types are: AWS::SQS::Queue (2),"
        ),
        "{m}"
    );
}

#[test]
fn literal_patterns_match_object_like_at_every_depth_and_arrays_element_by_element() {
    let t = template();
    // Only the keys named, nested too.
    t.has_resource_properties(
        "AWS::SQS::Queue",
        json!({"RedrivePolicy": {"maxReceiveCount": 3}}),
    );
    t.has_resource_properties("AWS::SQS::Queue", json!({}));
    // Numbers by value.
    t.has_resource_properties("AWS::SQS::Queue", json!({"VisibilityTimeout": 60.0}));
    let m = failure(|| {
        t.has_resource_properties("AWS::SQS::Queue", json!({"VisibilityTimeout": "60"}));
    });
    assert!(
        m.contains(
            "at /Properties/VisibilityTimeout: expected string \"60\" but received number 60"
        ),
        "{m}"
    );
    let m = failure(|| {
        t.has_resource_properties("AWS::SNS::Topic", json!({}));
    });
    assert!(
        m.starts_with("stack Shop: no resource of type AWS::SNS::Topic; its resource types are:"),
        "{m}"
    );
}

#[test]
fn has_resource_sees_deletion_policy_and_metadata_and_has_resource_with_id_names_one() {
    let t = template();
    t.has_resource(
        "AWS::SSM::Parameter",
        json!({"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Metadata": {"owner": "team-shop"}}),
    );
    // A queue is deleted with the stack on purpose, and says so.
    t.has_resource_with_id(
        "Orders",
        json!({"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete"}),
    );
    let m = failure(|| t.has_resource_with_id("Orders", json!({"DeletionPolicy": "Retain"})));
    assert!(
        m.starts_with(
            "stack Shop: resource Orders does not match the pattern, with 1 failure:\n  at /DeletionPolicy: expected \
             \"Retain\" but received \"Delete\"\nOrders is:\n{"
        ),
        "{m}"
    );
    let m = failure(|| {
        t.resource("orders");
    });
    assert!(
        m.starts_with("stack Shop: no resource orders (did you mean Orders? logical IDs are case-sensitive); its resources: "),
        "{m}"
    );
}

#[test]
fn find_resources_returns_the_matching_ones_by_logical_id() {
    let t = template();
    let all: Vec<&str> = t
        .find_resources("AWS::SQS::Queue", Match::any_value())
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(all, ["Orders", "OrdersDlq"]);
    let with_dlq = t.find_resources(
        "AWS::SQS::Queue",
        json!({"Properties": {"RedrivePolicy": Match::any_value()}}),
    );
    assert_eq!(with_dlq.len(), 1);
    assert_eq!(with_dlq[0].0, "Orders");
    assert_eq!(with_dlq[0].1["Properties"]["VisibilityTimeout"], 60);
    assert!(t
        .find_resources(
            "AWS::SQS::Queue",
            json!({"Properties": {"FifoQueue": true}})
        )
        .is_empty());
}

#[test]
fn outputs_and_parameters_are_matched_by_name_or_any() {
    let t = template();
    t.has_output(
        "SettingName",
        json!({"Value": {"Ref": "Setting"}, "Description": Match::string_containing("setting")}),
    );
    t.has_output("*", json!({"Value": {"Ref": "Setting"}}));
    t.has_parameter(
        "Env",
        json!({"Type": "String", "AllowedValues": Match::array_with(["prod"]), "Default": "dev"}),
    );
    assert_eq!(t.find_parameters("*", json!({"Type": "String"})).len(), 1);
    assert_eq!(
        t.find_outputs("*", json!({"Export": Match::any_value()}))
            .len(),
        0
    );
    let m = failure(|| t.has_output("Missing", json!({})));
    assert_eq!(m, "stack Shop: no output Missing; its outputs: SettingName");
    let m = failure(|| t.has_parameter("Env", json!({"Default": "prod"})));
    assert!(
        m.starts_with(
            "stack Shop: no parameter Env matches the pattern.\nThe closest is Env, with 1 failure:\n  at /Default: \
             expected \"prod\" but received \"dev\""
        ),
        "{m}"
    );
}

#[test]
fn object_equals_and_exact_refuse_other_keys() {
    let v = json!({"a": 1, "b": {"c": 2, "d": 3}});
    check(json!({"b": {"c": 2}}), &v).unwrap();
    check(
        Match::object_equals(json!({"a": 1, "b": {"c": 2, "d": 3}})),
        &v,
    )
    .unwrap();
    let e = check(Match::object_equals(json!({"a": 1, "b": {"c": 2}})), &v).unwrap_err();
    assert_eq!(
        e.to_string(),
        "with 1 failure:\n  at /b/d: unexpected key, with value 3"
    );
    let e = check(Match::exact(json!({"a": 1})), &v).unwrap_err();
    assert_eq!(e.failures.len(), 1);
    assert_eq!(e.failures[0].path, "/b");
    check(Match::exact(json!([1, 2])), &json!([1, 2])).unwrap();
    let e = check(Match::exact(json!([1, 2])), &json!([1, 2, 3])).unwrap_err();
    assert_eq!(
        e.failures[0].message,
        "expected an array of 2 element(s) but received 3: [1,2,3]"
    );
    // A matcher inside an exact pattern still applies.
    check(
        Match::exact(json!({"a": Match::any_value(), "b": Match::any_value()})),
        &v,
    )
    .unwrap();
}

#[test]
fn array_with_finds_the_elements_in_order_anywhere_in_the_array() {
    let v = json!({"list": [{"k": 1, "x": 0}, {"k": 2}, {"k": 3}]});
    check(
        json!({"list": Match::array_with([json!({"k": 1}), json!({"k": 3})])}),
        &v,
    )
    .unwrap();
    check(
        json!({"list": Match::array_with(Vec::<serde_json::Value>::new())}),
        &v,
    )
    .unwrap();
    let e = check(
        json!({"list": Match::array_with([json!({"k": 3}), json!({"k": 1})])}),
        &v,
    )
    .unwrap_err();
    assert_eq!(
        e.failures[0].message,
        "no element from index 3 on matches element 1 of array_with: {\"k\":1}"
    );
    let e = check(json!({"list": Match::array_with([json!({"k": 4})])}), &v).unwrap_err();
    assert_eq!(e.failures[0].path, "/list");
    assert!(
        e.failures[0].message.ends_with(
            "the closest is element 0, which differs at /list/0/k: expected 4 but received 1"
        ),
        "{e}"
    );
    let e = check(Match::array_with([1]), &json!("a")).unwrap_err();
    assert_eq!(
        e.failures[0].message,
        "expected an array but received string \"a\""
    );
}

#[test]
fn absent_and_any_value_are_about_the_key_being_there() {
    let v = json!({"a": 1, "n": null});
    check(json!({"b": Match::absent()}), &v).unwrap();
    let e = check(json!({"a": Match::absent()}), &v).unwrap_err();
    assert_eq!(
        e.to_string(),
        "with 1 failure:\n  at /a: received 1, but the key should be absent"
    );
    check(json!({"a": Match::any_value()}), &v).unwrap();
    for key in ["b", "n"] {
        let e = check(json!({key: Match::any_value()}), &v).unwrap_err();
        assert_eq!(e.failures[0].message, "expected a value but found none");
    }
    let e = check(json!({"b": 1}), &v).unwrap_err();
    assert_eq!(
        e.to_string(),
        "with 1 failure:\n  at /b: missing key; expected 1"
    );
}

#[test]
fn string_like_matches_a_regex_or_a_substring() {
    let arn = json!("arn:aws:sqs:eu-west-1:123456789012:orders");
    check(
        Match::string_like_regexp(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:orders$"),
        &arn,
    )
    .unwrap();
    check(Match::string_like_regexp("sqs"), &arn).unwrap();
    check(Match::string_containing(":orders"), &arn).unwrap();
    let e = check(Match::string_like_regexp("^sns"), &arn).unwrap_err();
    assert_eq!(
        e.failures[0].message,
        "expected a string matching /^sns/ but received \"arn:aws:sqs:eu-west-1:123456789012:orders\""
    );
    let e = check(Match::string_containing("x"), &json!(5)).unwrap_err();
    assert_eq!(
        e.failures[0].message,
        "expected a string containing \"x\" but received 5"
    );
    let m = failure(|| {
        Match::string_like_regexp("(");
    });
    assert!(
        m.starts_with("Match::string_like_regexp(\"(\"): not a regular expression"),
        "{m}"
    );
}

#[test]
fn serialized_json_parses_the_string_and_matches_it_exactly_unless_told() {
    let t = template();
    t.has_resource_properties(
        "AWS::SSM::Parameter",
        json!({"Value": Match::serialized_json(json!({"retries": 3, "channels": ["email", "sms"]}))}),
    );
    t.has_resource_properties(
        "AWS::SSM::Parameter",
        json!({"Value": Match::serialized_json(Match::object_like(json!({"channels": Match::array_with(["sms"])})))}),
    );
    let e = check(
        Match::serialized_json(json!({"retries": 3})),
        &json!(r#"{"retries":3,"channels":[]}"#),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "with 1 failure:\n  at /(json)/channels: unexpected key, with value []"
    );
    let e = check(Match::serialized_json(json!({})), &json!("{nope")).unwrap_err();
    assert!(
        e.failures[0]
            .message
            .starts_with("expected a string of JSON, but it does not parse"),
        "{e}"
    );
}

#[test]
fn not_inverts_a_pattern_including_a_missing_key() {
    let v = json!({"mode": "Active"});
    check(json!({"mode": Match::not("PassThrough")}), &v).unwrap();
    check(json!({"other": Match::not("x")}), &v).unwrap();
    let e = check(json!({"mode": Match::not("Active")}), &v).unwrap_err();
    assert_eq!(
        e.failures[0].message,
        "received \"Active\", which should not match \"Active\""
    );
    // `not` of a literal object is exact: a superset is not a match, so `not` holds.
    check(Match::not(json!({})), &v).unwrap();
    let e = check(json!({"other": Match::not(Match::absent())}), &v).unwrap_err();
    assert_eq!(
        e.failures[0].message,
        "the key is missing, which should not match Match::absent()"
    );
}

#[test]
fn captures_record_values_of_matching_entries_only() {
    let t = template();
    let dlq = Capture::new();
    let timeout = Capture::new();
    t.has_resource_properties(
        "AWS::SQS::Queue",
        json!({
            "VisibilityTimeout": &timeout,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [&dlq, "Arn"]}},
        }),
    );
    assert_eq!(dlq.as_string(), "OrdersDlq");
    assert_eq!(timeout.values(), [json!(60)]);

    // Every matching entry records; a failing one records nothing.
    let retention = Capture::new();
    let found = t.find_resources(
        "AWS::SQS::Queue",
        json!({"Properties": {"MessageRetentionPeriod": &retention}}),
    );
    assert_eq!(retention.values().len(), found.len());
    let nothing = Capture::new();
    assert!(t
        .find_resources(
            "AWS::SQS::Queue",
            json!({"Type": &nothing, "Properties": {"FifoQueue": true}})
        )
        .is_empty());
    assert!(nothing.values().is_empty());
    let m = failure(|| {
        nothing.value();
    });
    assert!(m.starts_with("the capture recorded nothing"), "{m}");

    // A capture with a pattern records only values that match it, and fails the others.
    let sms = Capture::matching(Match::string_like_regexp("^s"));
    check(
        json!({"channels": Match::array_with([&sms])}),
        &json!({"channels": ["email", "sms"]}),
    )
    .unwrap();
    assert_eq!(sms.values(), [json!("sms")]);
    let e = check(json!({"a": &Capture::new()}), &json!({"a": null})).unwrap_err();
    assert_eq!(
        e.failures[0].message,
        "nothing to capture: the value is null"
    );
}

#[test]
fn a_failed_match_names_the_closest_candidate_and_each_path_where_it_differs() {
    let t = template();
    let m = failure(|| {
        t.has_resource_properties(
            "AWS::SQS::Queue",
            json!({
                "VisibilityTimeout": 30,
                "RedrivePolicy": {"maxReceiveCount": 3, "deadLetterTargetArn": Match::string_containing("arn:")},
                "KmsMasterKeyId": Match::any_value(),
            }),
        );
    });
    insta::assert_snapshot!(m);
}

#[test]
fn to_json_and_to_yaml_are_what_synth_writes_with_asset_hashes_as_placeholders() {
    let app = App::new();
    Function::new(
        &app.stack("Fns").scope(),
        "Hello",
        Code::cargo_bin("handlers", "hello"),
        FunctionProps {
            // X-Ray's `Resource: *` (IAM5) is beside the point here.
            tracing: Tracing::Disabled,
            ..Default::default()
        },
    )
    .unwrap();
    let t = Template::from_stack(&app, "Fns").unwrap();
    let assembly = cfnkit::synth::synth(&app).unwrap();
    let written = &assembly.stack("Fns").unwrap().template;
    assert_eq!(t.to_json(), written.to_json());
    assert_eq!(t.to_yaml(), written.to_yaml());
    assert!(t
        .to_json()
        .contains("assets/hello/__CFNKIT_ASSET_HASH__.zip"));
    t.has_resource_properties(
        "AWS::Lambda::Function",
        json!({"Code": {"S3Key": "assets/hello/__CFNKIT_ASSET_HASH__.zip"}}),
    );
    assert_eq!(
        t.as_value()["Resources"]["Hello"]["Type"],
        "AWS::Lambda::Function"
    );
}

#[test]
fn findings_are_the_warnings_and_suppressed_findings_synth_let_through() {
    let app = shop();
    let templates = Templates::from_app(&app).unwrap();
    let t = templates.stack("Shop");
    assert!(t.findings().iter().all(|f| !f.is_error()));
    assert_eq!(templates.iter().count(), 1);
}

/// The recipe for an app's own test (`env!("CARGO_MANIFEST_DIR")` as the workspace there): the handlers the
/// templates name compile, checked on the host in seconds.
#[test]
fn assert_handlers_compile_checks_the_functions_binaries_in_the_workspace() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lambda-fixture");
    let tmp = tempfile::tempdir().unwrap();
    for rel in [
        "Cargo.toml",
        "Cargo.lock",
        "src/bin/hello.rs",
        "src/bin/goodbye.rs",
    ] {
        std::fs::create_dir_all(tmp.path().join(rel).parent().unwrap()).unwrap();
        std::fs::copy(fixture.join(rel), tmp.path().join(rel)).unwrap();
    }
    let app = |bin: &str| {
        let app = App::new();
        Function::new(
            &app.stack("Fns").scope(),
            "Hello",
            Code::cargo_bin("lambda-fixture", bin),
            FunctionProps {
                tracing: Tracing::Disabled,
                ..Default::default()
            },
        )
        .unwrap();
        Templates::from_app(&app).unwrap()
    };
    app("hello").assert_handlers_compile(tmp.path());
    let m = failure(|| app("hullo").assert_handlers_compile(tmp.path()));
    assert!(
        m.starts_with(
            "package \"lambda-fixture\" has no binary named \"hullo\" (used by Fns/Hello)"
        ),
        "{m}"
    );
}
