//! `pipelines::Pipeline`: source, build, self-update, then one stage per environment deploying the app's stacks
//! with change sets in the manifest's order, independent stacks in parallel; the checks of the stages.

mod constructs_support;

use cfnkit::constructs::pipelines::{DeployStage, Pipeline, PipelineProps, PipelineSource};
use cfnkit::constructs::s3::{Bucket, BucketProps};
use cfnkit::constructs::ConstructError;
use cfnkit::synth::{synth, Assembly};
use cfnkit::{fns, App, RawResource};
use constructs_support::*;
use serde_json::{json, Value};

/// `A`; `B` and `C` use `A`; `D` uses `B` and `C`; `E` stands alone.
fn deployed_app() -> Assembly {
    let app = App::new();
    let topic = |stack: &str, uses: &[&cfnkit::ResourceHandle]| {
        let mut r = RawResource::new("AWS::SNS::Topic");
        for (i, u) in uses.iter().enumerate() {
            r = r.prop(
                if i == 0 { "DisplayName" } else { "TopicName" },
                u.get_att::<String>("TopicName").into_raw(),
            );
        }
        app.stack(stack).add_raw("Topic", r)
    };
    let a = topic("A", &[]);
    let b = topic("B", &[&a]);
    let c = topic("C", &[&a]);
    topic("D", &[&b, &c]);
    topic("E", &[]);
    synth(&app).unwrap()
}

fn stages() -> Vec<DeployStage> {
    vec![
        DeployStage {
            name: "Dev".into(),
            stacks: vec!["A".into(), "B".into(), "C".into()],
            approval_before: false,
        },
        DeployStage {
            name: "Prod".into(),
            stacks: vec!["D".into(), "E".into()],
            approval_before: true,
        },
    ]
}

fn example(app: &App, deployed: &Assembly) -> Result<Pipeline, ConstructError> {
    let tools = app.stack("Tools");
    Pipeline::new(
        &tools.scope(),
        "Delivery",
        deployed,
        PipelineSource::Connection {
            connection_arn: fns::sub(
                "arn:${AWS::Partition}:codeconnections:${AWS::Region}:${AWS::AccountId}:connection/0000",
            ),
            repository: "example/shop".into(),
            branch: "main".into(),
        },
        stages(),
        PipelineProps::default(),
    )
}

fn pipeline_template() -> Value {
    let app = App::new();
    example(&app, &deployed_app()).unwrap();
    template(&app, "Tools")
}

/// `(stage, action) -> runOrder` of every action of the pipeline.
fn run_orders(t: &Value) -> Vec<(String, String, i64)> {
    resource(t, "Delivery")["Properties"]["Stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            let stage = s["Name"].as_str().unwrap().to_owned();
            s["Actions"].as_array().unwrap().iter().map(move |a| {
                (
                    stage.clone(),
                    a["Name"].as_str().unwrap().to_owned(),
                    a["RunOrder"].as_i64().unwrap(),
                )
            })
        })
        .collect()
}

#[test]
fn deploy_actions_follow_the_manifests_order_and_dependencies() {
    let deployed = deployed_app();
    let t = pipeline_template();
    let orders = run_orders(&t);
    let stage_names: Vec<String> = resource(&t, "Delivery")["Properties"]["Stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        stage_names,
        [
            "Source",
            "Build",
            "UpdatePipeline",
            "Dev",
            "ApproveProd",
            "Prod"
        ]
    );
    let position = |stack: &str, step: &str| -> (usize, i64) {
        let (stage, _, order) = orders
            .iter()
            .find(|(_, a, _)| *a == format!("{stack}.{step}"))
            .unwrap_or_else(|| panic!("no action {stack}.{step}"));
        (stage_names.iter().position(|s| s == stage).unwrap(), *order)
    };
    for s in deployed.stacks.iter() {
        let (stage, prepare) = position(&s.name, "Prepare");
        assert_eq!(position(&s.name, "Deploy"), (stage, prepare + 1));
        for dep in &s.dependencies {
            let (dep_stage, dep_prepare) = position(dep, "Prepare");
            assert!(
                dep_stage < stage || (dep_stage == stage && dep_prepare + 1 < prepare),
                "{} is prepared (stage {stage}, runOrder {prepare}) before its dependency {dep} is deployed \
                 (stage {dep_stage}, runOrder {})",
                s.name,
                dep_prepare + 1
            );
        }
    }
    // Independent stacks share a run order, so CodePipeline runs them in parallel.
    assert_eq!(position("B", "Prepare"), position("C", "Prepare"));
    assert_eq!(position("A", "Prepare").1, 1);
    assert_eq!(position("B", "Prepare").1, 3);
    assert_eq!(position("D", "Prepare"), position("E", "Prepare"));
    // The pipeline updates itself before any environment.
    assert_eq!(position("Tools", "Prepare"), (2, 1));
}

