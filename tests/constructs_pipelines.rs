//! `pipelines::Pipeline`: source, build, self-update, then one stage per environment deploying the app's stacks
//! with change sets in the manifest's order, independent stacks in parallel; the checks of the stages.

mod constructs_support;

use std::collections::BTreeMap;

use cfnkit::constructs::pipelines::{
    DeployStage, Pipeline, PipelineProps, PipelineSource, RegionalArtifactStore,
};
use cfnkit::constructs::s3::{Bucket, BucketProps};
use cfnkit::constructs::ConstructError;
use cfnkit::synth::{synth, Assembly};
use cfnkit::{fns, App, Environment, RawResource};
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
            env: None,
        },
        DeployStage {
            name: "Prod".into(),
            stacks: vec!["D".into(), "E".into()],
            approval_before: true,
            env: None,
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
                env: None,
            },
            DeployStage {
                name: "Prod".into(),
                stacks: vec!["A".into()],
                approval_before: true,
                env: None,
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
            env: None,
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

const PROD_ACCOUNT: &str = "222222222222";
const PROD_REGION: &str = "us-west-2";

/// The example's pipeline in account 111111111111 / eu-west-1, with Prod in another account and region.
fn cross_env_example(
    app: &App,
    stores: BTreeMap<String, RegionalArtifactStore>,
) -> Result<Pipeline, ConstructError> {
    let tools = app.stack("Tools");
    tools.set_env(Environment {
        account: Some("111111111111".into()),
        region: Some("eu-west-1".into()),
    });
    let mut stages = stages();
    stages[1].env = Some(Environment {
        account: Some(PROD_ACCOUNT.into()),
        region: Some(PROD_REGION.into()),
    });
    Pipeline::new(
        &tools.scope(),
        "Delivery",
        &deployed_app(),
        PipelineSource::Connection {
            connection_arn: fns::sub(
                "arn:${AWS::Partition}:codeconnections:${AWS::Region}:${AWS::AccountId}:connection/0000",
            ),
            repository: "example/shop".into(),
            branch: "main".into(),
        },
        stages,
        PipelineProps {
            artifact_stores: stores,
            ..Default::default()
        },
    )
}

fn us_west_2_store() -> BTreeMap<String, RegionalArtifactStore> {
    BTreeMap::from([(
        PROD_REGION.to_owned(),
        RegionalArtifactStore {
            bucket_name: "shop-artifacts-us-west-2".into(),
            key_arn: "arn:aws:kms:us-west-2:111111111111:key/0000".into(),
        },
    )])
}

fn actions_of<'a>(t: &'a Value, stage: &str) -> Vec<&'a Value> {
    resource(t, "Delivery")["Properties"]["Stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Name"] == stage)
        .flat_map(|s| s["Actions"].as_array().unwrap())
        .collect()
}

