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

// S3
/// Reading objects.
pub const S3_READ: &[&str] = &["s3:GetObject*", "s3:GetBucket*", "s3:List*"];
/// Writing objects.
pub const S3_PUT: &[&str] = &[
    "s3:PutObject",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:Abort*",
];
/// Deleting objects.
pub const S3_DELETE: &[&str] = &["s3:DeleteObject*"];

// Secrets Manager
/// Reading a secret's value.
pub const SECRETS_READ: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
];

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