#[test]
fn change_sets_are_created_then_executed_with_the_deploy_role() {
    let t = pipeline_template();
    let stages = resource(&t, "Delivery")["Properties"]["Stages"].clone();
    let dev = stages
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == "Dev")
        .unwrap();
    let prepare = &dev["Actions"][0];
    assert_eq!(prepare["Name"], "A.Prepare");
    assert_eq!(
        prepare["Configuration"],
        json!({
            "ActionMode": "CHANGE_SET_REPLACE",
            "StackName": "A",
            "ChangeSetName": "cfnkit-pipeline",
            "TemplatePath": "Synth::A.template.json",
            "Capabilities": "CAPABILITY_IAM,CAPABILITY_NAMED_IAM,CAPABILITY_AUTO_EXPAND",
            "RoleArn": {"Fn::GetAtt": ["DeliveryDeployRole", "Arn"]},
        })
    );
    assert_eq!(
        dev["Actions"][1]["Configuration"]["ActionMode"],
        "CHANGE_SET_EXECUTE"
    );
    let store = &resource(&t, "Delivery")["Properties"]["ArtifactStore"];
    assert_eq!(
        store["EncryptionKey"],
        json!({"Id": {"Fn::GetAtt": ["DeliveryArtifactKey", "Arn"]}, "Type": "KMS"})
    );
    let build = &resource(&t, "DeliveryBuild")["Properties"];
    assert_eq!(
        build["EncryptionKey"],
        json!({"Fn::GetAtt": ["DeliveryArtifactKey", "Arn"]})
    );
    assert_eq!(build["Cache"]["Type"], "S3");
    let spec: Value = serde_json::from_str(build["Source"]["BuildSpec"].as_str().unwrap()).unwrap();
    let commands = spec["phases"]["build"]["commands"].to_string();
    assert!(
        commands.contains("cargo test --workspace --locked"),
        "{commands}"
    );
    assert!(commands.contains("package --out cfnkit.out"), "{commands}");
}

