//! What an app needs, in one import: `use cfnkit::prelude::*;`.
//!
//! The app and its stacks, values and intrinsics ([`fns`]), [`Duration`], the [`Construct`] trait (for `path()`,
//! `handle()`, `resource_mut()` on any construct), [`LambdaTarget`] and [`Grantable`], and every construct with
//! its props, the types its props name, and its import attributes. Less common pieces (IAM statements, CloudWatch
//! widgets, the rule pack) stay in their modules.
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let scope = app.stack("Jobs").scope();
//! let queue = Queue::new(&scope, "Work", QueueProps {
//!     visibility_timeout: Some(Duration::from_secs(60)),
//!     ..Default::default()
//! })?;
//! let worker = Function::new(&scope, "Worker", Code::cargo_bin("handlers", "worker"), FunctionProps {
//!     environment: env([("QUEUE_URL", queue.queue_url())]),
//!     timeout: Some(Duration::from_secs(10)),
//!     ..Default::default()
//! })?;
//! worker.add_event_source(SqsEventSource::new(&queue, Default::default()))?;
//! # Ok(()) }
//! ```

pub use std::time::Duration;

pub use crate::constructs::apigateway::{
    Authorization, LambdaIntegration, LambdaIntegrationProps, MethodOptions, RestApi, RestApiProps,
};
pub use crate::constructs::apigatewayv2::{
    HttpApi, HttpApiProps, HttpAuthorization, HttpLambdaIntegration, HttpLambdaIntegrationProps,
    RouteOptions,
};
pub use crate::constructs::cloudformation::{
    StackSet, StackSetOperation, StackSetPermissions, StackSetProps, StackSetTargets,
};
pub use crate::constructs::cloudwatch::{Alarm, AlarmProps, Metric};
pub use crate::constructs::codedeploy::{
    DeployGraduallyProps, GradualDeployment, LambdaDeploymentConfig,
};
pub use crate::constructs::cors::Cors;
pub use crate::constructs::dynamodb::{
    Attribute, Billing, GlobalSecondaryIndex, LocalSecondaryIndex, Projection, StreamViewType,
    Table, TableAttributes, TableProps,
};
pub use crate::constructs::events::{
    EventBus, EventBusProps, EventPattern, Rule, RuleProps, Target,
};
pub use crate::constructs::iam::{Grant, Grantable, Principal, Role, RoleProps};
pub use crate::constructs::kinesis::{Stream, StreamAttributes, StreamProps};
pub use crate::constructs::kms::{Key, KeyProps};
pub use crate::constructs::lambda::{
    env, Code, DynamoEventSource, DynamoImage, FilterPattern, Function, FunctionProps,
    KinesisEventSource, SqsEventSource, SqsEventSourceProps, StartingPosition,
    StreamEventSourceProps,
};
pub use crate::constructs::logs::{LogGroup, LogGroupProps, Retention};
pub use crate::constructs::pipelines::{DeployStage, Pipeline, PipelineProps, PipelineSource};
pub use crate::constructs::s3::{Bucket, BucketAttributes, BucketEncryption, BucketProps};
pub use crate::constructs::secretsmanager::{Secret, SecretAttributes, SecretProps};
pub use crate::constructs::sns::{
    Subscription, SubscriptionProps, Topic, TopicAttributes, TopicProps,
};
pub use crate::constructs::sqs::{DeadLetter, Queue, QueueAttributes, QueueEncryption, QueueProps};
pub use crate::constructs::{Construct, ConstructError, LambdaTarget};
pub use crate::{fns, App, AsScope, Output, RemovalPolicy, Scope, Stack, Val};
