//! Kinesis: [`Stream`] (encrypted with KMS, on-demand by default, retained) with its grants and metrics.
//!
//! A stream feeds a Lambda function through a [`super::lambda::KinesisEventSource`] and receives
//! EventBridge events through [`StreamRef::rule_target`].
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Clicks");
//! // On demand, KMS-encrypted with the AWS-managed key, 24 hours of records, retained.
//! let stream = Stream::new(&stack, "Clicks", StreamProps::default())?;
//! let consumer = Role::new(&stack, "Consumer", Principal::service("lambda.amazonaws.com"), Default::default())?;
//! stream.grant_read(&consumer);
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::time::Duration;

use cfnkit_core::{RemovalPolicy, Val};
use cfnkit_l1::kinesis as l1;

use super::cloudwatch::{Metric, Statistic};
use super::events::{Target, TargetProps};
use super::iam::{Grant, Grantable};
use super::kms::{Key, KeyRef};
use super::{
    actions, check_imported_arn, imported_name, ArnResource, Construct, ConstructError, OwnScope,
};
use crate::AsScope;

/// The AWS-managed key Kinesis encrypts with when a stream is given no key of its own.
pub const AWS_MANAGED_KINESIS_KEY: &str = "alias/aws/kinesis";

/// How a stream's records are encrypted at rest. Always with KMS: an unencrypted stream is not offered
/// (checkov CKV_AWS_43); the escape hatch can still remove `StreamEncryption`.
#[derive(Clone, Copy, Debug, Default)]
pub enum StreamEncryption<'a> {
    /// The AWS-managed key `alias/aws/kinesis`: no key to manage, and principals of the account that may use
    /// the stream may use the key through Kinesis without any key grant.
    #[default]
    AwsManaged,
    /// A customer-managed key. Grants on the stream then also grant the key (`kms:Decrypt` to read,
    /// `kms:GenerateDataKey` to write).
    Kms(&'a Key),
}

/// How a stream's capacity is managed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamCapacity {
    /// On demand: Kinesis scales the shards with the traffic, nothing to plan.
    #[default]
    OnDemand,
    /// A fixed number of shards (1 MB/s or 1,000 records/s of writes each).
    Provisioned {
        /// The number of shards.
        shards: u32,
    },
}

/// Hours a record stays readable when [`StreamProps::retention_period`] is not set: Kinesis's default.
pub const DEFAULT_RETENTION_HOURS: i64 = 24;

/// Props of a [`Stream`].
#[derive(Clone, Debug)]
pub struct StreamProps<'a> {
    /// A fixed stream name. Without it CloudFormation generates a unique name.
    pub stream_name: Option<Val<String>>,
    /// Encryption at rest. Without it records are encrypted with the AWS-managed key `alias/aws/kinesis`.
    pub encryption: StreamEncryption<'a>,
    /// Capacity mode. Without it the stream is on demand.
    pub capacity: StreamCapacity,
    /// How long records stay readable (24 hours to 365 days, whole hours). Without it 24 hours, Kinesis's
    /// default.
    pub retention_period: Option<Duration>,
    /// What happens to the stream when it leaves the stack. Without it the stream is retained: it holds
    /// records not yet consumed.
    pub removal_policy: RemovalPolicy,
}

