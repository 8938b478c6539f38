//! The bootstrap stack: what deployments need before the first one, the assets bucket, and with `--trust` the
//! roles other accounts use to deploy here (a pipeline in a tools account) and to read stack outputs
//! (`Fn::GetStackOutput` across accounts). It is an ordinary cfnkit app, so the rule pack checks it like any
//! other, and CI lints its template (deploy/ci.sh).

use cfnkit::constructs::iam::{PolicyDocument, PolicyStatement, Principal, Role, RoleProps};
use cfnkit::constructs::{actions, Construct, ConstructError};
use cfnkit::environments::BootstrapRole;
use cfnkit::synth::output::{self, Format};
use cfnkit::{fns, App, Output, RawResource, RemovalPolicy, Stack, Val, Value};
use serde_json::json;

use crate::aws::BOOTSTRAP_STACK;
use crate::error::DeployError;

/// Bumped when the template changes, and an output so that a deploy can tell an outdated bootstrap.
///
/// 2: the roles of `--trust` (deploy, execution, publishing, lookup). A template without `--trust` differs from
/// version 1 only in this number, so that the version names what this tool can write.
pub const BOOTSTRAP_VERSION: u32 = 2;

/// The oldest bootstrap version this cfnkit deploys with: raised (to BOOTSTRAP_VERSION) when a deploy starts
/// to rely on something a newer bootstrap template adds, as CDK's `requiresBootstrapStackVersion`. A newer
/// bootstrap than this cfnkit knows is fine: bootstrap templates only add.
pub const MIN_BOOTSTRAP_VERSION: u32 = 1;

/// The bootstrap stack's output holding [`BOOTSTRAP_VERSION`].
pub const VERSION_OUTPUT: &str = "BootstrapVersion";

/// The version a deployed bootstrap stack has: the `BootstrapVersion` output's value in its deployed template,
/// which this tool writes as a literal, so the template says exactly what was deployed; failing that (a
/// bootstrap template whose output is computed), the stack's reported output. The template comes first because
/// reported outputs can lag: moto keeps a stack's outputs from before an update made through a change set,
/// where AWS reports the new ones (they are equal there). `None`: neither has one (not a cfnkit bootstrap stack).
pub fn deployed_version(
    template: Option<&serde_json::Value>,
    outputs: &[(String, String)],
) -> Option<String> {
    let literal = template
        .and_then(|t| t.get("Outputs")?.get(VERSION_OUTPUT)?.get("Value"))
        .and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    literal.or_else(|| {
        outputs
            .iter()
            .find(|(k, _)| k == VERSION_OUTPUT)
            .map(|(_, v)| v.clone())
    })
}

/// Whether a deployed bootstrap version is recent enough; the error names what was found.
pub fn check_version(found: Option<&str>) -> Result<u32, String> {
    match found.map(|v| v.trim().parse::<u32>()) {
        Some(Ok(v)) if v >= MIN_BOOTSTRAP_VERSION => Ok(v),
        Some(Ok(v)) => Err(v.to_string()),
        Some(Err(_)) => Err(format!("`{}`", found.unwrap_or_default())),
        None => Err("none (no BootstrapVersion output)".to_owned()),
    }
}

/// Why the assets bucket has no server access logs: the exception is written down where both rule sets read
/// it (the rule pack's suppression and checkov's skip).
const NO_ACCESS_LOGS: &str = "The assets bucket holds only build artefacts that cargo cfn deploy writes and \
     CloudFormation reads; access logs would need a second bucket carrying this same exception. Audit object access \
     with CloudTrail S3 data events where it is required.";

/// What `cargo cfn bootstrap` makes beyond the assets bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootstrapOptions {
    /// Accounts (12 digits) whose principals may deploy here, publish assets and read stack outputs: the
    /// deploy, publishing and lookup roles trust them. None: no roles, the template of the assets bucket alone.
    pub trust: Vec<String>,
    /// The AWS services (IAM prefixes) CloudFormation's execution role may manage for the trusted accounts'
    /// deployments. Empty: [`DEFAULT_EXECUTION_SERVICES`].
    pub execution_services: Vec<String>,
}

/// The services of the resources cfnkit's constructs make (and `cloudformation`, for nested operations), which
/// the execution role of `--trust` manages unless `--execution-services` says otherwise.
pub const DEFAULT_EXECUTION_SERVICES: &[&str] = &[
    "apigateway",
    "cloudformation",
    "cloudwatch",
    "codebuild",
    "codedeploy",
    "codepipeline",
    "dynamodb",
    "events",
    "iam",
    "kinesis",
    "kms",
    "lambda",
    "logs",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
];

