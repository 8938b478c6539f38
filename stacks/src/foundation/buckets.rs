//! The S3 buckets of seed 004 (CloudTrail logs, invoices, catalog images) and the access-log bucket they log to,
//! on the L1 type: public access blocked, versioned, encrypted, TLS-only, server access logging, lifecycle.
//!
//! (The S3 construct of `cfnkit::constructs::s3` was being written at the same time; these helpers keep the
//! same defaults so that moving to it later changes no template.)

use cfnkit::constructs::kms::Key;
use cfnkit::constructs::{PolicyDocument, PolicyStatement, Principal};
use cfnkit::l1::s3;
use cfnkit::{fns, RemovalPolicy, Scope, Val};

/// A bucket and the policy document its `BucketPolicy` renders, so callers can add service statements.
pub struct Bucket {
    pub handle: s3::BucketHandle,
    pub policy: PolicyDocument,
    id: String,
}

impl Bucket {
    pub fn arn(&self) -> Val<String> {
        self.handle.attr_arn()
    }
    pub fn name(&self) -> Val<String> {
        self.handle.ref_()
    }
    /// `arn:...:<bucket>/<pattern>`: the objects matching a key pattern (`invoices/*`).
    pub fn arn_for_objects(&self, pattern: &str) -> Val<String> {
        objects(&self.id, pattern)
    }
    /// Writes the bucket policy (`<Id>Policy`): the TLS-only deny and the statements added since. Returns
    /// the policy, for resources that need it in place first.
    pub fn finish(self, scope: &Scope) -> s3::BucketPolicyHandle {
        scope.add(
            &format!("{}Policy", self.id),
            s3::BucketPolicy {
                bucket: Some(self.handle.ref_()),
                policy_document: Some(self.policy.to_json()),
            },
        )
    }
}

/// The ARN of bucket `id`'s objects matching `pattern`, as `${Id.Arn}/pattern` (the form the rule pack's
/// TLS-only check recognises as "this bucket's objects").
fn objects(id: &str, pattern: &str) -> Val<String> {
    fns::sub(format!("${{{id}.Arn}}/{pattern}"))
}

fn public_access_blocked() -> Val<s3::bucket::PublicAccessBlockConfiguration> {
    Val::from(s3::bucket::PublicAccessBlockConfiguration {
        block_public_acls: Some(true.into()),
        block_public_policy: Some(true.into()),
        ignore_public_acls: Some(true.into()),
        restrict_public_buckets: Some(true.into()),
    })
}

fn versioned() -> Val<s3::bucket::VersioningConfiguration> {
    Val::from(s3::bucket::VersioningConfiguration {
        status: Some(s3::bucket::AccelerationStatus::from("Enabled").into()),
    })
}

/// Old versions expire after `days`, and abandoned multipart uploads after a week.
fn lifecycle(days: i64) -> Val<s3::bucket::LifecycleConfiguration> {
    Val::from(s3::bucket::LifecycleConfiguration {
        rules: Some(Val::from(vec![s3::bucket::Rule {
            id: Some("ExpireOldVersions".into()),
            status: Some(s3::bucket::AbacStatus::from("Enabled").into()),
            noncurrent_version_expiration: Some(Val::from(
                s3::bucket::NoncurrentVersionExpiration {
                    noncurrent_days: Some(days.into()),
                    ..Default::default()
                },
            )),
            abort_incomplete_multipart_upload: Some(Val::from(
                s3::bucket::AbortIncompleteMultipartUpload {
                    days_after_initiation: Some(7.into()),
                },
            )),
            ..Default::default()
        }])),
        ..Default::default()
    })
}

/// The TLS-only statement every bucket policy starts with (cdk-nag S10, checkov's CKV_AWS_379 family).
fn deny_insecure_transport(id: &str, bucket: &s3::BucketHandle) -> PolicyStatement {
    PolicyStatement::deny()
        .actions(["s3:*"])
        .principal(Principal::Anyone)
        .resources([bucket.attr_arn(), objects(id, "*")])
        .condition("Bool", "aws:SecureTransport", "false")
}

