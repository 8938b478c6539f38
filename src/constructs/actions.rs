//! The IAM actions every grant uses, in one place, named by intent, so reviews of a grant happen here.
//!
//! Most sets match what AWS CDK grants for the same intent, so policies read as a CDK user expects. We are
//! narrower in three places, each to name exactly what AWS documents instead of a wildcard (so cdk-nag's IAM5
//! has nothing to report on them and a reviewer sees what is allowed):
//! - KMS. CDK grants `kms:ReEncrypt*` and `kms:GenerateDataKey*` to every producer of encrypted data and
//!   `kms:GenerateDataKey*` to services delivering into encrypted resources. Every service here uses envelope
//!   encryption: it asks KMS for a data key (`kms:GenerateDataKey`, which returns the plaintext key it encrypts
//!   with) and decrypts stored data keys (`kms:Decrypt`). None of their docs asks a producer or consumer for
//!   `ReEncrypt*` (which moves ciphertext to another key, a key owner's job), `GenerateDataKeyWithoutPlaintext`
//!   or the `GenerateDataKeyPair*` actions, so no grant here has them. (DynamoDB's doc lists `kms:ReEncrypt*`
//!   and `kms:GenerateDataKey*` for the principal that creates a table with the key: the deploying principal,
//!   allowed through the account root's key policy statement, not a grantee.) The only KMS wildcards AWS
//!   documents for these uses, in CloudWatch Logs' key policy, are spelled out action by action
//!   ([`KMS_LOGS_USE`]).
//! - S3: named object actions where CDK writes `s3:GetObject*`-style wildcards.
//! - Kinesis: no `kinesis:ListStreams` for readers (it accepts only `Resource: *`, so granted on a stream's ARN
//!   it never allowed anything, and no consumer needs it).
//!
//! ```
//! use cfnkit::constructs::actions;
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Jobs");
//! let queue = Queue::new(&stack, "Work", QueueProps::default())?;
//! let role = Role::new(&stack, "Sender", Principal::service("lambda.amazonaws.com"), Default::default())?;
//! // A grant method writes one of these sets; what it allows is read here, not in the construct.
//! let grant = queue.grant_send_messages(&role);
//! assert_eq!(grant.statements()[0].action_names(), actions::SQS_SEND);
//! # Ok(()) }
//! ```

// KMS (each set names the AWS page it follows; "the SQS doc" is "Amazon SQS Key management", "the SNS doc"
// "Amazon SNS Key management", both Configuring AWS KMS permissions)
/// Encrypting with a key: `kms:Encrypt` for data encrypted by calling KMS directly, `kms:GenerateDataKey` for
/// envelope encryption (a data key per object, message or record).
pub const KMS_ENCRYPT: &[&str] = &["kms:Encrypt", "kms:GenerateDataKey"];
/// Decrypting with a key: what a consumer of encrypted data needs (SQS doc: "the consumer must have the
/// kms:Decrypt permission"; Kinesis "Example consumer permissions"; S3 GetObject on SSE-KMS objects).
pub const KMS_DECRYPT: &[&str] = &["kms:Decrypt"];
/// Both [`KMS_ENCRYPT`] and [`KMS_DECRYPT`]: what `Key::grant_encrypt_decrypt` and DynamoDB item writers get.
pub const KMS_ENCRYPT_DECRYPT: &[&str] = &["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"];
/// What an AWS service (SNS or EventBridge delivering to an encrypted queue or topic, CloudWatch alarms
/// publishing to an encrypted topic, EventBridge encrypting a bus's events) needs in the key policy: the SQS doc
/// (Configure KMS permissions for AWS services) and EventBridge's "Authorizing EventBridge to use a customer
/// managed key" name exactly `kms:GenerateDataKey` and `kms:Decrypt`. The SNS doc's example for event sources
/// writes `kms:GenerateDataKey*`, but the same page's publisher (whose requests SNS serves the same way) needs
/// `kms:GenerateDataKey`, and SNS encrypts with the plaintext data key, which only `GenerateDataKey` returns.
pub const KMS_SERVICE_USE: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey"];
/// What EventBridge needs beyond [`KMS_SERVICE_USE`] to encrypt a bus's events with the key: "Authorizing
/// EventBridge to use a customer managed key" lists `kms:DescribeKey` (to resolve the key id to its ARN and check
/// the key is symmetric) with `kms:GenerateDataKey` and `kms:Decrypt`.
pub const KMS_EVENT_BUS_DESCRIBE: &[&str] = &["kms:DescribeKey"];
/// What CloudWatch Logs needs in a key policy to encrypt a log group's events with the key. AWS documents it
/// with wildcards only ("Encrypt log data in CloudWatch Logs using AWS KMS", step 2: `kms:Encrypt*`,
/// `kms:Decrypt*`, `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:Describe*`) and does not say which of the
/// matched operations Logs calls, so this is that list with each wildcard replaced by the key operations it
/// matches today: the same permissions, minus any action KMS adds later. The statement is limited to the
/// account's log groups by the `kms:EncryptionContext:aws:logs:arn` condition.
pub const KMS_LOGS_USE: &[&str] = &[
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:DescribeKey",
];
/// Full control, for the account root in a key policy (which delegates access to IAM policies). The only KMS
/// set with a `*`, and only ever in a key policy.
pub const KMS_ADMIN: &[&str] = &["kms:*"];