impl Default for StreamProps<'_> {
    fn default() -> Self {
        StreamProps {
            stream_name: None,
            encryption: StreamEncryption::AwsManaged,
            capacity: StreamCapacity::OnDemand,
            retention_period: None,
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

impl StreamProps<'_> {
    /// Every check of the props, before anything is built: the retention period and the shard count. Returns
    /// the retention in whole hours.
    fn validate(&self, path: &str) -> Result<Option<i64>, ConstructError> {
        let retention_hours = self
            .retention_period
            .map(|d| {
                let secs = d.as_secs();
                let hours = secs / 3_600;
                if d.subsec_nanos() != 0 || secs % 3_600 != 0 || !(24..=8_760).contains(&hours) {
                    Err(ConstructError::invalid(
                        path,
                        format!(
                            "retention_period must be a whole number of hours from 24 hours to 365 days, got {}",
                            super::human(d)
                        ),
                    ))
                } else {
                    Ok(hours as i64)
                }
            })
            .transpose()?;
        if let StreamCapacity::Provisioned { shards } = self.capacity {
            if !(1..=10_000).contains(&shards) {
                return Err(ConstructError::invalid(
                    path,
                    format!("a provisioned stream needs 1 to 10000 shards, got {shards}"),
                ));
            }
        }
        Ok(retention_hours)
    }
}

/// A Kinesis data stream: encrypted with KMS, on demand, retained on stack deletion.
#[derive(Clone, Debug)]
pub struct Stream {
    reference: StreamRef,
    scope: OwnScope,
    handle: l1::StreamHandle,
}

/// A stream as grants, event sources and rule targets see it: its ARN and name, and its customer-managed key. A
/// [`Stream`] made here derefs to one; [`Stream::from_arn`] and [`Stream::from_attributes`] make one for a
/// stream made elsewhere.
#[derive(Clone, Debug)]
pub struct StreamRef {
    /// The construct path, or the id of an imported stream: what wiring resources are named after.
    pub(crate) path: String,
    stream_arn: Val<String>,
    stream_name: Val<String>,
    key: Option<KeyRef>,
}

impl StreamRef {
    /// Lets the grantee read records (and decrypt them with the customer-managed key).
    pub fn grant_read(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::KINESIS_READ).with_key(
            self.key
                .as_ref()
                .map(|k| k.grant(grantee, actions::KINESIS_KMS_READ)),
        )
    }
    /// Lets the grantee put records (and encrypt them with the customer-managed key).
    pub fn grant_write(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::KINESIS_WRITE).with_key(
            self.key
                .as_ref()
                .map(|k| k.grant(grantee, actions::KINESIS_KMS_WRITE)),
        )
    }
    /// Both [`StreamRef::grant_read`] and [`StreamRef::grant_write`].
    pub fn grant_read_write(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant_read(grantee).and(self.grant_write(grantee))
    }
    /// Lets the grantee perform `actions` on this stream (no key permissions).
    pub fn grant(&self, grantee: &(impl Grantable + ?Sized), actions: &[&str]) -> Grant {
        grantee.grant_role().grant(actions, [self.stream_arn()])
    }
    /// This stream as the target of an EventBridge rule: the rule's role is granted putting records (and
    /// encrypting with the customer-managed key).
    pub fn rule_target<'a>(&self, props: TargetProps<'a>) -> Target<'a> {
        Target::kinesis_stream(self.stream_arn(), self.key.as_ref(), props)
    }
    /// A metric of the stream (`AWS/Kinesis`, dimension `StreamName`).
    pub fn metric(&self, metric_name: &str) -> Metric {
        Metric::new("AWS/Kinesis", metric_name).dimension("StreamName", self.stream_name())
    }
    /// `GetRecords.IteratorAgeMilliseconds` (maximum over 5 minutes): how far the slowest consumer is behind.
    /// Records older than the retention period are lost, so alarm well before it.
    pub fn metric_get_records_iterator_age_milliseconds(&self) -> Metric {
        self.metric("GetRecords.IteratorAgeMilliseconds")
            .statistic(Statistic::Maximum)
    }
    /// `IncomingRecords` (sum over 5 minutes).
    pub fn metric_incoming_records(&self) -> Metric {
        self.metric("IncomingRecords").statistic(Statistic::Sum)
    }
    /// `IncomingBytes` (sum over 5 minutes).
    pub fn metric_incoming_bytes(&self) -> Metric {
        self.metric("IncomingBytes").statistic(Statistic::Sum)
    }
    /// `GetRecords.Records` (sum over 5 minutes): records read.
    pub fn metric_get_records_records(&self) -> Metric {
        self.metric("GetRecords.Records").statistic(Statistic::Sum)
    }
    /// `WriteProvisionedThroughputExceeded` (sum over 5 minutes): throttled writes.
    pub fn metric_write_provisioned_throughput_exceeded(&self) -> Metric {
        self.metric("WriteProvisionedThroughputExceeded")
            .statistic(Statistic::Sum)
    }
    /// `ReadProvisionedThroughputExceeded` (sum over 5 minutes): throttled reads.
    pub fn metric_read_provisioned_throughput_exceeded(&self) -> Metric {
        self.metric("ReadProvisionedThroughputExceeded")
            .statistic(Statistic::Sum)
    }
    /// The stream ARN.
    pub fn stream_arn(&self) -> Val<String> {
        self.stream_arn.clone()
    }
    /// The stream name (`Ref`).
    pub fn stream_name(&self) -> Val<String> {
        self.stream_name.clone()
    }
    /// The customer-managed key, when the stream uses one.
    pub fn encryption_key(&self) -> Option<&KeyRef> {
        self.key.as_ref()
    }
}

