//! The KMS permissions AWS checks on the caller when a service encrypts or decrypts for it: sending to a queue
//! encrypted with a customer-managed key needs `kms:GenerateDataKey` and `kms:Decrypt` on the key, through SQS
//! (`kms:ViaService`). A grant that forgets the key fails locally as it does on AWS.
//!
//! Covered: SQS queues, SNS topics, Kinesis streams, Secrets Manager secrets and S3 buckets' default
//! encryption, each with the actions its documentation names for producers and consumers (the same sets as
//! cfnkit's grants, [`cfnkit::constructs::actions`]). Not covered: DynamoDB (which uses the table's key
//! through a grant of its own), EventBridge and CloudWatch Logs; AWS managed keys (`alias/aws/...`), whose key
//! policies allow every principal of the account through the service.

use std::collections::BTreeMap;

use serde_json::Value;

use super::classify::{arn, ArnIndex, Check};
use crate::model::LocalApp;

/// Customer-managed keys by the ARN of what they encrypt (a bucket's ARN stands for its objects).
#[derive(Clone, Debug, Default)]
pub struct EncryptionKeys {
    /// Resource ARN -> key ARN.
    pub by_resource: BTreeMap<String, String>,
}

impl EncryptionKeys {
    /// The app's encrypted queues, topics, streams, secrets and buckets.
    pub fn from_app(app: &LocalApp, index: &ArnIndex) -> Self {
        let key_ids: BTreeMap<&str, String> = app
            .of_type("AWS::KMS::Key")
            .filter_map(|(_, k)| Some((k.physical_id.as_str(), k.arn.clone()?)))
            .collect();
        let key_arn = |v: Option<&Value>| -> Option<String> {
            let id = v?.as_str()?;
            let alias = id
                .split(':')
                .next_back()
                .filter(|a| a.starts_with("alias/"));
            match alias {
                Some(a) if a.starts_with("alias/aws/") => None,
                Some(a) => index.kms_aliases.get(a).cloned(),
                None if id.starts_with("arn:") => Some(id.to_owned()),
                None => Some(key_ids.get(id).cloned().unwrap_or_else(|| {
                    arn("kms", &app.region, &app.account, &format!("key/{id}"))
                })),
            }
        };
        let mut by_resource = BTreeMap::new();
        let mut add = |resource: Option<String>, key: Option<String>| {
            if let (Some(r), Some(k)) = (resource, key) {
                by_resource.insert(r, k);
            }
        };
        for (_, r) in app.of_type("AWS::SQS::Queue") {
            add(r.arn.clone(), key_arn(r.properties.get("KmsMasterKeyId")));
        }
        for (_, r) in app.of_type("AWS::SNS::Topic") {
            add(
                Some(r.arn.clone().unwrap_or_else(|| r.physical_id.clone())),
                key_arn(r.properties.get("KmsMasterKeyId")),
            );
        }
        for (_, r) in app.of_type("AWS::Kinesis::Stream") {
            let e = r.properties.get("StreamEncryption");
            if e.and_then(|e| e.get("EncryptionType"))
                .and_then(Value::as_str)
                == Some("KMS")
            {
                add(r.arn.clone(), key_arn(e.and_then(|e| e.get("KeyId"))));
            }
        }
        for (_, r) in app.of_type("AWS::SecretsManager::Secret") {
            add(
                Some(r.arn.clone().unwrap_or_else(|| r.physical_id.clone())),
                key_arn(r.properties.get("KmsKeyId")),
            );
        }
        for (_, r) in app.of_type("AWS::S3::Bucket") {
            let rules = r
                .properties
                .pointer("/BucketEncryption/ServerSideEncryptionConfiguration")
                .and_then(Value::as_array);
            let default = rules
                .into_iter()
                .flatten()
                .filter_map(|rule| rule.get("ServerSideEncryptionByDefault"))
                .find(|d| {
                    d.get("SSEAlgorithm")
                        .and_then(Value::as_str)
                        .is_some_and(|a| a.starts_with("aws:kms"))
                });
            let bucket = r
                .arn
                .clone()
                .or_else(|| Some(format!("arn:aws:s3:::{}", r.physical_id)));
            add(
                bucket,
                key_arn(default.and_then(|d| d.get("KMSMasterKeyID"))),
            );
        }
        EncryptionKeys { by_resource }
    }

    /// The key checks AWS makes on the caller for `check` (part of `operation`), each through its service.
    pub fn implied(
        &self,
        operation: &str,
        check: &Check,
        region: &str,
        account: &str,
    ) -> Vec<Check> {
        let action = check.action.to_ascii_lowercase();
        let (service, _) = action.split_once(':').unwrap_or_default();
        let multipart = matches!(
            operation,
            "CreateMultipartUpload" | "UploadPart" | "UploadPartCopy" | "CompleteMultipartUpload"
        );
        let key_actions: &[&str] = match action.as_str() {
            "sqs:sendmessage" | "sns:publish" | "secretsmanager:putsecretvalue" => {
                &["kms:GenerateDataKey", "kms:Decrypt"]
            }
            "sqs:receivemessage" | "kinesis:getrecords" | "secretsmanager:getsecretvalue" => {
                &["kms:Decrypt"]
            }
            "s3:getobject" | "s3:getobjectversion" => &["kms:Decrypt"],
            "s3:putobject" if multipart => &["kms:GenerateDataKey", "kms:Decrypt"],
            "kinesis:putrecord" | "kinesis:putrecords" | "s3:putobject" => &["kms:GenerateDataKey"],
            _ => return Vec::new(),
        };
        let resource = if service == "s3" {
            // Objects take their bucket's default key.
            check
                .resource
                .split_once('/')
                .map_or(check.resource.as_str(), |(bucket, _)| bucket)
        } else {
            check.resource.as_str()
        };
        let Some(key) = self.by_resource.get(resource) else {
            return Vec::new();
        };
        key_actions
            .iter()
            .map(|a| {
                Check::new(*a, key.clone())
                    .with_key(
                        "kms:ViaService",
                        format!("{service}.{region}.amazonaws.com"),
                    )
                    .with_key("kms:CallerAccount", account)
                    .with_key("aws:ViaAWSService", "true")
            })
            .collect()
    }
}