// SQS
/// Receiving and deleting messages.
pub const SQS_CONSUME: &[&str] = &[
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
];
/// Sending messages.
pub const SQS_SEND: &[&str] = &[
    "sqs:SendMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
];
/// Purging a queue.
pub const SQS_PURGE: &[&str] = &[
    "sqs:PurgeQueue",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
];
/// What a sender to a queue encrypted with a customer-managed key needs of the key: a data key, and decrypting
/// it to check its integrity (SQS doc, Configure KMS permissions for producers: `kms:GenerateDataKey` and
/// `kms:Decrypt`).
pub const SQS_KMS_SEND: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];
/// What an AWS service (SNS, EventBridge) needs in a queue policy to deliver messages.
pub const SQS_SERVICE_SEND: &[&str] = &["sqs:SendMessage"];
/// Every SQS action: only ever used in the `Deny` of the TLS-only queue policy.
pub const SQS_ALL: &[&str] = &["sqs:*"];

// SNS
/// Publishing to a topic.
pub const SNS_PUBLISH: &[&str] = &["sns:Publish"];
/// What a publisher to a topic encrypted with a customer-managed key needs of the key (SNS doc, Allow a user to
/// send messages to a topic with SSE: `kms:GenerateDataKey` and `kms:Decrypt`).
pub const SNS_KMS_PUBLISH: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];

// EventBridge
/// Putting events on a bus.
pub const EVENTS_PUT: &[&str] = &["events:PutEvents"];

// Lambda
/// Invoking a function.
pub const LAMBDA_INVOKE: &[&str] = &["lambda:InvokeFunction"];

// CodeDeploy (Lambda deployments)
/// What CodeDeploy does to the alias it shifts traffic on: the Lambda part of the AWS managed policy
/// `AWSCodeDeployRoleForLambdaLimited` ("AWS managed policies for CodeDeploy"), granted on the one function and
/// its alias instead of `*`.
pub const CODEDEPLOY_LAMBDA_ALIAS: &[&str] = &[
    "lambda:GetAlias",
    "lambda:GetProvisionedConcurrencyConfig",
    "lambda:UpdateAlias",
];
/// What CodeDeploy reads of the alarms that stop a deployment (the same managed policy, on the alarms' ARNs:
/// `DescribeAlarms` takes alarm resources).
pub const CODEDEPLOY_DESCRIBE_ALARMS: &[&str] = &["cloudwatch:DescribeAlarms"];
/// What a pre- or post-traffic hook function calls to report its verdict ("AppSpec 'hooks' section for an AWS
/// Lambda deployment": `PutLifecycleEventHookExecutionStatus` on the deployment group).
pub const CODEDEPLOY_HOOK_STATUS: &[&str] = &["codedeploy:PutLifecycleEventHookExecutionStatus"];

