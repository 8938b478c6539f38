//! Targeted checks of the seed-004 stacks that snapshots would only show, not enforce: what differs between
//! the environments, and the security settings the foundation promises.

use cfnkit::assertions::{Match, Template, Templates};
use serde_json::{json, Value};

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