impl BootstrapOptions {
    /// The trusted accounts and services, checked: 12-digit accounts, IAM prefixes.
    fn validate(&self) -> Result<(), DeployError> {
        for a in &self.trust {
            if a.len() != 12 || !a.chars().all(|c| c.is_ascii_digit()) {
                return Err(DeployError::BadTrustedAccount(a.clone()));
            }
        }
        for s in &self.execution_services {
            let valid = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                return Err(DeployError::Bootstrap(format!(
                    "--execution-services takes IAM service prefixes such as `lambda` or `dynamodb`, got {s:?}"
                )));
            }
        }
        Ok(())
    }
}

/// The bootstrap app: one stack with the assets bucket `cfnkit-assets-<account>-<region>` (see
/// `cfnkit::constructs::lambda::ASSET_BUCKET`), KMS-encrypted, versioned (old versions expire after 30 days),
/// public access blocked, a policy denying plain HTTP, and kept when the stack is deleted (it may hold the only
/// copy of code that deployed functions still point to).
pub fn app() -> App {
    app_with(&BootstrapOptions::default()).expect("the bootstrap app without --trust builds")
}

/// The bootstrap app with `options`: [`app`], plus the roles of `--trust` when it names accounts.
pub fn app_with(options: &BootstrapOptions) -> Result<App, DeployError> {
    options.validate()?;
    let app = App::new();
    let stack = app.stack(BOOTSTRAP_STACK);
    stack.set_description("cfnkit bootstrap: the assets bucket that `cargo cfn deploy` uploads Lambda code and large templates to");
    let bucket = stack.add_raw(
        "AssetsBucket",
        RawResource::new("AWS::S3::Bucket")
            .prop("BucketName", fns::sub(cfnkit::constructs::lambda::ASSET_BUCKET))
            .prop(
                "BucketEncryption",
                json!({"ServerSideEncryptionConfiguration": [{
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                    "BucketKeyEnabled": true,
                }]}),
            )
            .prop("VersioningConfiguration", json!({"Status": "Enabled"}))
            .prop(
                "PublicAccessBlockConfiguration",
                json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}),
            )
            .prop(
                "LifecycleConfiguration",
                json!({"Rules": [{"Id": "ExpireOldVersions", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}),
            ),
    );
    bucket.apply_removal_policy(RemovalPolicy::Retain);
    cfnkit::rules::suppress(&bucket, &cfnkit::rules::S1, NO_ACCESS_LOGS);
    cfnkit::rules::skip_checkov(&bucket, "CKV_AWS_18", NO_ACCESS_LOGS);
    let arn = bucket.get_att::<String>("Arn");
    stack.add_raw(
        "AssetsBucketPolicy",
        RawResource::new("AWS::S3::BucketPolicy")
            .prop("Bucket", bucket.ref_())
            .prop(
                "PolicyDocument",
                Value::map([
                    ("Version", Value::from("2012-10-17")),
                    (
                        "Statement",
                        Value::list([Value::map([
                            ("Sid", Value::from("DenyPlainHttp")),
                            ("Effect", Value::from("Deny")),
                            ("Principal", Value::map([("AWS", Value::from("*"))])),
                            ("Action", Value::from("s3:*")),
                            (
                                "Resource",
                                Value::list([
                                    arn.clone().into_raw(),
                                    fns::sub("${AssetsBucket.Arn}/*").into_raw(),
                                ]),
                            ),
                            (
                                "Condition",
                                Value::map([(
                                    "Bool",
                                    Value::map([("aws:SecureTransport", Value::from("false"))]),
                                )]),
                            ),
                        ])]),
                    ),
                ]),
            ),
    );
    stack.add_output(
        "BucketName",
        Output::new(bucket.ref_()).description("The assets bucket"),
    );
    stack.add_output(
        "BootstrapVersion",
        Output::new(BOOTSTRAP_VERSION.to_string()).description("The bootstrap template's version"),
    );
    if !options.trust.is_empty() {
        trust_roles(&stack, options, arn).map_err(|e| DeployError::Bootstrap(e.to_string()))?;
    }
    Ok(app)
}

