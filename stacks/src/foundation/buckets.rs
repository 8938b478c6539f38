//! The S3 buckets of seed 004 (CloudTrail logs, invoices, catalog images) and the access-log bucket each stack
//! shares between them, on the S3 construct: public access blocked, versioned, TLS-only, server access logs,
//! lifecycle rules bounding what old versions cost.

use std::time::Duration;

use cfnkit::constructs::kms::Key;
use cfnkit::constructs::s3::{
    Bucket, BucketEncryption, BucketProps, LifecycleRule, ServerAccessLogs,
};
use cfnkit::constructs::ConstructError;
use cfnkit::Scope;

fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

/// The bucket a stack's buckets write their server access logs to: S3-managed encryption (the only one log
/// delivery supports), access logs expire after `keep_days`.
pub fn access_log_bucket(scope: &Scope, keep_days: u64) -> Result<Bucket, ConstructError> {
    let bucket = Bucket::new(
        scope,
        "AccessLogBucket",
        BucketProps {
            // It receives the other buckets' logs; logging its own log deliveries would never end.
            server_access_logs: ServerAccessLogs::Off,
            lifecycle_rules: vec![LifecycleRule {
                id: Some("ExpireAccessLogs".to_owned()),
                expiration: Some(days(keep_days)),
                noncurrent_version_expiration: Some(days(7)),
                ..Default::default()
            }],
            ..Default::default()
        },
    )?;
    // Its checkov CKV_AWS_18 skip (no access logs of its own) is written by the S3 construct as soon as another
    // bucket logs to it.
    Ok(bucket)
}

/// A bucket encrypted with `key` (with an S3 bucket key), logging to `logs` under `<id>/`, whose old object
/// versions expire after `noncurrent_days`.
pub fn secure_bucket(
    scope: &Scope,
    id: &str,
    key: &Key,
    logs: &Bucket,
    noncurrent_days: u64,
    event_bridge_enabled: bool,
) -> Result<Bucket, ConstructError> {
    Bucket::new(
        scope,
        id,
        BucketProps {
            encryption: BucketEncryption::Kms(key),
            server_access_logs: ServerAccessLogs::ToBucket {
                bucket: logs,
                prefix: Some(format!("{id}/")),
            },
            lifecycle_rules: vec![LifecycleRule {
                id: Some("ExpireOldVersions".to_owned()),
                noncurrent_version_expiration: Some(days(noncurrent_days)),
                abort_incomplete_multipart_upload_after: Some(days(7)),
                ..Default::default()
            }],
            event_bridge_enabled,
            ..Default::default()
        },
    )
}
