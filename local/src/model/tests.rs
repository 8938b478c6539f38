use super::*;
use cfnkit::{fns, App, Output, Parameter, RawResource, Value as CfnValue};
use serde_json::json;

fn resolve(app: &App) -> LocalApp {
    Templates::from_app(app)
        .unwrap()
        .resolve(&LoadOptions::default())
        .unwrap()
}

#[test]
fn generated_names_are_cloudformation_shaped_and_the_same_every_run() {
    let app = App::new();
    let s = app.stack("Orders");
    s.add_raw("Jobs", RawResource::new("AWS::SQS::Queue"));
    s.add_raw(
        "Ordered",
        RawResource::new("AWS::SQS::Queue").prop("FifoQueue", true),
    );
    s.add_raw("Archive", RawResource::new("AWS::S3::Bucket"));
    s.add_raw(
        "Named",
        RawResource::new("AWS::DynamoDB::Table").prop("TableName", "orders"),
    );
    let a = resolve(&app);
    let b = resolve(&app);
    let jobs = a.resource("Orders", "Jobs").unwrap();
    assert_eq!(jobs.name, b.resource("Orders", "Jobs").unwrap().name);
    let suffix = jobs.name.strip_prefix("Orders-Jobs-").unwrap();
    assert_eq!(suffix.len(), 12);
    assert!(suffix
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    assert_eq!(
        jobs.physical_id,
        format!(
            "https://sqs.us-east-1.amazonaws.com/123456789012/{}",
            jobs.name
        )
    );
    assert_eq!(
        jobs.arn.as_deref(),
        Some(format!("arn:aws:sqs:us-east-1:123456789012:{}", jobs.name).as_str())
    );
    assert!(a
        .resource("Orders", "Ordered")
        .unwrap()
        .name
        .ends_with(".fifo"));
    let bucket = &a.resource("Orders", "Archive").unwrap().name;
    assert_eq!(bucket, &bucket.to_lowercase());
    let table = a.resource("Orders", "Named").unwrap();
    assert_eq!(table.physical_id, "orders");
    assert_eq!(
        table.arn.as_deref(),
        Some("arn:aws:dynamodb:us-east-1:123456789012:table/orders")
    );
}

#[test]
fn long_generated_names_are_cut_to_the_types_limit() {
    let app = App::new();
    let s = app.stack("AVeryLongStackNameThatGoesOnAndOnForQuiteSomeTime");
    s.add_raw(
        "AFunctionWithAnEvenLongerLogicalIdThanTheStack",
        RawResource::new("AWS::Lambda::Function"),
    );
    let a = resolve(&app);
    let f = a
        .resource(
            "AVeryLongStackNameThatGoesOnAndOnForQuiteSomeTime",
            "AFunctionWithAnEvenLongerLogicalIdThanTheStack",
        )
        .unwrap();
    assert_eq!(f.name.len(), 64, "{}", f.name);
}

#[test]
fn references_resolve_across_stacks_through_exports() {
    let app = App::new();
    let base = app.stack("Base");
    let queue = base.add_raw("Events", RawResource::new("AWS::SQS::Queue"));
    let order = app.stack("Order");
    let f = order.add_raw(
        "Handler",
        RawResource::new("AWS::Lambda::Function").prop(
            "Environment",
            CfnValue::map([(
                "Variables",
                CfnValue::map([
                    ("QUEUE_URL", queue.ref_().into_raw()),
                    ("QUEUE_ARN", queue.get_att::<String>("Arn").into_raw()),
                    (
                        "LABEL",
                        fns::sub("${AWS::StackName}-${AWS::Region}-${AWS::AccountId}").into_raw(),
                    ),
                ]),
            )]),
        ),
    );
    order.add_output("FunctionArn", Output::new(f.get_att::<String>("Arn")));
    let a = resolve(&app);
    let queue = a.resource("Base", "Events").unwrap();
    let vars = &a.resource("Order", "Handler").unwrap().properties["Environment"]["Variables"];
    assert_eq!(vars["QUEUE_URL"], json!(queue.physical_id));
    assert_eq!(vars["QUEUE_ARN"], json!(queue.arn.clone().unwrap()));
    assert_eq!(vars["LABEL"], json!("Order-us-east-1-123456789012"));
    let order = &a.stacks[1];
    assert!(order.outputs["FunctionArn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:lambda:us-east-1:123456789012:function:Order-Handler-"));
}

/// Stacks meant for two regions (a weak reference, `Fn::GetStackOutput`) run on one machine like any others.
#[test]
fn outputs_read_across_environments_resolve_like_imports() {
    let app = App::new();
    let base = app.stack("Base");
    base.set_env(cfnkit::Environment {
        account: Some("111111111111".into()),
        region: Some("eu-west-1".into()),
    });
    let queue = base.add_raw("Events", RawResource::new("AWS::SQS::Queue"));
    let edge = app.stack("Edge");
    edge.set_env(cfnkit::Environment {
        account: Some("222222222222".into()),
        region: Some("us-east-1".into()),
    });
    edge.add_raw(
        "Alerts",
        RawResource::new("AWS::SNS::Topic")
            .prop("DisplayName", queue.get_att::<String>("Arn").into_raw()),
    );
    app.stack("Other")
        .add_raw("Lonely", RawResource::new("AWS::SNS::Topic"));
    let t = Templates::from_app(&app).unwrap();
    let edge_template = &t.stacks.iter().find(|s| s.name == "Edge").unwrap().template;
    assert!(edge_template.to_string().contains("Fn::GetStackOutput"));
    let names = |t: &Templates| t.stacks.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    let selected = t.select(&["Edge".into()]).unwrap();
    assert_eq!(names(&selected), ["Base", "Edge"]);
    let a = selected.resolve(&LoadOptions::default()).unwrap();
    let queue = a.resource("Base", "Events").unwrap();
    assert_eq!(
        a.resource("Edge", "Alerts").unwrap().properties["DisplayName"],
        json!(queue.arn.clone().unwrap())
    );
}

#[test]
fn an_output_of_a_stack_not_run_is_an_error_naming_both() {
    let app = App::new();
    app.stack("Reader").add_raw(
        "Alerts",
        RawResource::new("AWS::SNS::Topic").prop(
            "DisplayName",
            fns::get_stack_output("Network", "VpcId", Default::default()).into_raw(),
        ),
    );
    let e = Templates::from_app(&app)
        .unwrap()
        .resolve(&LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "reads output VpcId of stack Network, which does not run before it; run Network too"
        ),
        "{e}"
    );
}