#[test]
fn a_stage_in_another_account_and_region_carries_the_region_and_the_targets_roles() {
    let app = App::new();
    cross_env_example(&app, us_west_2_store()).unwrap();
    let t = template(&app, "Tools");
    let deploy_role = json!({"Fn::Sub": format!(
        "arn:${{AWS::Partition}}:iam::{PROD_ACCOUNT}:role/cfnkit-deploy-{PROD_ACCOUNT}-{PROD_REGION}"
    )});
    let execution_role = json!({"Fn::Sub": format!(
        "arn:${{AWS::Partition}}:iam::{PROD_ACCOUNT}:role/cfnkit-exec-{PROD_ACCOUNT}-{PROD_REGION}"
    )});
    let prod = actions_of(&t, "Prod");
    assert_eq!(prod.len(), 4);
    for a in &prod {
        assert_eq!(a["Region"], PROD_REGION, "{a:#}");
        assert_eq!(a["RoleArn"], deploy_role, "{a:#}");
    }
    let prepare = prod.iter().find(|a| a["Name"] == "D.Prepare").unwrap();
    assert_eq!(prepare["Configuration"]["RoleArn"], execution_role);
    // Dev stays in the pipeline's account and region, with the pipeline's CloudFormation role.
    for a in actions_of(&t, "Dev") {
        assert!(
            a.get("Region").is_none() && a.get("RoleArn").is_none(),
            "{a:#}"
        );
    }

    // One artifact store per region, the pipeline's own included.
    let props = &resource(&t, "Delivery")["Properties"];
    assert!(props.get("ArtifactStore").is_none());
    let stores = props["ArtifactStores"].as_array().unwrap();
    let regions: Vec<&Value> = stores.iter().map(|s| &s["Region"]).collect();
    assert_eq!(regions, ["eu-west-1", PROD_REGION]);
    assert_eq!(
        stores[1]["ArtifactStore"],
        json!({"Type": "S3", "Location": "shop-artifacts-us-west-2",
               "EncryptionKey": {"Id": "arn:aws:kms:us-west-2:111111111111:key/0000", "Type": "KMS"}})
    );

    // The pipeline may assume the target's deploy role, which may read the artifacts and use their key.
    let role = role_statements(&t, "DeliveryRole");
    assert!(role
        .iter()
        .any(|s| s["Action"] == "sts:AssumeRole" && s["Resource"] == deploy_role));
    let key_policy = statements(&resource(&t, "DeliveryArtifactKey")["Properties"]["KeyPolicy"]);
    assert!(
        key_policy
            .iter()
            .any(|s| s["Principal"]["AWS"] == deploy_role
                && allows(std::slice::from_ref(s), "kms:Decrypt")),
        "{key_policy:#?}"
    );
    let bucket_policy =
        statements(&resource(&t, "DeliveryArtifactsPolicy")["Properties"]["PolicyDocument"]);
    assert!(
        bucket_policy
            .iter()
            .any(|s| s["Principal"]["AWS"] == deploy_role
                && allows(std::slice::from_ref(s), "s3:GetObject")),
        "{bucket_policy:#?}"
    );
    // Prod's stacks are the target's business: the pipeline's role creates no change sets on them.
    let change_sets: Vec<String> = role
        .iter()
        .filter(|s| allows(std::slice::from_ref(*s), "cloudformation:CreateChangeSet"))
        .flat_map(|s| s["Resource"].as_array().cloned().unwrap_or_default())
        .map(|r| r.to_string())
        .collect();
    assert!(change_sets.iter().any(|r| r.contains("stack/A/*")));
    assert!(
        !change_sets.iter().any(|r| r.contains("stack/D/*")),
        "{change_sets:?}"
    );
}

#[test]
fn a_stage_in_a_region_without_an_artifact_store_is_a_clear_error() {
    let app = App::new();
    let e = cross_env_example(&app, BTreeMap::new())
        .unwrap_err()
        .to_string();
    for expected in [
        "stage Prod deploys to region us-west-2, where the pipeline has no artifact store",
        "PipelineProps::artifact_stores[\"us-west-2\"]",
    ] {
        assert!(e.contains(expected), "{expected:?} not in: {e}");
    }
}

#[test]
fn a_stage_env_needs_the_pipelines_own_env_to_compare_with() {
    let app = App::new();
    let mut stages = stages();
    stages[1].env = Some(Environment {
        account: None,
        region: Some(PROD_REGION.into()),
    });
    let e = Pipeline::new(
        &app.stack("Tools").scope(),
        "Delivery",
        &deployed_app(),
        PipelineSource::Connection {
            connection_arn: "arn:aws:codeconnections:eu-west-1:111122223333:connection/0000".into(),
            repository: "example/shop".into(),
            branch: "main".into(),
        },
        stages,
        PipelineProps {
            artifact_stores: us_west_2_store(),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("stage Prod deploys to region us-west-2, and the pipeline's stack Tools has no region: set it with `stack.set_env`"),
        "{e}"
    );
}

#[test]
fn the_cross_environment_pipeline_passes_the_rule_pack() {
    let app = App::new();
    cross_env_example(&app, us_west_2_store()).unwrap();
    assert_rules_clean(&app);
}
