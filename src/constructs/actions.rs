//! The IAM actions every grant uses, in one place, named by intent. They match what AWS CDK grants for the same
//! intent, so policies read the same as a CDK user expects and reviews of a grant happen here.

// KMS
/// Encrypting with a key: what a producer of encrypted data needs.
pub const KMS_ENCRYPT: &[&str] = &["kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"];
/// Decrypting with a key: what a consumer of encrypted data needs.
pub const KMS_DECRYPT: &[&str] = &["kms:Decrypt"];
/// Both: what a producer needs when the service also reads back what it wrote (SQS senders, SNS publishers).
pub const KMS_ENCRYPT_DECRYPT: &[&str] = &[
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
];
/// What an AWS service that delivers into an encrypted resource needs in the key policy.
pub const KMS_SERVICE_USE: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey*"];
/// What CloudWatch Logs needs in a key policy to encrypt a log group's events with the key.
pub const KMS_LOGS_USE: &[&str] = &[
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
];
/// Full control, for the account root in a key policy (which delegates access to IAM policies).
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
/// What an AWS service (SNS, EventBridge) needs in a queue policy to deliver messages.
pub const SQS_SERVICE_SEND: &[&str] = &["sqs:SendMessage"];
/// Every SQS action: only ever used in the `Deny` of the TLS-only queue policy.
pub const SQS_ALL: &[&str] = &["sqs:*"];

// SNS
/// Publishing to a topic.
pub const SNS_PUBLISH: &[&str] = &["sns:Publish"];

// EventBridge
/// Putting events on a bus.
pub const EVENTS_PUT: &[&str] = &["events:PutEvents"];

// Lambda
/// Invoking a function.
pub const LAMBDA_INVOKE: &[&str] = &["lambda:InvokeFunction"];

// Kinesis
/// Writing records to a stream.
pub const KINESIS_WRITE: &[&str] = &[
    "kinesis:ListShards",
    "kinesis:PutRecord",
    "kinesis:PutRecords",
];
/// Reading records from a stream.
pub const KINESIS_READ: &[&str] = &[
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:SubscribeToShard",
    "kinesis:DescribeStream",
    "kinesis:ListStreams",
    "kinesis:DescribeStreamConsumer",
];
/// What reading a stream encrypted with a customer-managed key needs of the key.
pub const KINESIS_KMS_READ: &[&str] = &["kms:Decrypt"];
/// What writing to such a stream needs of the key: a data key for the records.
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

// S3 (named actions where AWS CDK writes `s3:GetObject*`-style wildcards, so IAM5 has nothing to report and a
// reviewer sees exactly what is allowed)
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
