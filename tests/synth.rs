//! Behaviour of synth: sections, intrinsics, logical IDs, cross-stack references, ordering, validation.

use std::collections::BTreeMap;

use cfnkit::fns::{self, Cond};
use cfnkit::synth::{synth, Node, SynthError};
use cfnkit::{App, Output, Parameter, RawResource, RemovalPolicy, TagFormat, TemplateRule, Value};

fn queue() -> RawResource {
    RawResource::new("AWS::SQS::Queue").taggable(TagFormat::LIST)
}

fn problems(app: &App) -> String {
    match synth(app) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("synth should have failed"),
    }
}

fn yaml(app: &App, stack: &str) -> String {
    synth(app).unwrap().stack(stack).unwrap().template.to_yaml()
}

#[test]
fn every_section_and_resource_attribute_renders_in_a_fixed_order() {
    let app = App::new();
    let s = app.stack("Everything");
    s.set_description("all sections");
    s.add_metadata("Owner", "platform-team");
    s.add_transform("AWS::Serverless-2016-10-31");
    let env = s.add_parameter(
        "Env",
        Parameter::string()
            .allowed_values(["dev", "prod"])
            .default_value("dev"),
    );
    let subnets = s.add_parameter(
        "Subnets",
        Parameter::comma_delimited_list().description("subnet ids"),
    );
    let sizes = s.add_mapping(
        "Sizes",
        BTreeMap::from([(
            "dev".to_owned(),
            BTreeMap::from([("Retention".to_owned(), 7)]),
        )]),
    );
    let is_prod = s.add_condition("IsProd", fns::equals(env.ref_(), "prod"));
    s.add_condition("IsNotProd", fns::not(fns::condition(&is_prod)));
    s.add_template_rule(
        "ProdOnlyInUsEast1",
        TemplateRule::new()
            .when(fns::equals(env.ref_(), "prod"))
            .assert(
                fns::equals(fns::region(), "us-east-1"),
                "prod deploys to us-east-1",
            ),
    );
    let dlq = s.add_raw("Dlq", queue());
    let q = s.add_raw(
        "Queue",
        queue()
            .prop(
                "MessageRetentionPeriod",
                fns::find_in_map::<i64>("Sizes", env.ref_(), "Retention").into_raw(),
            )
            .prop(
                "DelaySeconds",
                fns::if_::<i64>(&is_prod, 0, fns::no_value()).into_raw(),
            )
            .prop(
                "QueueName",
                fns::join("-", vec![fns::stack_name(), fns::select(0, subnets.ref_())]).into_raw(),
            )
            .prop(
                "RedrivePolicy",
                Value::map([(
                    "deadLetterTargetArn",
                    dlq.get_att::<String>("Arn").into_raw(),
                )]),
            ),
    );
    let _ = sizes;
    let other = s.add_raw("Other", queue());
    // Dlq is already implied by the GetAtt above, so only Other stays in DependsOn (cfn-lint W3005).
    q.add_depends_on(&dlq)
        .add_depends_on(&other)
        .set_condition(&is_prod)
        .apply_removal_policy(RemovalPolicy::Retain)
        .set_creation_policy(serde_json::json!({"ResourceSignal": {"Timeout": "PT5M"}}))
        .set_update_policy(serde_json::json!({"EnableVersionUpgrade": true}))
        .add_metadata("cfn-lint", serde_json::json!({"config": {}}));
    s.add_output(
        "QueueUrl",
        Output::new(q.ref_())
            .description("the queue")
            .condition(&is_prod),
    );
    insta::assert_snapshot!(yaml(&app, "Everything"));
}