/// The trust policy of the roles other accounts assume: each trusted account's root, which delegates to that
/// account's IAM policies who may assume them.
fn trusting(role: &Role, accounts: &[String]) {
    let statement = accounts.iter().fold(
        PolicyStatement::allow().actions(["sts:AssumeRole"]),
        |s, a| {
            s.principal(Principal::aws(fns::sub(format!(
                "arn:${{AWS::Partition}}:iam::{a}:root"
            ))))
        },
    );
    role.handle().resource_mut().assume_role_policy_document =
        Some(PolicyDocument::with([statement]).to_json());
}

fn named(role: BootstrapRole, description: &str) -> RoleProps {
    RoleProps {
        role_name: Some(fns::sub(role.name_pattern())),
        description: Some(description.to_owned()),
        ..Default::default()
    }
}

/// The roles of `--trust`: deploy, execution, publishing, lookup (see [`BootstrapRole`]).
fn trust_roles(
    stack: &Stack,
    options: &BootstrapOptions,
    bucket_arn: Val<String>,
) -> Result<(), ConstructError> {
    let trusted = &options.trust;
    let stacks =
        fns::sub("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/*");
    let stack_items =
        "Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/*";

    // CloudFormation's role for the trusted accounts' change sets.
    let execution = Role::new(
        stack,
        "ExecutionRole",
        Principal::service("cloudformation.amazonaws.com"),
        named(
            BootstrapRole::Execution,
            "CloudFormation deploying the trusted accounts' change sets: the services their templates use",
        ),
    )?;
    let services: Vec<String> = if options.execution_services.is_empty() {
        DEFAULT_EXECUTION_SERVICES
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    } else {
        options.execution_services.clone()
    };
    let service_actions: Vec<String> = services.iter().map(|s| format!("{s}:*")).collect();
    let service_actions: Vec<&str> = service_actions.iter().map(String::as_str).collect();
    execution.grant(&service_actions, ["*"]);
    // A template reading another account's output (Fn::GetStackOutput's RoleArn) assumes that account's lookup
    // role with this role's credentials.
    let lookup_roles = format!(
        "arn:${{AWS::Partition}}:iam::*:role/{}-*",
        BootstrapRole::Lookup.prefix()
    );
    execution.grant(actions::STS_ASSUME_ROLE, [fns::sub(&lookup_roles)]);
    let mut items: Vec<String> = service_actions
        .iter()
        .map(|a| format!("Action::{a}"))
        .collect();
    items.push("Resource::*".to_owned());
    items.push(format!(
        "Resource::arn:<AWS::Partition>:iam::*:role/{}-*",
        BootstrapRole::Lookup.prefix()
    ));
    let items: Vec<&str> = items.iter().map(String::as_str).collect();
    cfnkit::rules::suppress_only(
        execution.handle(),
        &cfnkit::rules::IAM5,
        &items,
        "CloudFormation creates, updates and deletes every resource of templates not known when bootstrapping, \
         whose names and ARNs exist only once created: the role is limited to the services of \
         --execution-services, and may assume only cfnkit lookup roles (any account's, as the producer's account \
         is named by the template)",
    );
    for check in [
        "CKV_AWS_107",
        "CKV_AWS_108",
        "CKV_AWS_109",
        "CKV_AWS_110",
        "CKV_AWS_111",
    ] {
        cfnkit::rules::skip_checkov(
            execution.handle(),
            check,
            "CloudFormation's execution role creates the resources of the deployed templates, IAM roles and \
             policies included: only CloudFormation may assume it, only the deploy role passes it, and it is \
             limited to the services of --execution-services",
        );
    }

    // Assumed by the trusted accounts (a pipeline's CloudFormation actions) to create and execute change sets.
    let deploy = Role::new(
        stack,
        "DeployRole",
        Principal::AccountRoot,
        named(
            BootstrapRole::Deploy,
            "Assumed by the trusted accounts to deploy stacks here through change sets",
        ),
    )?;
    trusting(&deploy, trusted);
    deploy.grant(actions::CLOUDFORMATION_DEPLOY, [stacks.clone()]);
    // The bootstrap stack itself stays with this account: a trusted account must not rewrite whom it trusts.
    deploy.add_to_policy(
        PolicyStatement::deny()
            .actions(actions::CLOUDFORMATION_DEPLOY)
            .resource(fns::sub(format!(
                "arn:${{AWS::Partition}}:cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/{}/*",
                crate::aws::BOOTSTRAP_STACK
            ))),
    );
    deploy.add_to_policy(
        PolicyStatement::allow()
            .actions(actions::IAM_PASS_ROLE)
            .resource(execution.role_arn())
            .condition(
                "StringEquals",
                "iam:PassedToService",
                "cloudformation.amazonaws.com",
            ),
    );
    // The templates come from the pipeline's artifacts, in a bucket of a trusted account under its key.
    deploy.add_to_policy(
        PolicyStatement::allow()
            .actions(actions::S3_ARTIFACTS_READ)
            .resource(fns::sub("arn:${AWS::Partition}:s3:::*/*"))
            .condition(
                "StringEquals",
                "s3:ResourceAccount",
                Value::list(trusted.iter().map(String::as_str)),
            ),
    );
    let keys: Vec<Val<String>> = trusted
        .iter()
        .map(|a| fns::sub(format!("arn:${{AWS::Partition}}:kms:*:{a}:key/*")))
        .collect();
    deploy.grant(actions::KMS_ARTIFACTS_READ, keys);
    let mut items = vec![
        stack_items.to_owned(),
        "Resource::arn:<AWS::Partition>:s3:::*/*".to_owned(),
    ];
    items.extend(
        trusted
            .iter()
            .map(|a| format!("Resource::arn:<AWS::Partition>:kms:*:{a}:key/*")),
    );
    let items: Vec<&str> = items.iter().map(String::as_str).collect();
    cfnkit::rules::suppress_only(
        deploy.handle(),
        &cfnkit::rules::IAM5,
        &items,
        "the stacks a trusted account deploys, and its pipelines' artifact buckets and keys, are not known when \
         bootstrapping: stacks of this account and region, objects of buckets owned by the trusted accounts \
         (s3:ResourceAccount), keys of the trusted accounts",
    );

    // Assumed by the trusted accounts to upload Lambda zips and large templates to the assets bucket.
    let publishing = Role::new(
        stack,
        "PublishingRole",
        Principal::AccountRoot,
        named(
            BootstrapRole::Publishing,
            "Assumed by the trusted accounts to upload assets to the assets bucket",
        ),
    )?;
    trusting(&publishing, trusted);
    publishing.grant(
        actions::S3_ASSETS_PUBLISH,
        [fns::sub("${AssetsBucket.Arn}/*")],
    );
    publishing.grant(actions::S3_ASSETS_LIST_BUCKET, [bucket_arn]);
    // The bucket is encrypted with the AWS managed key aws/s3, whose ID the template cannot name.
    publishing.add_to_policy(
        PolicyStatement::allow()
            .actions(actions::KMS_ENCRYPT_DECRYPT)
            .resource(fns::sub(
                "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*",
            ))
            .condition(
                "StringEquals",
                "kms:ViaService",
                fns::sub("s3.${AWS::Region}.amazonaws.com"),
            ),
    );
    cfnkit::rules::suppress_only(
        publishing.handle(),
        &cfnkit::rules::IAM5,
        &[
            "Resource::<AssetsBucket.Arn>/*",
            "Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*",
        ],
        "the assets bucket's objects are named by their content's hash; its key is the AWS managed aws/s3, whose \
         ID the template cannot name, used only through S3 (kms:ViaService)",
    );

    // Assumed by the trusted accounts' deployments to read stack outputs (Fn::GetStackOutput's RoleArn).
    let lookup = Role::new(
        stack,
        "LookupRole",
        Principal::AccountRoot,
        named(
            BootstrapRole::Lookup,
            "Assumed by the trusted accounts to read outputs of this account's stacks (Fn::GetStackOutput)",
        ),
    )?;
    trusting(&lookup, trusted);
    lookup.grant(actions::CLOUDFORMATION_DESCRIBE_STACKS, [stacks]);
    cfnkit::rules::suppress_only(
        lookup.handle(),
        &cfnkit::rules::IAM5,
        &[stack_items],
        "a template may read the outputs of any stack of this account and region by name; stack ARNs end in an \
         id given at creation",
    );
    Ok(())
}

