//! Targeted checks of the seed-004 stacks that snapshots would only show, not enforce: what differs between
//! the environments, and the security settings the foundation promises.

use cfnkit::assertions::{Match, Template, Templates};
use serde_json::{json, Value};
use stacks::foundation::observability::BASELINE_TRACING;
use stacks::foundation::Env;

/// The platform's templates, synthesized and checked by the rule pack as `cargo run -- synth` does.
fn templates() -> Templates {
    Templates::from_app(&stacks::app().unwrap()).unwrap()
}

fn of_type<'a>(t: &'a Value, type_name: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == type_name)
        .collect()
}

/// Asserts that the stack has one resource of this type, whose properties match `pattern`.
#[track_caller]
fn one_with(t: &Template, type_name: &str, pattern: Value) {
    t.resource_count_is(type_name, 1);
    t.has_resource_properties(type_name, pattern);
}

#[test]
fn prod_has_a_nat_gateway_per_az_and_dev_one_shared_by_both_private_subnets() {
    let templates = templates();
    for (env, nats) in [("Dev", 1), ("Prod", 2)] {
        let t = templates.stack(&format!("{env}Network"));
        t.resource_count_is("AWS::EC2::NatGateway", nats);
        // Each private subnet routes through its AZ's gateway, or the only one.
        for i in 1..=2 {
            t.has_resource_with_id(
                &format!("PrivateSubnet{i}DefaultRoute"),
                json!({"Properties": {"NatGatewayId": {"Ref": format!("NatGateway{}", i.min(nats))}}}),
            );
        }
        // Public and private subnet in two AZs.
        t.resource_count_is("AWS::EC2::Subnet", 4);
        one_with(t, "AWS::EC2::FlowLog", json!({"TrafficType": "ALL"}));
    }
}

#[test]
fn the_database_is_multi_az_in_prod_only_and_always_encrypted_private_and_protected() {
    let templates = templates();
    for (env, multi_az) in [("Dev", false), ("Prod", true)] {
        let t = templates.stack(&format!("{env}Data"));
        // The only checkov skip is dev's single AZ, and only in dev.
        let metadata = if multi_az {
            Match::not(Match::object_like(json!({"checkov": Match::any_value()})))
        } else {
            Match::object_like(json!({"checkov": {"skip": [{"id": "CKV_AWS_157"}]}}))
        };
        t.resource_count_is("AWS::RDS::DBInstance", 1);
        t.has_resource(
            "AWS::RDS::DBInstance",
            json!({
                "Properties": {
                    "MultiAZ": multi_az,
                    "StorageEncrypted": true,
                    "PubliclyAccessible": false,
                    "DeletionProtection": true,
                    // Credentials in Secrets Manager, not the template.
                    "ManageMasterUserPassword": true,
                    "MasterUserPassword": Match::absent(),
                },
                "DeletionPolicy": "Snapshot",
                "Metadata": metadata,
            }),
        );
        one_with(
            t,
            "AWS::ElastiCache::ReplicationGroup",
            json!({
                "AtRestEncryptionEnabled": true,
                "TransitEncryptionEnabled": true,
                // The AUTH token is resolved at deploy time.
                "AuthToken": {"Fn::Sub": [Match::string_like_regexp(r"^\{\{resolve:secretsmanager:"), Match::any_value()]},
            }),
        );
    }
}

#[test]
fn the_eks_api_is_private_logs_everything_and_encrypts_secrets() {
    let templates = templates();
    for env in ["Dev", "Prod"] {
        let t = templates.stack(&format!("{env}Compute"));
        one_with(
            t,
            "AWS::EKS::Cluster",
            json!({
                "ResourcesVpcConfig": {"EndpointPublicAccess": false, "EndpointPrivateAccess": true},
                "EncryptionConfig": [{"Resources": ["secrets"]}],
                "Logging": {"ClusterLogging": {"EnabledTypes": [
                    {"Type": "api"}, {"Type": "audit"}, {"Type": "authenticator"},
                    {"Type": "controllerManager"}, {"Type": "scheduler"},
                ]}},
            }),
        );
        one_with(
            t,
            "AWS::ECS::Service",
            json!({"NetworkConfiguration": {"AwsvpcConfiguration": {"AssignPublicIp": "DISABLED"}}}),
        );
        // Container insights.
        one_with(
            t,
            "AWS::ECS::Cluster",
            json!({"ClusterSettings": Match::array_with([json!({"Name": "containerInsights", "Value": "enabled"})])}),
        );
    }
}