#[test]
fn intrinsics_render_in_long_and_short_form() {
    let app = App::new();
    let s = app.stack("Fns");
    let b = s.add_raw("Bucket", RawResource::new("AWS::S3::Bucket"));
    let all: Vec<(&str, Value)> = vec![
        (
            "Sub",
            fns::sub("arn:${AWS::Partition}:s3:::${Bucket}/*").into_raw(),
        ),
        (
            "SubWith",
            fns::sub_with("${Name}-x", [("Name", b.ref_())]).into_raw(),
        ),
        ("Split", fns::split(",", "a,b").into_raw()),
        (
            "Base64",
            fns::base64(fns::sub("echo ${AWS::Region}")).into_raw(),
        ),
        ("GetAZs", fns::get_azs("").into_raw()),
        ("Cidr", fns::cidr("10.0.0.0/16", 4, 8).into_raw()),
        ("Import", fns::import_value("Other:Thing:Arn").into_raw()),
        ("Length", fns::length(fns::split(",", "a,b")).into_raw()),
        (
            "Json",
            fns::to_json_string(serde_json::json!({"a": 1})).into_raw(),
        ),
        (
            "Or",
            Cond::raw(&fns::or([
                fns::equals("a", "b"),
                fns::equals(fns::account_id(), "1"),
            ]))
            .clone(),
        ),
        (
            "And",
            Cond::raw(&fns::and([
                fns::equals("a", "b"),
                fns::equals(fns::partition(), "aws"),
            ]))
            .clone(),
        ),
        (
            "Pseudo",
            Value::list([
                fns::url_suffix().into_raw(),
                fns::stack_id().into_raw(),
                fns::notification_arns().into_raw(),
            ]),
        ),
        ("Att", b.get_att::<String>("Arn").into_raw()),
    ];
    s.add_raw(
        "Holder",
        RawResource::new("Custom::Holder")
            .prop("ServiceToken", "arn:aws:lambda:us-east-1:1:function:f")
            .prop("All", Value::map(all)),
    );
    let out = synth(&app).unwrap();
    let t = &out.stack("Fns").unwrap().template;
    // Fn::Length and Fn::ToJsonString need the language extensions, which synth adds.
    assert_eq!(
        t.get("Transform"),
        Some(&Node::str("AWS::LanguageExtensions"))
    );
    insta::assert_snapshot!("intrinsics_yaml", t.to_yaml());
    insta::assert_snapshot!("intrinsics_json", t.to_json());
}

#[test]
fn output_is_byte_identical_across_runs() {
    let build = || {
        let app = App::new();
        app.add_tag("team", "orders");
        let s = app.stack("S");
        for i in (0..50).rev() {
            s.add_raw(&format!("Q{i}"), queue().prop("DelaySeconds", i));
        }
        app
    };
    let a = synth(&build())
        .unwrap()
        .stack("S")
        .unwrap()
        .template
        .to_json();
    let b = synth(&build())
        .unwrap()
        .stack("S")
        .unwrap()
        .template
        .to_json();
    assert_eq!(a, b);
    // Resources are sorted by logical ID, whatever the order of the code.
    assert!(a.find("\"Q0\"").unwrap() < a.find("\"Q1\"").unwrap());
}

