//! CloudWatch Logs: [`LogGroup`] (retention always set, optional customer-managed key, retained on stack
//! deletion) and its grants.
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Ops");
//! let audit = LogGroup::new(&stack, "Audit", LogGroupProps {
//!     retention: Retention::days(400),
//!     ..Default::default()
//! })?;
//! let writer = Role::new(&stack, "Writer", Principal::service("lambda.amazonaws.com"), Default::default())?;
//! audit.grant_write(&writer);
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::time::Duration;

use cfnkit_core::{RemovalPolicy, Val};
use cfnkit_l1::logs as l1;

use super::iam::{Grant, Grantable, PolicyStatement, Principal};
use super::kms::Key;
use super::{actions, human, path_of, Construct, ConstructError};
use crate::AsScope;

/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: &[u64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The retention a log group gets when none is given: one year, the shortest that checkov's CKV_AWS_338
/// accepts, and long enough for an incident review.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(365 * 86_400);

/// How long a log group keeps its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// Events expire after this many days: one of [`RETENTION_DAYS`], as a [`Duration`] of whole days.
    Period(Duration),
    /// Events never expire (the rule pack flags log groups without retention, so say why in a suppression).
    Forever,
}

impl Retention {
    /// `Retention::days(30)`.
    pub fn days(n: u64) -> Self {
        Retention::Period(Duration::from_secs(n * 86_400))
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention::Period(DEFAULT_RETENTION)
    }
}

/// Checks a retention period and returns it in days, or an error listing the accepted values.
pub(crate) fn retention_days(
    path: &str,
    retention: Retention,
) -> Result<Option<i64>, ConstructError> {
    let Retention::Period(d) = retention else {
        return Ok(None);
    };
    let secs = d.as_secs();
    if d.subsec_nanos() == 0 && secs % 86_400 == 0 && RETENTION_DAYS.contains(&(secs / 86_400)) {
        return Ok(Some((secs / 86_400) as i64));
    }
    let allowed = RETENTION_DAYS
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Err(ConstructError::invalid(
        path,
        format!(
            "retention must be one of {allowed} days (or Retention::Forever), got {}",
            human(d)
        ),
    ))
}

/// Why a log group without a customer-managed key needs none (checkov CKV_AWS_158), naming the prop that gives
/// it one: `LogGroupProps.encryption_key`, or the prop of the construct that made the log group.
pub(crate) fn logs_key_reason(prop: &str) -> String {
    format!(
        "no {prop}: CloudWatch Logs encrypts the events at rest with keys it manages; give a customer-managed key \
         to control and audit their use"
    )
}

/// Props of a [`LogGroup`].
#[derive(Clone, Debug)]
pub struct LogGroupProps<'a> {
    /// A fixed log group name (`/aws/lambda/orders`). Without it CloudFormation generates a unique name.
    pub log_group_name: Option<Val<String>>,
    /// How long events are kept. Without it events are kept for one year ([`DEFAULT_RETENTION`]).
    pub retention: Retention,
    /// A customer-managed key to encrypt the events with; the key policy gets a statement letting CloudWatch Logs
    /// in this region use it for this account's log groups. Without it events are encrypted with keys CloudWatch
    /// Logs manages (checkov's CKV_AWS_158 asks for a customer-managed key).
    pub encryption_key: Option<&'a Key>,
    /// What happens to the log group (and its events) when it leaves the stack. Without it the log group is
    /// retained: logs are evidence, and outlive the stack that wrote them.
    pub removal_policy: RemovalPolicy,
}

impl Default for LogGroupProps<'_> {
    fn default() -> Self {
        LogGroupProps {
            log_group_name: None,
            retention: Retention::default(),
            encryption_key: None,
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

impl LogGroupProps<'_> {
    /// Every check of the props, before anything is built: the retention, returned in days (`None`: forever).
    pub(crate) fn validate(&self, path: &str) -> Result<Option<i64>, ConstructError> {
        retention_days(path, self.retention)
    }
}

/// A CloudWatch Logs log group with retention (one year unless told otherwise), retained on stack deletion.
#[derive(Clone, Debug)]
pub struct LogGroup {
    handle: l1::LogGroupHandle,
    key: Option<Key>,
}

impl LogGroup {
    /// A log group at `<scope>/<id>` (logical ID `<Id>`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: LogGroupProps<'_>,
    ) -> Result<LogGroup, ConstructError> {
        let scope = scope.as_scope().child(id);
        let days = props.validate(scope.path())?;
        let key = props.encryption_key.cloned();
        if let Some(key) = &key {
            key.add_to_resource_policy(
                PolicyStatement::allow()
                    .actions(actions::KMS_LOGS_USE)
                    .principal(Principal::RegionalService("logs".to_owned()))
                    .resource("*")
                    .condition(
                        "ArnLike",
                        "kms:EncryptionContext:aws:logs:arn",
                        crate::fns::sub(
                            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
                        ),
                    ),
            );
        }
        let group = l1::LogGroup {
            log_group_name: props.log_group_name,
            retention_in_days: days.map(Val::from),
            kms_key_id: key.as_ref().map(|k| k.key_arn()),
            ..Default::default()
        };
        let handle: l1::LogGroupHandle = scope.add("Resource", group);
        handle.apply_removal_policy(props.removal_policy);
        if key.is_none() {
            // The construct that owns the log group (a function, an API) writes its own prop over this reason.
            crate::rules::skip_checkov(
                &handle,
                "CKV_AWS_158",
                &logs_key_reason("LogGroupProps.encryption_key"),
            );
        }
        Ok(LogGroup { handle, key })
    }

    /// Lets the grantee create log streams in the group and write events to them.
    pub fn grant_write(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        grantee
            .grant_role()
            .grant(actions::LOGS_WRITE, [self.log_group_arn()])
    }

    /// The log group ARN (`arn:...:log-group:<name>:*`, which also covers its streams).
    pub fn log_group_arn(&self) -> Val<String> {
        self.handle.attr_arn()
    }
    /// The log group name.
    pub fn log_group_name(&self) -> Val<String> {
        self.handle.ref_()
    }
    /// The customer-managed key, when the group uses one.
    pub fn encryption_key(&self) -> Option<&Key> {
        self.key.as_ref()
    }
}

impl Construct for LogGroup {
    type L1 = l1::LogGroup;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::LogGroupHandle {
        &self.handle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_outside_the_accepted_values_lists_them() {
        let e = retention_days("S/Logs", Retention::days(10)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "S/Logs: retention must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, \
             1096, 1827, 2192, 2557, 2922, 3288, 3653 days (or Retention::Forever), got 10 days"
        );
        assert_eq!(retention_days("S/Logs", Retention::days(14)), Ok(Some(14)));
        assert_eq!(retention_days("S/Logs", Retention::Forever), Ok(None));
    }
}