// Pipelines (each names the page of the service's "Actions, resources, and condition keys" it follows)
/// Uploading Lambda zips to the assets bucket: `aws s3 sync` puts objects.
pub const S3_ASSETS_UPLOAD: &[&str] = &["s3:PutObject"];
/// What `aws s3 sync` lists of the destination bucket to skip zips already there.
pub const S3_ASSETS_LIST: &[&str] = &["s3:ListBucket"];
/// What CloudFormation needs of a Lambda zip it deploys (read with the deploying role's credentials).
pub const S3_ASSETS_READ: &[&str] = &["s3:GetObject"];
/// What CodePipeline's S3 source action checks of its bucket (a versioned bucket is required).
pub const S3_GET_BUCKET_VERSIONING: &[&str] = &["s3:GetBucketVersioning"];
/// A CodeBuild action: starting the project's build, following it, stopping it when the execution is stopped.
pub const CODEBUILD_RUN: &[&str] = &[
    "codebuild:BatchGetBuilds",
    "codebuild:StartBuild",
    "codebuild:StopBuild",
];
/// CloudFormation change set actions (CHANGE_SET_REPLACE then CHANGE_SET_EXECUTE), as the CodePipeline user
/// guide's service role policy lists them for CloudFormation, on the stacks deployed.
pub const CLOUDFORMATION_CHANGE_SETS: &[&str] = &[
    "cloudformation:CreateChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStacks",
    "cloudformation:ExecuteChangeSet",
];
/// Handing CloudFormation the role it deploys with.
pub const IAM_PASS_ROLE: &[&str] = &["iam:PassRole"];
/// What the bootstrap's deploy role does for a pipeline's CloudFormation actions in another account: the change
/// set actions of [`CLOUDFORMATION_CHANGE_SETS`], plus what CodePipeline reads while it waits (events, the
/// template) (AWS CloudFormation's "Actions, resources, and condition keys").
pub const CLOUDFORMATION_DEPLOY: &[&str] = &[
    "cloudformation:CreateChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:GetTemplate",
];
/// What `Fn::GetStackOutput`'s `RoleArn` must allow: reading the producer stack's outputs.
pub const CLOUDFORMATION_DESCRIBE_STACKS: &[&str] = &["cloudformation:DescribeStacks"];
/// Assuming another role (a bootstrap lookup role of another account).
pub const STS_ASSUME_ROLE: &[&str] = &["sts:AssumeRole"];
/// What a CloudFormation action reads of a pipeline's artifact in another account's bucket: the object and its
/// version (CodePipeline user guide, "Create a pipeline that uses resources from another account").
pub const S3_ARTIFACTS_READ: &[&str] = &["s3:GetObject", "s3:GetObjectVersion"];
/// What CodePipeline does to a pipeline's artifact store in another region: it copies the artifacts there
/// (CodePipeline user guide, "Create a pipeline in CodePipeline that uses resources from another AWS Region").
pub const S3_ARTIFACTS_REPLICATE: &[&str] =
    &["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"];
/// ... and of the pipeline's key that encrypts the artifacts.
pub const KMS_ARTIFACTS_READ: &[&str] = &["kms:Decrypt", "kms:DescribeKey"];
/// What the bootstrap's publishing role does to the assets bucket's objects (uploads, multipart included, and
/// the HeadObject/GetObject that skip what is there).
pub const S3_ASSETS_PUBLISH: &[&str] = &["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"];
/// ... and to the bucket.
pub const S3_ASSETS_LIST_BUCKET: &[&str] = &["s3:GetBucketLocation", "s3:ListBucket"];
/// A CodeStarSourceConnection action using its connection (the service was renamed CodeConnections; both
/// prefixes are accepted for the same connection).
pub const CODESTAR_USE_CONNECTION: &[&str] = &[
    "codeconnections:UseConnection",
    "codestar-connections:UseConnection",
];

// Kinesis
/// Writing records to a stream.
pub const KINESIS_WRITE: &[&str] = &[
    "kinesis:ListShards",
    "kinesis:PutRecord",
    "kinesis:PutRecords",
];
/// Reading records from a stream (on the stream's ARN): what a Lambda event source mapping reads with
/// (`SubscribeToShard` for enhanced fan-out). No `kinesis:ListStreams`: it accepts only `Resource: *`, so on a
/// stream's ARN it allowed nothing, and a consumer of a known stream never lists streams.
pub const KINESIS_READ: &[&str] = &[
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:SubscribeToShard",
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamConsumer",
];
/// What reading a stream encrypted with a customer-managed key needs of the key (Kinesis "Permissions to use
/// user-generated KMS keys", Example consumer permissions).
pub const KINESIS_KMS_READ: &[&str] = &["kms:Decrypt"];
/// What writing to such a stream needs of the key: a data key for the records (same page, Example producer
/// permissions).
pub const KINESIS_KMS_WRITE: &[&str] = &["kms:GenerateDataKey"];

