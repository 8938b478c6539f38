//! Targeted checks of the seed-004 stacks that snapshots would only show, not enforce: what differs between
//! the environments, and the security settings the foundation promises.

use serde_json::Value;

fn template(name: &str) -> Value {
    let assembly = cfnkit::synth::synth(&stacks::app().unwrap()).unwrap();
    let stack = assembly
        .stack(name)
        .unwrap_or_else(|| panic!("no stack {name}"));
    serde_json::from_str(&stack.template.to_json()).unwrap()
}

fn of_type<'a>(t: &'a Value, type_name: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == type_name)
        .collect()
}

fn props<'a>(t: &'a Value, type_name: &str) -> &'a Value {
    let found = of_type(t, type_name);
    assert_eq!(
        found.len(),
        1,
        "one {type_name} expected, found {}",
        found.len()
    );
    &found[0].1["Properties"]
}

#[test]
fn prod_has_a_nat_gateway_per_az_and_dev_one_shared_by_both_private_subnets() {
    for (env, nats) in [("Dev", 1), ("Prod", 2)] {
        let t = template(&format!("{env}Network"));
        assert_eq!(of_type(&t, "AWS::EC2::NatGateway").len(), nats, "{env}");
        let routes: Vec<String> = (1..=2)
            .map(|i| {
                t["Resources"][format!("PrivateSubnet{i}DefaultRoute")]["Properties"]
                    ["NatGatewayId"]["Ref"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let expected: Vec<String> = (1..=2)
            .map(|i| format!("NatGateway{}", i.min(nats)))
            .collect();
        assert_eq!(
            routes, expected,
            "{env}: each private subnet routes through its AZ's gateway, or the only one"
        );
        assert_eq!(
            of_type(&t, "AWS::EC2::Subnet").len(),
            4,
            "{env}: public and private subnet in two AZs"
        );
        assert_eq!(props(&t, "AWS::EC2::FlowLog")["TrafficType"], "ALL");
    }
}

#[test]
fn the_database_is_multi_az_in_prod_only_and_always_encrypted_private_and_protected() {
    for (env, multi_az) in [("Dev", false), ("Prod", true)] {
        let t = template(&format!("{env}Data"));
        let (_, db) = of_type(&t, "AWS::RDS::DBInstance")[0];
        let p = &db["Properties"];
        assert_eq!(p["MultiAZ"], multi_az, "{env}");
        assert_eq!(p["StorageEncrypted"], true);
        assert_eq!(p["PubliclyAccessible"], false);
        assert_eq!(p["DeletionProtection"], true);
        assert_eq!(
            p["ManageMasterUserPassword"], true,
            "{env}: credentials in Secrets Manager, not the template"
        );
        assert!(p.get("MasterUserPassword").is_none());
        assert_eq!(db["DeletionPolicy"], "Snapshot");
        // The only checkov skip is dev's single AZ, and only in dev.
        let skips = db["Metadata"]["checkov"]["skip"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        assert_eq!(skips, usize::from(!multi_az), "{env}");

        let cache = props(&t, "AWS::ElastiCache::ReplicationGroup");
        assert_eq!(cache["AtRestEncryptionEnabled"], true);
        assert_eq!(cache["TransitEncryptionEnabled"], true);
        let token = cache["AuthToken"]["Fn::Sub"][0].as_str().unwrap();
        assert!(
            token.starts_with("{{resolve:secretsmanager:"),
            "the AUTH token is resolved at deploy time: {token}"
        );
    }
}

#[test]
fn the_eks_api_is_private_logs_everything_and_encrypts_secrets() {
    for env in ["Dev", "Prod"] {
        let t = template(&format!("{env}Compute"));
        let eks = props(&t, "AWS::EKS::Cluster");
        assert_eq!(eks["ResourcesVpcConfig"]["EndpointPublicAccess"], false);
        assert_eq!(eks["ResourcesVpcConfig"]["EndpointPrivateAccess"], true);
        assert_eq!(eks["EncryptionConfig"][0]["Resources"][0], "secrets");
        assert_eq!(
            eks["Logging"]["ClusterLogging"]["EnabledTypes"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        let service = props(&t, "AWS::ECS::Service");
        assert_eq!(
            service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"],
            "DISABLED"
        );
        let cluster = props(&t, "AWS::ECS::Cluster");
        assert_eq!(
            cluster["ClusterSettings"][0]["Value"], "enabled",
            "container insights"
        );
    }
}

#[test]
fn identity_exports_what_the_apis_attach_and_the_trail_is_validated_and_multi_region() {
    for env in ["Dev", "Prod"] {
        let t = template(&format!("{env}Identity"));
        let exports: Vec<&str> = t["Outputs"]
            .as_object()
            .unwrap()
            .values()
            .map(|o| o["Export"]["Name"].as_str().unwrap())
            .collect();
        assert!(
            exports.contains(&format!("{env}Identity:UserPool:Arn").as_str()),
            "{exports:?}"
        );
        assert!(
            exports.contains(&format!("{env}Identity:WebAcl:Arn").as_str()),
            "{exports:?}"
        );
        let acl = props(&t, "AWS::WAFv2::WebACL");
        assert_eq!(acl["Scope"], "REGIONAL");

        let t = template(&format!("{env}Observability"));
        let trail = props(&t, "AWS::CloudTrail::Trail");
        assert_eq!(trail["IsMultiRegionTrail"], true);
        assert_eq!(trail["EnableLogFileValidation"], true);
        assert!(
            trail["KMSKeyId"].is_object(),
            "encrypted with the environment key"
        );
    }
}

#[test]
fn every_domain_event_source_flows_to_the_encrypted_stream() {
    let t = template("Analytics");
    let rule = props(&t, "AWS::Events::Rule");
    let sources: Vec<&str> = rule["EventPattern"]["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(sources, contracts::analytics::DOMAIN_EVENT_SOURCES);
    assert_eq!(
        rule["Targets"][0]["KinesisParameters"]["PartitionKeyPath"],
        "$.detail.orderId"
    );
    let stream = props(&t, "AWS::Kinesis::Stream");
    assert_eq!(stream["StreamEncryption"]["EncryptionType"], "KMS");
}

/// Across every stack of the platform: no IAM role or policy allows a KMS action with a `*` (the grants name
/// `kms:Decrypt`, `kms:GenerateDataKey`...), and in key policies only the account root has `kms:*`.
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
                    let root_admin = is_key_policy
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