/// What [`Stream::from_attributes`] needs to know of a stream made elsewhere.
#[derive(Clone, Debug)]
pub struct StreamAttributes<'a> {
    /// The stream ARN (`arn:<partition>:kinesis:<region>:<account>:stream/<name>`; a literal one is checked).
    pub stream_arn: Val<String>,
    /// The customer-managed key the stream is encrypted with, so grants also grant its use. Without it grants
    /// name the stream only (right for `alias/aws/kinesis`).
    pub encryption_key: Option<&'a KeyRef>,
}

impl std::ops::Deref for Stream {
    type Target = StreamRef;
    fn deref(&self) -> &StreamRef {
        &self.reference
    }
}

impl Stream {
    /// A stream made elsewhere, by ARN (encrypted with `alias/aws/kinesis`): grants, event sources and rule
    /// targets name it.
    pub fn from_arn(
        id: &str,
        stream_arn: impl Into<Val<String>>,
    ) -> Result<StreamRef, ConstructError> {
        Stream::from_attributes(
            id,
            StreamAttributes {
                stream_arn: stream_arn.into(),
                encryption_key: None,
            },
        )
    }

    /// A stream made elsewhere, with its customer-managed key: grants also grant the key usage they need.
    pub fn from_attributes(
        id: &str,
        attributes: StreamAttributes<'_>,
    ) -> Result<StreamRef, ConstructError> {
        let arn = attributes.stream_arn;
        check_imported_arn(
            id,
            "stream_arn",
            &arn,
            "kinesis",
            ArnResource::Slash("stream"),
        )?;
        Ok(StreamRef {
            path: id.to_owned(),
            stream_name: imported_name(&arn, ArnResource::Slash("stream")),
            stream_arn: arn,
            key: attributes.encryption_key.cloned(),
        })
    }

    /// A stream at `<scope>/<id>` (logical ID `<Id>`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: StreamProps<'_>,
    ) -> Result<Stream, ConstructError> {
        let scope = scope.as_scope().child(id);
        let retention_hours = props.validate(scope.path())?;
        let key = match props.encryption {
            StreamEncryption::AwsManaged => None,
            StreamEncryption::Kms(k) => Some(k.clone()),
        };
        let stream = l1::Stream {
            name: props.stream_name,
            // Kinesis's default written out, so how long records stay is stated (cfn-lint I3013).
            retention_period_hours: Some(retention_hours.unwrap_or(DEFAULT_RETENTION_HOURS).into()),
            shard_count: match props.capacity {
                StreamCapacity::OnDemand => None,
                StreamCapacity::Provisioned { shards } => Some(shards.into()),
            },
            stream_mode_details: Some(Val::from(l1::stream::StreamModeDetails {
                stream_mode: Some(
                    match props.capacity {
                        StreamCapacity::OnDemand => l1::stream::StreamMode::OnDemand,
                        StreamCapacity::Provisioned { .. } => l1::stream::StreamMode::Provisioned,
                    }
                    .into(),
                ),
            })),
            stream_encryption: Some(Val::from(l1::stream::StreamEncryption {
                encryption_type: Some(l1::stream::EncryptionType::Kms.into()),
                key_id: Some(
                    key.as_ref()
                        .map_or_else(|| Val::from(AWS_MANAGED_KINESIS_KEY), |k| k.key_arn()),
                ),
            })),
            ..Default::default()
        };
        let handle: l1::StreamHandle = scope.add("Resource", stream);
        handle.apply_removal_policy(props.removal_policy);
        Ok(Stream {
            reference: StreamRef {
                path: scope.path().to_owned(),
                stream_arn: handle.attr_arn(),
                stream_name: handle.ref_(),
                key: key.as_deref().cloned(),
            },
            scope: OwnScope(scope),
            handle,
        })
    }
}

impl Construct for Stream {
    type L1 = l1::Stream;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::StreamHandle {
        &self.handle
    }
}