#[test]
fn identity_exports_what_the_apis_attach_and_the_trail_is_validated_and_multi_region() {
    let templates = templates();
    for env in ["Dev", "Prod"] {
        let t = templates.stack(&format!("{env}Identity"));
        for exported in ["UserPool", "WebAcl"] {
            t.has_output(
                "*",
                json!({"Export": {"Name": format!("{env}Identity:{exported}:Arn")}}),
            );
        }
        one_with(t, "AWS::WAFv2::WebACL", json!({"Scope": "REGIONAL"}));

        let t = templates.stack(&format!("{env}Observability"));
        one_with(
            t,
            "AWS::CloudTrail::Trail",
            json!({
                "IsMultiRegionTrail": true,
                "EnableLogFileValidation": true,
                // Encrypted with the environment key.
                "KMSKeyId": {"Fn::ImportValue": format!("{env}Network:EnvKey:Arn")},
            }),
        );
    }
}

#[test]
fn every_domain_event_source_flows_to_the_encrypted_stream() {
    let templates = templates();
    let t = templates.stack("Analytics");
    one_with(
        t,
        "AWS::Events::Rule",
        json!({
            "EventPattern": {"source": contracts::analytics::DOMAIN_EVENT_SOURCES},
            "Targets": [{"KinesisParameters": {"PartitionKeyPath": "$.detail.orderId"}}],
        }),
    );
    one_with(
        t,
        "AWS::Kinesis::Stream",
        json!({"StreamEncryption": {"EncryptionType": "KMS"}}),
    );
}