#[test]
fn cross_stack_reference_exports_imports_and_orders_stacks() {
    let app = App::new();
    // The consumer is declared first: deploy order must still put the producer first.
    let consumer = app.stack("Consumer");
    let producer = app.stack("Producer");
    let q = producer.add_raw("Queue", queue());
    consumer.add_raw(
        "Sub",
        RawResource::new("AWS::SNS::Subscription")
            .prop("Endpoint", q.get_att::<String>("Arn").into_raw())
            .prop("Protocol", "sqs")
            .prop("TopicArn", q.ref_().into_raw()),
    );
    let out = synth(&app).unwrap();
    let names: Vec<&str> = out.stacks.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Producer", "Consumer"]);
    let c = out.stack("Consumer").unwrap();
    assert_eq!(c.dependencies, ["Producer"]);
    let endpoint = c
        .template
        .get("Resources")
        .unwrap()
        .get("Sub")
        .unwrap()
        .get("Properties")
        .unwrap()
        .get("Endpoint")
        .unwrap();
    assert_eq!(
        endpoint,
        &Node::func("Fn::ImportValue", Node::str("Producer:Queue:Arn"))
    );
    let p = out.stack("Producer").unwrap();
    let exports: Vec<(&str, &str)> = p
        .exports
        .iter()
        .map(|e| (e.name.as_str(), e.output.as_str()))
        .collect();
    assert_eq!(
        exports,
        [
            ("Producer:Queue:Arn", "ExportQueueArn"),
            ("Producer:Queue:Ref", "ExportQueueRef")
        ]
    );
    assert_eq!(p.exports[0].imported_by, ["Consumer"]);
    insta::assert_snapshot!(p.template.to_yaml(), @r"
    AWSTemplateFormatVersion: '2010-09-09'
    Resources:
      Queue:
        Type: AWS::SQS::Queue
    Outputs:
      ExportQueueArn:
        Description: Arn of Producer/Queue, exported for other stacks
        Value: !GetAtt Queue.Arn
        Export:
          Name: Producer:Queue:Arn
      ExportQueueRef:
        Description: Ref of Producer/Queue, exported for other stacks
        Value: !Ref Queue
        Export:
          Name: Producer:Queue:Ref
    ");
}

#[test]
fn a_cycle_names_the_stacks_and_the_values() {
    let app = App::new();
    let a = app.stack("A");
    let b = app.stack("B");
    let qa = a.add_raw("QA", queue());
    let qb = b.add_raw(
        "QB",
        queue().prop("RedrivePolicy", qa.get_att::<String>("Arn").into_raw()),
    );
    qa.add_property_override("RedrivePolicy", qb.get_att::<String>("Arn").into_raw());
    let msg = problems(&app);
    assert!(msg.contains("cycle"), "{msg}");
    assert!(msg.contains("A -> B -> A"), "{msg}");
    assert!(
        msg.contains("A imports B:QB:Arn (resource QA (A/QA))"),
        "{msg}"
    );
    assert!(
        msg.contains("B imports A:QA:Arn (resource QB (B/QB))"),
        "{msg}"
    );
}

#[test]
fn explicit_and_cross_stack_depends_on_order_stacks() {
    let app = App::new();
    let late = app.stack("Late");
    let early = app.stack("Early");
    let x = late.add_raw("X", queue());
    let y = early.add_raw("Y", queue());
    x.add_depends_on(&y);
    let out = synth(&app).unwrap();
    assert_eq!(out.stacks[0].name, "Early");
    // A DependsOn across stacks cannot be written in a template; it becomes a stack dependency.
    assert!(out
        .stack("Late")
        .unwrap()
        .template
        .get("Resources")
        .unwrap()
        .get("X")
        .unwrap()
        .get("DependsOn")
        .is_none());
    let app = App::new();
    let one = app.stack("One");
    let two = app.stack("Two");
    one.add_dependency(&two);
    one.add_raw("Q", queue());
    two.add_raw("Q", queue());
    assert_eq!(synth(&app).unwrap().stacks[0].name, "Two");
}

#[test]
fn logical_ids_come_from_paths_and_clashes_name_both_paths() {
    let app = App::new();
    let s = app.stack("Inventory");
    let scope = s.child("InventoryQueue");
    scope.add_raw("Resource", queue());
    scope.add_raw("Dlq", queue());
    let out = synth(&app).unwrap();
    let ids: Vec<&String> = match out.stacks[0].template.get("Resources") {
        Some(Node::Map(m)) => m.iter().map(|(k, _)| k).collect(),
        _ => panic!(),
    };
    assert_eq!(ids, ["InventoryQueue", "InventoryQueueDlq"]);

    s.add_raw("InventoryQueueDlq", queue());
    let msg = problems(&app);
    assert!(msg.contains("logical ID InventoryQueueDlq is claimed by both Inventory/InventoryQueue/Dlq and Inventory/InventoryQueueDlq"), "{msg}");
}

#[test]
fn an_override_keeps_the_logical_id_through_a_refactor() {
    let app = App::new();
    let s = app.stack("Order");
    // The table used to be at Order/OrdersTable; the construct moved under Storage/.
    let t = s
        .child("Storage")
        .add_raw("Orders", RawResource::new("AWS::DynamoDB::Table"));
    t.override_logical_id("OrdersTable");
    let user = s.add_raw("User", queue().prop("Name", t.ref_().into_raw()));
    let _ = user;
    let y = yaml(&app, "Order");
    assert!(
        y.contains("  OrdersTable:\n    Type: AWS::DynamoDB::Table"),
        "{y}"
    );
    assert!(y.contains("Name: !Ref OrdersTable"), "{y}");
}

#[test]
fn bad_ids_and_paths_are_errors() {
    let app = App::new();
    let s = app.stack("S");
    s.add_raw("a/b", queue());
    s.add_raw("Twice", queue());
    s.add_raw("Twice", queue());
    s.add_raw("X", queue()).override_logical_id("Not-Valid");
    app.stack("bad name!");
    let msg = problems(&app);
    assert!(
        msg.contains("construct id \"a/b\" under S must be non-empty and must not contain '/'"),
        "{msg}"
    );
    assert!(
        msg.contains("two constructs have the path S/Twice"),
        "{msg}"
    );
    assert!(
        !msg.contains("claimed by both S/Twice and S/Twice"),
        "the duplicate path is one problem, not two: {msg}"
    );
    assert!(
        msg.contains("resource logical ID \"Not-Valid\" contains '-'"),
        "{msg}"
    );
    assert!(
        msg.contains("stack bad name!: is not a valid stack name"),
        "{msg}"
    );
}

/// Issue #13: two stacks of one name are one problem. Everything after the name check is keyed by stack name, so
/// checking on reported that the second stack "has no resources" (its resources went to the first).
#[test]
fn a_duplicate_stack_name_is_reported_once_and_alone() {
    let app = App::new();
    app.stack("Orders").add_raw("Q", queue());
    app.stack("Orders").add_raw("Other", queue());
    app.stack("Orders").add_raw("Third", queue());
    assert_eq!(
        problems(&app),
        "synth found 1 problem(s):\n  - stack Orders: two stacks have this name: stack names must be unique in an \
         app; rename one"
    );

    // Problems recorded while building the stacks are still reported with it.
    let app = App::new();
    let s = app.stack("Orders");
    s.add_raw("a/b", queue());
    app.stack("Orders").add_raw("Q", queue());
    let msg = problems(&app);
    assert!(msg.starts_with("synth found 2 problem(s):"), "{msg}");
    assert!(msg.contains("construct id \"a/b\""), "{msg}");
    assert!(!msg.contains("has no resources"), "{msg}");
}

#[test]
fn references_to_missing_things_are_errors_naming_stack_and_element() {
    let app = App::new();
    let s = app.stack("S");
    let other_app = App::new();
    let stray = other_app.stack("Elsewhere").add_raw("Q", queue());
    s.add_raw(
        "Q",
        queue()
            .prop("A", fns::ref_logical("Nope").into_raw())
            .prop(
                "B",
                fns::sub("${Missing.Arn}-${AWS::Region}-${!Literal}").into_raw(),
            )
            .prop("C", stray.ref_().into_raw())
            .prop(
                "D",
                fns::if_(&cfnkit::ConditionHandle::new("Undeclared"), "a", "b").into_raw(),
            ),
    );
    let msg = problems(&app);
    assert!(msg.contains("stack S (Q): resource Q (S/Q): refers to Nope, which is not a resource or parameter of this stack"), "{msg}");
    assert!(msg.contains("Fn::Sub refers to ${Missing.Arn}"), "{msg}");
    assert!(!msg.contains("Literal"), "{msg}");
    assert!(
        msg.contains(
            "refers to Elsewhere/Q in stack Elsewhere, which another App made: stacks cannot move between apps, so \
             make that stack with this app's `app.stack(..)`, or pass the value in as a parameter"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("condition \"Undeclared\" is not declared in this stack"),
        "{msg}"
    );
}

#[test]
fn cloudformation_limits_are_enforced() {
    let app = App::new();
    let s = app.stack("Big");
    for i in 0..501 {
        s.add_raw(&format!("Q{i}"), queue());
    }
    for i in 0..201 {
        s.add_output(&format!("O{i}"), Output::new(fns::region()));
    }
    for i in 0..201 {
        s.add_parameter(&format!("P{i}"), Parameter::string());
    }
    let msg = problems(&app);
    assert!(
        msg.contains("stack Big: has 501 Resources; CloudFormation allows 500: split the stack"),
        "{msg}"
    );
    assert!(
        msg.contains("has 201 Outputs; CloudFormation allows 200"),
        "{msg}"
    );
    assert!(
        msg.contains("has 201 Parameters; CloudFormation allows 200"),
        "{msg}"
    );

    // A stack with outputs but no resource: CloudFormation (and cfn-lint, E1001) refuse its template.
    let app = App::new();
    app.stack("Empty")
        .add_output("Region", Output::new(fns::region()));
    assert_eq!(
        problems(&app),
        "synth found 1 problem(s):\n  - stack Empty: has no resources, and CloudFormation refuses a template \
         without any: add a resource to the stack, or leave the stack out of the app"
    );

    let app = App::new();
    let s = app.stack("Huge");
    s.add_raw("Q", queue().prop("Blob", "x".repeat(1_000_001)));
    assert!(problems(&app).contains("even from S3"));

    let app = App::new();
    let s = app.stack("Large");
    s.add_raw("Q", queue().prop("Blob", "x".repeat(60_000)));
    assert!(
        cfnkit::synth::output::render(&synth(&app).unwrap(), Default::default(), &[])
            .unwrap()
            .manifest
            .stacks[0]
            .requires_s3_upload
    );
}

#[test]
fn duplicate_export_names_across_stacks_are_errors() {
    let app = App::new();
    for name in ["One", "Two"] {
        let s = app.stack(name);
        s.add_raw("Q", queue());
        s.add_output("Url", Output::new(fns::region()).export_name("shared-name"));
    }
    let msg = problems(&app);
    assert!(
        msg.contains("export name \"shared-name\" is also exported by One/Url"),
        "{msg}"
    );
}

#[test]
fn tags_reach_every_taggable_resource_and_resource_tags_win() {
    let app = App::new();
    app.add_tag("app", "orders").add_tag("team", "app-level");
    let s = app.stack("S");
    s.add_tag("team", "stack-level");
    s.add_raw(
        "Tagged",
        queue().prop("Tags", serde_json::json!([{"Key": "app", "Value": "mine"}])),
    );
    s.add_raw(
        "Mapped",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Type", "String")
            .prop("Value", "v")
            .taggable(TagFormat::MAP),
    );
    s.add_raw("Untaggable", RawResource::new("AWS::SQS::QueuePolicy"));
    let y = yaml(&app, "S");
    assert!(y.contains("Tags:\n        - Key: app\n          Value: mine\n        - Key: team\n          Value: stack-level"), "{y}");
    assert!(
        y.contains("Tags:\n        app: orders\n        team: stack-level"),
        "{y}"
    );
    assert!(
        !y.contains("Untaggable:\n    Type: AWS::SQS::QueuePolicy\n    Properties"),
        "{y}"
    );
}

#[test]
fn overrides_reach_anything_in_the_rendered_resource() {
    let app = App::new();
    let s = app.stack("S");
    let q = s.add_raw(
        "Q",
        queue()
            .prop("DelaySeconds", 5)
            .prop("VisibilityTimeout", 30),
    );
    q.add_property_override("RedrivePolicy.maxReceiveCount", 3)
        .add_deletion_override("Properties.DelaySeconds")
        .add_override("UpdateReplacePolicy", "Retain");
    let y = yaml(&app, "S");
    assert!(
        y.contains("RedrivePolicy:\n        maxReceiveCount: 3"),
        "{y}"
    );
    assert!(!y.contains("DelaySeconds"), "{y}");
    assert!(y.contains("UpdateReplacePolicy: Retain"), "{y}");
}

#[test]
fn cross_stack_parameter_reference_is_exported() {
    let app = App::new();
    let p = app.stack("P");
    let env = p.add_parameter("Env", Parameter::string().default_value("dev"));
    p.add_raw("Q", queue());
    let c = app.stack("C");
    c.add_raw("Q", queue().prop("QueueName", env.ref_().into_raw()));
    let out = synth(&app).unwrap();
    assert_eq!(out.stack("P").unwrap().exports[0].name, "P:Env:Ref");
}

#[test]
fn kept_exports_survive_removal_of_the_last_consumer() {
    // Release 1: Consumer imports the queue's ARN.
    let release = |with_consumer: bool, keep: bool| {
        let app = App::new();
        let producer = app.stack("Producer");
        let q = producer.add_raw("Queue", queue());
        if keep {
            producer.export_value(&q.get_att::<String>("Arn"));
        }
        let consumer = app.stack("Consumer");
        let arn = if with_consumer {
            q.get_att::<String>("Arn").into_raw()
        } else {
            Value::from("none")
        };
        consumer.add_raw(
            "Q",
            queue().prop("RedrivePolicy", Value::map([("deadLetterTargetArn", arn)])),
        );
        synth(&app).unwrap()
    };
    let v1 = release(true, false);
    // Release 2 drops the consumer but keeps the export: the producer's template does not change, so deploying
    // it first cannot fail; the consumer's deploy drops the import.
    let v2 = release(false, true);
    assert_eq!(
        v1.stack("Producer").unwrap().template,
        v2.stack("Producer").unwrap().template
    );
    assert!(v2.stack("Producer").unwrap().exports[0].kept);
    assert!(v2.stack("Consumer").unwrap().dependencies.is_empty());

    // Dropping the consumer without keeping the export is caught against the previous synth's manifest.
    let previous = cfnkit::synth::output::render(&v1, Default::default(), &[])
        .unwrap()
        .manifest;
    let v2_unsafe = release(false, false);
    let found = cfnkit::synth::manifest::removed_exports(&previous, &v2_unsafe);
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .to_string()
            .contains("no longer exports Producer:Queue:Arn"),
        "{}",
        found[0]
    );
    assert!(
        found[0]
            .to_string()
            .contains("export_value(&handle.get_att(\"Arn\"))"),
        "{}",
        found[0]
    );
    assert!(cfnkit::synth::manifest::removed_exports(&previous, &v2).is_empty());
    // Release 3, once the consumer is deployed without the import: the kept export can go.
    let previous = cfnkit::synth::output::render(&v2, Default::default(), &[])
        .unwrap()
        .manifest;
    assert!(cfnkit::synth::manifest::removed_exports(&previous, &release(false, false)).is_empty());
}

#[test]
fn export_value_rejects_a_value_that_is_not_a_reference() {
    let app = App::new();
    let s = app.stack("S");
    s.add_raw("Q", queue());
    s.export_value(&fns::region());
    assert!(problems(&app).contains("export_value takes a Ref or attribute"));
}

#[test]
fn unknown_stack_selection_is_an_error_listing_the_stacks() {
    let app = App::new();
    app.stack("Base").add_raw("Q", queue());
    let e =
        cfnkit::synth::output::render(&synth(&app).unwrap(), Default::default(), &["Nope".into()])
            .unwrap_err();
    assert!(matches!(e, SynthError::UnknownStack { .. }));
    assert_eq!(
        e.to_string(),
        "no stack named \"Nope\" in this app; its stacks are: Base"
    );
}