// DynamoDB
/// Reading items.
pub const DYNAMODB_READ: &[&str] = &[
    "dynamodb:BatchGetItem",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
];
/// Writing items.
pub const DYNAMODB_WRITE: &[&str] = &[
    "dynamodb:BatchWriteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
];
/// Reading a table's stream.
pub const DYNAMODB_STREAM_READ: &[&str] = &[
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
];
/// Listing streams: AWS allows no narrower resource than `*` for it.
pub const DYNAMODB_LIST_STREAMS: &[&str] = &["dynamodb:ListStreams"];

// S3 (named actions where AWS CDK writes `s3:GetObject*`-style wildcards)
/// Reading objects, their versions, attributes and tags (on `<bucket ARN>/<pattern>`).
pub const S3_READ_OBJECTS: &[&str] = &[
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:GetObjectVersionAttributes",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
];
/// What readers need on the bucket itself: listing keys and versions, and the bucket's region (SDKs ask).
pub const S3_READ_BUCKET: &[&str] = &[
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketLocation",
];
/// Writing objects (and their tags), and aborting the writer's multipart uploads.
pub const S3_PUT: &[&str] = &[
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:AbortMultipartUpload",
];
/// Deleting objects and versions.
pub const S3_DELETE: &[&str] = &[
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
];
/// Every S3 action: only ever used in the `Deny` of the TLS-only bucket policy.
pub const S3_ALL: &[&str] = &["s3:*"];
/// What S3 server access log delivery (`logging.s3.amazonaws.com`) needs in the log bucket's policy.
pub const S3_LOG_DELIVERY: &[&str] = &["s3:PutObject"];
/// What reading objects encrypted with a customer-managed key needs of the key.
pub const S3_KMS_READ: &[&str] = &["kms:Decrypt"];
/// What writing objects with a customer-managed key needs: a data key per object, and decrypting it again to
/// complete a multipart upload.
pub const S3_KMS_WRITE: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];

// Secrets Manager
/// Reading a secret's value.
pub const SECRETS_READ: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
];
/// Writing a secret's value.
pub const SECRETS_WRITE: &[&str] = &[
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
];
/// What a rotation function does to the secret it rotates: read it, write the new version, move the stages.
pub const SECRETS_ROTATE: &[&str] = &[
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
];
/// What reading a secret encrypted with a customer-managed key needs of the key (through Secrets Manager only).
pub const SECRETS_KMS_READ: &[&str] = &["kms:Decrypt"];
/// What writing such a secret needs of the key: a data key for the new version (through Secrets Manager only).
pub const SECRETS_KMS_WRITE: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];

// CloudWatch Logs
/// Writing to a log group (what a function's role needs for its own log group).
pub const LOGS_WRITE: &[&str] = &["logs:CreateLogStream", "logs:PutLogEvents"];

/// What API Gateway's account-wide CloudWatch role needs to write execution and access logs (the actions of the
/// AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs, which cdk-nag IAM4 keeps us from attaching).
pub const LOGS_APIGATEWAY_PUSH: &[&str] = &[
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
];

// API Gateway
/// Calling an IAM-authorized API method.
pub const EXECUTE_API_INVOKE: &[&str] = &["execute-api:Invoke"];