/// Across every stack of the platform: no IAM role or policy allows a KMS action with a `*` (the grants name
/// `kms:Decrypt`, `kms:GenerateDataKey`...), and in key policies only the account root has `kms:*`. The one
/// exception is the delivery pipeline's deploy role: CloudFormation, which creates and administers the
/// platform's keys, is a key administrator by definition.
#[test]
fn no_kms_action_in_the_platform_has_a_wildcard_beyond_the_key_admin() {
    let assembly = cfnkit::synth::synth(&stacks::app().unwrap()).unwrap();
    let mut checked_roles = 0;
    let mut checked_keys = 0;
    for stack in &assembly.stacks {
        let t: Value = serde_json::from_str(&stack.template.to_json()).unwrap();
        let name = &stack.name;
        let mut documents: Vec<(String, bool, &Value)> = Vec::new();
        for (id, role) in of_type(&t, "AWS::IAM::Role") {
            checked_roles += 1;
            for p in role["Properties"]["Policies"]
                .as_array()
                .into_iter()
                .flatten()
            {
                documents.push((id.clone(), false, &p["PolicyDocument"]));
            }
        }
        for (id, policy) in of_type(&t, "AWS::IAM::Policy") {
            documents.push((id.clone(), false, &policy["Properties"]["PolicyDocument"]));
        }
        for (id, key) in of_type(&t, "AWS::KMS::Key") {
            checked_keys += 1;
            documents.push((id.clone(), true, &key["Properties"]["KeyPolicy"]));
        }
        for (id, is_key_policy, doc) in documents {
            for st in doc["Statement"].as_array().unwrap() {
                let actions: Vec<&str> = match &st["Action"] {
                    Value::String(a) => vec![a.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    other => panic!("{name}/{id}: action {other}"),
                };
                for a in actions
                    .iter()
                    .filter(|a| a.starts_with("kms:") && a.contains('*'))
                {
                    let deployer = name == stacks::delivery::STACK && id == "PipelineDeployRole";
                    let root_admin = deployer
                        || is_key_policy
                            && *a == "kms:*"
                            && st["Principal"]["AWS"]["Fn::Sub"]
                                .as_str()
                                .is_some_and(|p| p.ends_with(":root"));
                    assert!(root_admin, "{name}/{id}: {a} in {st:#}");
                }
            }
        }
    }
    // The check ran over the platform's roles and keys (not a vacuous pass).
    assert!(checked_roles >= 30, "only {checked_roles} roles");
    assert!(checked_keys >= 5, "only {checked_keys} keys");
}

#[test]
fn every_workload_account_gets_the_tracing_baseline_in_the_environments_regions() {
    let templates = templates();
    for env in [Env::dev(), Env::prod()] {
        let t = templates.stack(&env.stack_name("Observability"));
        let regions: Vec<&str> = env.regions.to_vec();
        one_with(
            t,
            "AWS::CloudFormation::StackSet",
            json!({
                "PermissionModel": "SERVICE_MANAGED",
                "CallAs": "DELEGATED_ADMIN",
                "AutoDeployment": {"Enabled": true, "RetainStacksOnAccountRemoval": true},
                "StackInstancesGroup": [{
                    "DeploymentTargets": {"OrganizationalUnitIds": env.workload_ous},
                    "Regions": regions,
                }],
                "OperationPreferences": {
                    "MaxConcurrentCount": env.baseline_accounts_at_once,
                    "FailureToleranceCount": env.baseline_accounts_at_once - 1,
                    "RegionOrder": regions,
                },
                "Parameters": [{"ParameterKey": "Environment", "ParameterValue": env.name.to_lowercase()}],
                // The tracing every account gets, and nothing that points back at this account.
                "TemplateBody": Match::serialized_json(Match::object_like(json!({
                    "Resources": Match::object_equals(json!({
                        "XRayGroup": {"Type": "AWS::XRay::Group", "Properties": Match::object_like(json!({
                            "GroupName": BASELINE_TRACING,
                            "InsightsConfiguration": {"InsightsEnabled": true, "NotificationsEnabled": false},
                        }))},
                        "XRaySamplingRule": Match::object_like(json!({"Type": "AWS::XRay::SamplingRule"})),
                    })),
                }))),
            }),
        );
    }
}

/// Where a tool may be: the repository's venvs (made by `.ci/run`), then PATH.
fn tool(name: &str, venv: &str) -> Option<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    [root.join(venv).join("bin").join(name), name.into()]
        .into_iter()
        .find(|p| {
            std::process::Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .or_else(|| {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "{name} not found and CI=true: install it"
            );
            eprintln!("note: {name} not found: skipping it on the stack sets' templates");
            None
        })
}

/// The stack sets' templates are not files of `synth`'s output, so CI's cfn-lint and checkov of `cfnkit.out` do
/// not read them: they are judged here, as CloudFormation will read them from TemplateBody.
#[test]
fn the_stack_sets_templates_pass_cfn_lint_at_every_level_and_checkov() {
    let templates = templates();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for t in templates.iter() {
        for (id, r) in of_type(t.as_value(), "AWS::CloudFormation::StackSet") {
            let path = dir
                .path()
                .join(format!("{}.{id}.template.json", t.stack_name()));
            std::fs::write(&path, r["Properties"]["TemplateBody"].as_str().unwrap()).unwrap();
            files.push(path);
        }
    }
    assert_eq!(files.len(), 2, "a baseline stack set per environment");
    if let Some(lint) = tool("cfn-lint", ".ci/venv") {
        let out = std::process::Command::new(lint)
            .args(["--format", "parseable", "--include-checks", "I", "--"])
            .args(&files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cfn-lint findings:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if let Some(checkov) = tool("checkov", ".ci/venv-checkov") {
        let out = std::process::Command::new(checkov)
            .arg("-d")
            .arg(dir.path())
            .args([
                "--framework",
                "cloudformation",
                "--skip-download",
                "--compact",
                "--quiet",
            ])
            .args(["--output", "json"])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "checkov wrote no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        // checkov 3.3.30 has no check of X-Ray groups or sampling rules, so none passes either; what matters is
        // that both templates were read and nothing failed.
        let summary = report.get("summary").unwrap_or(&report);
        assert_eq!(
            summary["parsing_errors"], 0,
            "checkov could not read a template: {report:#}"
        );
        assert_eq!(
            summary["failed"], 0,
            "checkov found failed checks: {report:#}"
        );
    }
}