/// The bootstrap template, checked by the rule pack.
pub fn template() -> Result<String, DeployError> {
    template_with(&BootstrapOptions::default())
}

/// The bootstrap template with `options` (`--trust`), checked by the rule pack.
pub fn template_with(options: &BootstrapOptions) -> Result<String, DeployError> {
    let app = app_with(options)?;
    let checked =
        cfnkit::synth::synth_checked(&app).map_err(|e| DeployError::Bootstrap(e.to_string()))?;
    let rendered = output::render(checked.assembly(), Format::Json, &[])
        .map_err(|e| DeployError::Bootstrap(e.to_string()))?;
    rendered
        .files
        .into_iter()
        .find(|(name, _)| name.starts_with(BOOTSTRAP_STACK))
        .map(|(_, body)| body)
        .ok_or_else(|| DeployError::Bootstrap("synth wrote no template".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_is_encrypted_versioned_private_tls_only_and_kept() {
        let t: serde_json::Value = serde_json::from_str(&template().unwrap()).unwrap();
        let bucket = &t["Resources"]["AssetsBucket"];
        assert_eq!(
            bucket["Properties"]["BucketName"],
            json!({"Fn::Sub": "cfnkit-assets-${AWS::AccountId}-${AWS::Region}"})
        );
        assert_eq!(
            bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
                ["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
            "aws:kms"
        );
        assert_eq!(
            bucket["Properties"]["VersioningConfiguration"]["Status"],
            "Enabled"
        );
        assert_eq!(bucket["DeletionPolicy"], "Retain");
        let statement =
            &t["Resources"]["AssetsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Effect"], "Deny");
        assert_eq!(
            statement["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        assert_eq!(
            t["Outputs"]["BucketName"]["Value"],
            json!({"Ref": "AssetsBucket"})
        );
    }

    fn trusted(accounts: &[&str]) -> serde_json::Value {
        let options = BootstrapOptions {
            trust: accounts.iter().map(|a| (*a).to_owned()).collect(),
            ..Default::default()
        };
        serde_json::from_str(&template_with(&options).unwrap()).unwrap()
    }

    fn statements<'a>(t: &'a serde_json::Value, role: &str) -> &'a Vec<serde_json::Value> {
        t["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
    }

    fn allows<'a>(
        t: &'a serde_json::Value,
        role: &str,
        action: &str,
    ) -> Vec<&'a serde_json::Value> {
        statements(t, role)
            .iter()
            .filter(|s| s["Effect"] == "Allow")
            .filter(|s| {
                s["Action"] == action
                    || s["Action"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == action))
            })
            .collect()
    }

    #[test]
    fn without_trust_there_are_no_roles() {
        let t: serde_json::Value = serde_json::from_str(&template().unwrap()).unwrap();
        let types: Vec<&str> = t["Resources"]
            .as_object()
            .unwrap()
            .values()
            .map(|r| r["Type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["AWS::S3::Bucket", "AWS::S3::BucketPolicy"]);
    }

    #[test]
    fn trusted_accounts_may_assume_the_deploy_publishing_and_lookup_roles_only() {
        let t = trusted(&["111111111111", "222222222222"]);
        let roots = json!([
            {"Fn::Sub": "arn:${AWS::Partition}:iam::111111111111:root"},
            {"Fn::Sub": "arn:${AWS::Partition}:iam::222222222222:root"},
        ]);
        for (role, name) in [
            ("DeployRole", "cfnkit-deploy"),
            ("PublishingRole", "cfnkit-publish"),
            ("LookupRole", "cfnkit-lookup"),
        ] {
            let props = &t["Resources"][role]["Properties"];
            assert_eq!(
                props["RoleName"],
                json!({"Fn::Sub": format!("{name}-${{AWS::AccountId}}-${{AWS::Region}}")})
            );
            let trust = &props["AssumeRolePolicyDocument"]["Statement"];
            assert_eq!(trust.as_array().unwrap().len(), 1, "{role}");
            assert_eq!(trust[0]["Principal"]["AWS"], roots, "{role}");
        }
        let execution = &t["Resources"]["ExecutionRole"]["Properties"];
        assert_eq!(
            execution["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
            json!({"Service": "cloudformation.amazonaws.com"})
        );
        assert_eq!(
            execution["RoleName"],
            json!({"Fn::Sub": "cfnkit-exec-${AWS::AccountId}-${AWS::Region}"})
        );
    }

    #[test]
    fn the_deploy_role_runs_change_sets_and_passes_only_the_execution_role() {
        let t = trusted(&["111111111111"]);
        assert_eq!(
            allows(&t, "DeployRole", "cloudformation:ExecuteChangeSet").len(),
            1
        );
        let pass = allows(&t, "DeployRole", "iam:PassRole");
        assert_eq!(pass.len(), 1);
        assert_eq!(
            pass[0]["Resource"],
            json!({"Fn::GetAtt": ["ExecutionRole", "Arn"]})
        );
        assert_eq!(
            pass[0]["Condition"]["StringEquals"]["iam:PassedToService"],
            "cloudformation.amazonaws.com"
        );
        // The artifacts: objects of buckets the trusted accounts own, their keys.
        let read = allows(&t, "DeployRole", "s3:GetObject");
        assert_eq!(
            read[0]["Condition"]["StringEquals"]["s3:ResourceAccount"],
            json!(["111111111111"])
        );
        assert_eq!(
            allows(&t, "DeployRole", "kms:Decrypt")[0]["Resource"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:kms:*:111111111111:key/*"})
        );
        // The bootstrap stack stays out of reach.
        let deny: Vec<_> = statements(&t, "DeployRole")
            .iter()
            .filter(|s| s["Effect"] == "Deny")
            .collect();
        assert_eq!(
            deny[0]["Resource"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/CfnkitBootstrap/*"})
        );
    }

    #[test]
    fn the_publishing_role_writes_the_assets_bucket_and_the_lookup_role_only_describes_stacks() {
        let t = trusted(&["111111111111"]);
        assert_eq!(
            allows(&t, "PublishingRole", "s3:PutObject")[0]["Resource"],
            json!({"Fn::Sub": "${AssetsBucket.Arn}/*"})
        );
        assert_eq!(
            allows(&t, "PublishingRole", "kms:GenerateDataKey")[0]["Condition"]["StringEquals"]
                ["kms:ViaService"],
            json!({"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"})
        );
        let lookup = statements(&t, "LookupRole");
        assert_eq!(lookup.len(), 1);
        assert_eq!(lookup[0]["Action"], "cloudformation:DescribeStacks");
        // The execution role may assume other accounts' lookup roles, for Fn::GetStackOutput's RoleArn.
        assert_eq!(
            allows(&t, "ExecutionRole", "sts:AssumeRole")[0]["Resource"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/cfnkit-lookup-*"})
        );
        assert_eq!(allows(&t, "ExecutionRole", "lambda:*").len(), 1);
        assert!(allows(&t, "ExecutionRole", "ec2:*").is_empty());
    }

    #[test]
    fn execution_services_replace_the_default_ones() {
        let options = BootstrapOptions {
            trust: vec!["111111111111".into()],
            execution_services: vec!["ec2".into(), "lambda".into()],
        };
        let t: serde_json::Value = serde_json::from_str(&template_with(&options).unwrap()).unwrap();
        assert_eq!(allows(&t, "ExecutionRole", "ec2:*").len(), 1);
        assert!(allows(&t, "ExecutionRole", "dynamodb:*").is_empty());
    }

    #[test]
    fn a_trusted_account_that_is_not_12_digits_is_refused_naming_it() {
        let options = BootstrapOptions {
            trust: vec!["12345".into()],
            ..Default::default()
        };
        let err = template_with(&options).unwrap_err().to_string();
        assert!(
            err.contains("--trust takes a 12-digit AWS account ID, got \"12345\""),
            "{err}"
        );
        let options = BootstrapOptions {
            trust: vec!["111111111111".into()],
            execution_services: vec!["Lambda:*".into()],
        };
        let err = template_with(&options).unwrap_err().to_string();
        assert!(err.contains("got \"Lambda:*\""), "{err}");
    }

    #[test]
    fn the_version_is_read_from_the_template_or_else_the_outputs() {
        let t: serde_json::Value = serde_json::from_str(&template().unwrap()).unwrap();
        let stale = [("BootstrapVersion".to_owned(), "0".to_owned())];
        assert_eq!(
            deployed_version(Some(&t), &stale),
            Some(BOOTSTRAP_VERSION.to_string())
        );
        let computed = json!({"Outputs": {"BootstrapVersion": {"Value": {"Ref": "Version"}}}});
        let outputs = [("BootstrapVersion".to_owned(), "7".to_owned())];
        assert_eq!(
            deployed_version(Some(&computed), &outputs),
            Some("7".into())
        );
        assert_eq!(deployed_version(Some(&json!({"Resources": {}})), &[]), None);
    }

    #[test]
    fn older_or_unreadable_versions_are_refused() {
        assert_eq!(check_version(Some("1")), Ok(1));
        assert_eq!(check_version(Some("12")), Ok(12));
        assert_eq!(check_version(Some("0")), Err("0".into()));
        assert_eq!(check_version(Some("v1")), Err("`v1`".into()));
        assert!(check_version(None).unwrap_err().starts_with("none"));
    }
}