// X-Ray
/// Sending traces: AWS allows no narrower resource than `*` for these.
pub const XRAY_WRITE: &[&str] = &["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `pub const` of this file with a `kms:` action, read from the source so a set added later is
    /// covered without being listed here.
    fn kms_sets_in_source() -> Vec<(String, Vec<String>)> {
        let source = include_str!("actions.rs");
        let mut sets = Vec::new();
        for chunk in source.split("pub const ").skip(1) {
            let name = chunk.split(':').next().unwrap().trim().to_owned();
            let body = &chunk[..chunk.find(';').unwrap()];
            let actions: Vec<String> = body
                .split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            if actions.iter().any(|a| a.starts_with("kms:")) {
                sets.push((name, actions));
            }
        }
        sets
    }

    #[test]
    fn no_kms_set_but_the_key_policy_admin_has_a_wildcard() {
        let sets = kms_sets_in_source();
        // The parse found the sets (a broken parse must not pass by finding nothing).
        for expected in [
            "KMS_ENCRYPT",
            "KMS_SERVICE_USE",
            "KMS_LOGS_USE",
            "SQS_KMS_SEND",
            "S3_KMS_WRITE",
        ] {
            assert!(
                sets.iter().any(|(n, _)| n == expected),
                "{expected} not found in {sets:?}"
            );
        }
        for (name, actions) in &sets {
            if name == "KMS_ADMIN" {
                assert_eq!(actions, &["kms:*"]);
                continue;
            }
            for a in actions {
                assert!(!a.contains('*'), "{name} has the wildcard action {a}");
            }
        }
    }

    #[test]
    fn the_grant_sets_are_what_the_aws_docs_name() {
        // SQS and SNS producers, and services delivering into encrypted queues, topics and buses.
        assert_eq!(SQS_KMS_SEND, ["kms:GenerateDataKey", "kms:Decrypt"]);
        assert_eq!(SNS_KMS_PUBLISH, ["kms:GenerateDataKey", "kms:Decrypt"]);
        assert_eq!(KMS_SERVICE_USE, ["kms:Decrypt", "kms:GenerateDataKey"]);
        // Consumers decrypt, and nothing else.
        for consumer in [KMS_DECRYPT, KINESIS_KMS_READ, S3_KMS_READ, SECRETS_KMS_READ] {
            assert_eq!(consumer, ["kms:Decrypt"]);
        }
        // No producer re-encrypts.
        for producer in [
            KMS_ENCRYPT,
            KMS_ENCRYPT_DECRYPT,
            SQS_KMS_SEND,
            SNS_KMS_PUBLISH,
            S3_KMS_WRITE,
        ] {
            assert!(
                !producer.iter().any(|a| a.starts_with("kms:ReEncrypt")),
                "{producer:?}"
            );
        }
    }

    #[test]
    fn the_logs_key_policy_spells_out_exactly_the_documented_wildcards() {
        // "Encrypt log data in CloudWatch Logs using AWS KMS" and the KMS operations acting on a key.
        const DOCUMENTED: &[&str] = &[
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ];
        const KEY_OPERATIONS: &[&str] = &[
            "kms:CancelKeyDeletion",
            "kms:CreateAlias",
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:DeleteAlias",
            "kms:DeleteImportedKeyMaterial",
            "kms:DeriveSharedSecret",
            "kms:DescribeKey",
            "kms:DisableKey",
            "kms:DisableKeyRotation",
            "kms:EnableKey",
            "kms:EnableKeyRotation",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyPair",
            "kms:GenerateDataKeyPairWithoutPlaintext",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:GenerateMac",
            "kms:GetKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:GetParametersForImport",
            "kms:GetPublicKey",
            "kms:ImportKeyMaterial",
            "kms:ListGrants",
            "kms:ListKeyPolicies",
            "kms:ListKeyRotations",
            "kms:ListResourceTags",
            "kms:PutKeyPolicy",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:ReplicateKey",
            "kms:RetireGrant",
            "kms:RevokeGrant",
            "kms:RotateKeyOnDemand",
            "kms:ScheduleKeyDeletion",
            "kms:Sign",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:UpdateAlias",
            "kms:UpdateKeyDescription",
            "kms:UpdatePrimaryRegion",
            "kms:Verify",
            "kms:VerifyMac",
        ];
        let matched: Vec<&str> = KEY_OPERATIONS
            .iter()
            .copied()
            .filter(|op| {
                DOCUMENTED
                    .iter()
                    .any(|w| op.starts_with(w.trim_end_matches('*')))
            })
            .collect();
        let mut ours = KMS_LOGS_USE.to_vec();
        ours.sort_unstable();
        assert_eq!(ours, matched);
    }
}
