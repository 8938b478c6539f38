//! The bootstrap stack: what deployments need before the first one, the assets bucket. It is an ordinary
//! cfnkit app, so the rule pack checks it like any other, and CI lints its template (deploy/ci.sh).

use cfnkit::synth::output::{self, Format};
use cfnkit::{fns, App, Output, RawResource, RemovalPolicy, Value};
use serde_json::json;

use crate::aws::BOOTSTRAP_STACK;
use crate::error::DeployError;

/// Bumped when the template changes, and exported so that a deploy can tell an outdated bootstrap.
pub const BOOTSTRAP_VERSION: u32 = 1;

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
    cfnkit::rules::suppress(&bucket, "S1", NO_ACCESS_LOGS);
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
    let assembly = cfnkit::synth::synth(&app).map_err(|e| DeployError::Bootstrap(e.to_string()))?;
    cfnkit::rules::enforce(&assembly).map_err(DeployError::Bootstrap)?;
    let rendered = output::render(&assembly, Format::Json, &[])
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
}