#[test]
fn selecting_a_stack_brings_the_stacks_it_imports_from() {
    let app = App::new();
    let base = app.stack("Base");
    let queue = base.add_raw("Events", RawResource::new("AWS::SQS::Queue"));
    app.stack("Order").add_raw(
        "Policy",
        RawResource::new("AWS::SNS::Topic").prop("DisplayName", queue.ref_().into_raw()),
    );
    app.stack("Other")
        .add_raw("Lonely", RawResource::new("AWS::SNS::Topic"));
    let t = Templates::from_app(&app).unwrap();
    let names = |t: &Templates| t.stacks.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&t.select(&["Order".into()]).unwrap()),
        ["Base", "Order"]
    );
    let e = t.select(&["Ordr".into()]).unwrap_err().to_string();
    assert_eq!(
        e,
        "no stack Ordr in the app; its stacks are: Base, Order, Other"
    );
}

#[test]
fn parameters_take_defaults_overrides_and_the_stack_specific_value_wins() {
    let app = App::new();
    let s = app.stack("Svc");
    let size = s.add_parameter("Size", Parameter::number().default_value("3"));
    let env = s.add_parameter("Env", Parameter::string());
    s.add_raw(
        "Topic",
        RawResource::new("AWS::SNS::Topic").prop(
            "DisplayName",
            fns::join("-", vec![env.ref_(), size.ref_()]).into_raw(),
        ),
    );
    let t = Templates::from_app(&app).unwrap();
    let e = t.resolve(&LoadOptions::default()).unwrap_err().to_string();
    assert_eq!(
        e,
        "stack Svc: parameter Env has no default; give it with --parameters Svc:Env=VALUE"
    );
    let mut o = LoadOptions::default();
    o.parameters.insert("Env".into(), "dev".into());
    o.parameters.insert("Svc:Env".into(), "prod".into());
    let a = t.resolve(&o).unwrap();
    assert_eq!(
        a.resource("Svc", "Topic").unwrap().properties["DisplayName"],
        json!("prod-3")
    );
    o.parameters.insert("Sise".into(), "4".into());
    let e = t.resolve(&o).unwrap_err().to_string();
    assert_eq!(
        e,
        "--parameters Sise: no selected stack declares Sise; the parameters are: Svc:Env, Svc:Size"
    );
}

