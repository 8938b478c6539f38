//! The bootstrap stack: what deployments need before the first one, the assets bucket. It is an ordinary
//! cfnkit app, so the rule pack checks it like any other, and CI lints its template (deploy/ci.sh).

use cfnkit::synth::output::{self, Format};
use cfnkit::{fns, App, Output, RawResource, RemovalPolicy, Value};
use serde_json::json;

use crate::aws::BOOTSTRAP_STACK;
use crate::error::DeployError;

/// Bumped when the template changes, and an output so that a deploy can tell an outdated bootstrap.
pub const BOOTSTRAP_VERSION: u32 = 1;

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

/// The bootstrap app: one stack with the assets bucket `cfnkit-assets-<account>-<region>` (see
/// `cfnkit::constructs::lambda::ASSET_BUCKET`), KMS-encrypted, versioned (old versions expire after 30 days),
/// public access blocked, a policy denying plain HTTP, and kept when the stack is deleted (it may hold the only
/// copy of code that deployed functions still point to).
pub fn app() -> App {
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
    app
}

/// The bootstrap template, checked by the rule pack.
pub fn template() -> Result<String, DeployError> {
    let app = app();
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