#[test]
fn the_roles_are_scoped_to_the_pipelines_stacks_and_services() {
    let t = pipeline_template();
    let role = role_statements(&t, "DeliveryRole");
    let change_sets = role
        .iter()
        .find(|s| {
            s["Action"]
                .to_string()
                .contains("cloudformation:ExecuteChangeSet")
        })
        .unwrap();
    let stacks: Vec<String> = change_sets["Resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["Fn::Sub"]
                .as_str()
                .unwrap()
                .rsplit(":stack/")
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(stacks, ["Tools/*", "A/*", "B/*", "C/*", "D/*", "E/*"]);
    let pass = role.iter().find(|s| s["Action"] == "iam:PassRole").unwrap();
    assert_eq!(
        pass["Condition"],
        json!({"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}})
    );
    let deploy = role_statements(&t, "DeliveryDeployRole");
    let services = deploy.iter().find(|s| s["Resource"] == "*").unwrap()["Action"].clone();
    assert_eq!(
        services,
        json!([
            "codebuild:*",
            "codepipeline:*",
            "iam:*",
            "kms:*",
            "logs:*",
            "s3:*",
            "sns:*"
        ])
    );
    assert!(role.iter().all(|s| s["Resource"] != "*"), "{role:#?}");
}

#[test]
fn a_stack_deployed_before_its_dependency_is_refused() {
    let deployed = deployed_app();
    let app = App::new();
    let tools = app.stack("Tools");
    let e = Pipeline::new(
        &tools.scope(),
        "Delivery",
        &deployed,
        PipelineSource::Connection {
            connection_arn: "arn:aws:codeconnections:eu-west-1:111122223333:connection/0000".into(),
            repository: "example/shop".into(),
            branch: "main".into(),
        },
        vec![
            DeployStage {
                name: "Dev".into(),
                stacks: vec!["B".into(), "C".into(), "D".into(), "E".into()],
                approval_before: false,
            },
            DeployStage {
                name: "Prod".into(),
                stacks: vec!["A".into()],
                approval_before: true,
            },
        ],
        PipelineProps::default(),
    )
    .unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("B (stage Dev) depends on A, which is deployed by the later stage Prod"),
        "{message}"
    );
    // Nothing was added for the refused stages.
    tools.add_raw("Marker", RawResource::new("AWS::SNS::Topic"));
    assert_eq!(
        of_type(&template(&app, "Tools"), "AWS::SNS::Topic").len(),
        1
    );
    assert_eq!(
        template(&app, "Tools")["Resources"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn every_stack_must_be_deployed_by_one_stage() {
    let deployed = deployed_app();
    let app = App::new();
    let mut stages = stages();
    stages[1].stacks.pop();
    let e = example_with(&app, &deployed, stages).unwrap_err();
    assert!(e.to_string().contains("no stage deploys E"), "{e}");
    let mut stages = self::stages();
    stages[1].stacks.push("A".into());
    let e = example_with(&app, &deployed, stages).unwrap_err();
    assert!(
        e.to_string()
            .contains("A is deployed by stages Dev and Prod"),
        "{e}"
    );
    let mut stages = self::stages();
    stages[0].name = "Build".into();
    let e = example_with(&app, &deployed, stages).unwrap_err();
    assert!(e.to_string().contains("got \"Build\""), "{e}");
}

fn example_with(
    app: &App,
    deployed: &Assembly,
    stages: Vec<DeployStage>,
) -> Result<Pipeline, ConstructError> {
    let bucket = Bucket::new(&app.stack("Src").scope(), "Src", BucketProps::default()).unwrap();
    Pipeline::new(
        &app.stack("Tools").scope(),
        "Delivery",
        deployed,
        PipelineSource::S3 {
            bucket: &bucket,
            key: "source/app.zip".into(),
        },
        stages,
        PipelineProps::default(),
    )
}

#[test]
fn a_parameter_without_default_is_refused() {
    let app = App::new();
    let a = app.stack("A");
    a.add_parameter("ImageTag", cfnkit::Parameter::<String>::string());
    a.add_raw("Topic", RawResource::new("AWS::SNS::Topic"));
    let deployed = synth(&app).unwrap();
    let tools = App::new();
    let e = Pipeline::new(
        &tools.stack("Tools").scope(),
        "Delivery",
        &deployed,
        PipelineSource::Connection {
            connection_arn: "arn:aws:codeconnections:eu-west-1:111122223333:connection/0000".into(),
            repository: "example/shop".into(),
            branch: "main".into(),
        },
        vec![DeployStage {
            name: "Dev".into(),
            stacks: vec!["A".into()],
            approval_before: false,
        }],
        PipelineProps::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("ImageTag without a Default"), "{e}");
}

#[test]
fn example_stack_snapshot() {
    insta::assert_snapshot!(
        "pipelines_example",
        serde_json::to_string_pretty(&pipeline_template()).unwrap()
    );
}

#[test]
fn example_stack_passes_the_rule_pack() {
    let app = App::new();
    example(&app, &deployed_app()).unwrap();
    assert_rules_clean(&app);
}

#[test]
fn example_stack_passes_cfn_lint() {
    let app = App::new();
    example(&app, &deployed_app()).unwrap();
    lint_or_skip(&app);
}

#[test]
fn example_stack_passes_checkov() {
    let app = App::new();
    example(&app, &deployed_app()).unwrap();
    checkov_or_skip(&app);
}