#[test]
fn conditions_choose_branches_and_drop_resources_and_no_value_drops_properties() {
    let app = App::new();
    let s = app.stack("Svc");
    let env = s.add_parameter("Env", Parameter::string().default_value("dev"));
    let prod = s.add_condition("IsProd", fns::equals(env.ref_().into_raw(), "prod"));
    s.add_raw("OnlyInProd", RawResource::new("AWS::SNS::Topic"))
        .set_condition(&prod);
    s.add_raw(
        "Queue",
        RawResource::new("AWS::SQS::Queue")
            .prop(
                "VisibilityTimeout",
                fns::if_(&prod, CfnValue::from(60), CfnValue::from(30)).into_raw(),
            )
            .prop(
                "DelaySeconds",
                fns::if_(&prod, CfnValue::from(5), fns::no_value::<i64>().into_raw()).into_raw(),
            ),
    );
    let a = resolve(&app);
    assert!(a.resource("Svc", "OnlyInProd").is_none());
    let q = &a.resource("Svc", "Queue").unwrap().properties;
    assert_eq!(q["VisibilityTimeout"], json!(30));
    assert!(q.get("DelaySeconds").is_none(), "{q}");
}

#[test]
fn attributes_known_only_to_the_emulator_replace_the_placeholders() {
    let app = App::new();
    let s = app.stack("Data");
    let table = s.add_raw(
        "Table",
        RawResource::new("AWS::DynamoDB::Table").prop(
            "StreamSpecification",
            json!({"StreamViewType": "NEW_IMAGE"}),
        ),
    );
    s.add_raw(
        "Mapping",
        RawResource::new("AWS::Lambda::EventSourceMapping").prop(
            "EventSourceArn",
            table.get_att::<String>("StreamArn").into_raw(),
        ),
    );
    let t = Templates::from_app(&app).unwrap();
    let mut o = LoadOptions::default();
    o.actual.insert(
        ("Data".into(), "Table".into()),
        BTreeMap::from([("StreamArn".to_owned(), "arn:real".to_owned())]),
    );
    let a = t.resolve(&o).unwrap();
    assert_eq!(
        a.resource("Data", "Mapping").unwrap().properties["EventSourceArn"],
        json!("arn:real")
    );
}

#[test]
fn an_intrinsic_naming_nothing_is_an_error_with_its_place() {
    let t = Templates {
        stacks: vec![StackTemplate {
            name: "S".into(),
            template: json!({"Resources": {"T": {"Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": {"Ref": "Nope"}}}}}),
        }],
    };
    let e = t.resolve(&LoadOptions::default()).unwrap_err().to_string();
    assert_eq!(e, "S/T.Properties: Nope is not a resource of stack S");
}

#[test]
fn cidr_splits_a_block_into_consecutive_subnets() {
    let t = Templates {
        stacks: vec![StackTemplate {
            name: "Net".into(),
            template: json!({"Resources": {"T": {"Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": {"Fn::Select": [1, {"Fn::Cidr": ["10.0.0.0/16", 3, 8]}]}}}}}),
        }],
    };
    let a = t.resolve(&LoadOptions::default()).unwrap();
    assert_eq!(
        a.resource("Net", "T").unwrap().properties["DisplayName"],
        json!("10.0.1.0/24")
    );
}