/// The bucket the other buckets write their server access logs to. Encrypted with S3-managed keys, because
/// S3 server access logging cannot deliver to a bucket with SSE-KMS default encryption.
pub fn access_log_bucket(scope: &Scope, id: &str, keep_days: i64) -> Bucket {
    let handle = scope.add(
        id,
        s3::Bucket {
            bucket_encryption: Some(Val::from(s3::bucket::BucketEncryption {
                server_side_encryption_configuration: Some(Val::from(vec![
                    s3::bucket::ServerSideEncryptionRule {
                        server_side_encryption_by_default: Some(Val::from(
                            s3::bucket::ServerSideEncryptionByDefault {
                                sse_algorithm: Some(
                                    s3::bucket::SseAlgorithm::from("AES256").into(),
                                ),
                                ..Default::default()
                            },
                        )),
                        ..Default::default()
                    },
                ])),
            })),
            public_access_block_configuration: Some(public_access_blocked()),
            versioning_configuration: Some(versioned()),
            ownership_controls: Some(Val::from(s3::bucket::OwnershipControls {
                rules: Some(Val::from(vec![s3::bucket::OwnershipControlsRule {
                    object_ownership: Some(
                        s3::bucket::ObjectOwnership::from("BucketOwnerEnforced").into(),
                    ),
                }])),
            })),
            lifecycle_configuration: Some(Val::from(s3::bucket::LifecycleConfiguration {
                rules: Some(Val::from(vec![s3::bucket::Rule {
                    id: Some("ExpireAccessLogs".into()),
                    status: Some(s3::bucket::AbacStatus::from("Enabled").into()),
                    expiration_in_days: Some(keep_days.into()),
                    noncurrent_version_expiration: Some(Val::from(
                        s3::bucket::NoncurrentVersionExpiration {
                            noncurrent_days: Some(7.into()),
                            ..Default::default()
                        },
                    )),
                    ..Default::default()
                }])),
                ..Default::default()
            })),
            ..Default::default()
        },
    );
    handle.apply_removal_policy(RemovalPolicy::Retain);
    handle.add_metadata(
        "checkov",
        serde_json::json!({"skip": [
            {"id": "CKV_AWS_18", "comment": "The access-log bucket itself: logging it to itself would log its own log deliveries without end."},
            {"id": "CKV_AWS_145", "comment": "S3 server access logging cannot deliver to a bucket with SSE-KMS default encryption; SSE-S3 (AES256) is used."}
        ]}),
    );
    let mut policy = PolicyDocument::with([deny_insecure_transport(id, &handle)]);
    policy.add(
        PolicyStatement::allow()
            .sid("S3ServerAccessLogsPolicy")
            .actions(["s3:PutObject"])
            .principal(Principal::service("logging.s3.amazonaws.com"))
            .resource(objects(id, "*"))
            .from_this_account(),
    );
    Bucket {
        handle,
        policy,
        id: id.to_owned(),
    }
}

/// A bucket encrypted with `key` (bucket keys on, so S3 calls KMS once per object batch, not per object),
/// versioned, with old versions expiring after `noncurrent_days`, logging to `logs` under `<id>/`.
pub fn secure_bucket(
    scope: &Scope,
    id: &str,
    key: &Key,
    logs: &Bucket,
    noncurrent_days: i64,
) -> Bucket {
    let handle = scope.add(
        id,
        s3::Bucket {
            bucket_encryption: Some(Val::from(s3::bucket::BucketEncryption {
                server_side_encryption_configuration: Some(Val::from(vec![
                    s3::bucket::ServerSideEncryptionRule {
                        bucket_key_enabled: Some(true.into()),
                        server_side_encryption_by_default: Some(Val::from(
                            s3::bucket::ServerSideEncryptionByDefault {
                                sse_algorithm: Some(
                                    s3::bucket::SseAlgorithm::from("aws:kms").into(),
                                ),
                                kms_master_key_id: Some(key.key_arn()),
                            },
                        )),
                        ..Default::default()
                    },
                ])),
            })),
            public_access_block_configuration: Some(public_access_blocked()),
            versioning_configuration: Some(versioned()),
            logging_configuration: Some(Val::from(s3::bucket::LoggingConfiguration {
                destination_bucket_name: Some(logs.name()),
                log_file_prefix: Some(format!("{id}/").into()),
                ..Default::default()
            })),
            lifecycle_configuration: Some(lifecycle(noncurrent_days)),
            ..Default::default()
        },
    );
    handle.apply_removal_policy(RemovalPolicy::Retain);
    let policy = PolicyDocument::with([deny_insecure_transport(id, &handle)]);
    Bucket {
        handle,
        policy,
        id: id.to_owned(),
    }
}
