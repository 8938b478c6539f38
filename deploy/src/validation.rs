//! CloudFormation's early validation: before it provisions anything it checks property values, names that
//! already exist, buckets that are not empty... and a change set or operation that fails those checks says only
//! "The following hook(s)/validations failed". DescribeEvents has the findings, each with the resource, the
//! property path and the reason; they are shown next to the resource, before the generic failure.

use aws_sdk_cloudformation::types::{EventFilter, EventType, HookFailureMode, OperationEvent};
use aws_sdk_cloudformation::Client;

use crate::error::DeployError;

/// One finding of a validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub logical_id: String,
    pub resource_type: String,
    /// Where in the resource: `/Properties/BucketName`.
    pub path: Option<String>,
    pub reason: String,
    /// The validation that found it (`NAME_CONFLICT_VALIDATION`, `PROPERTY_VALIDATION`...).
    pub validation: Option<String>,
    /// A finding CloudFormation only warns about (failure mode `WARN`): it did not stop the operation.
    pub warning: bool,
}

impl Finding {
    /// `/Properties/BucketName: Bucket name already exists [NAME_CONFLICT_VALIDATION]`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if self.warning {
            s.push_str("warning: ");
        }
        if let Some(path) = &self.path {
            s.push_str(path);
            s.push_str(": ");
        }
        s.push_str(&self.reason);
        if let Some(v) = &self.validation {
            s.push_str(&format!(" [{v}]"));
        }
        s
    }
}

/// Which failure to read the findings of.
#[derive(Clone, Copy, Debug)]
pub enum Failed<'a> {
    ChangeSet {
        stack: &'a str,
        id: &'a str,
    },
    /// A stack operation (its `OperationId`, from the stack's events).
    Operation {
        stack: &'a str,
        id: &'a str,
    },
}

/// The validation findings of a failed change set or operation. An endpoint without DescribeEvents (an
/// emulator, an older partition) has none to give; the failure is reported all the same.
pub async fn findings(cfn: &Client, failed: Failed<'_>) -> Result<Vec<Finding>, DeployError> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let mut req = cfn
            .describe_events()
            .filters(EventFilter::builder().failed_events(true).build())
            .set_next_token(token);
        req = match failed {
            Failed::ChangeSet { stack, id } => req.stack_name(stack).change_set_name(id),
            Failed::Operation { stack, id } => req.stack_name(stack).operation_id(id),
        };
        let stack = match failed {
            Failed::ChangeSet { stack, .. } | Failed::Operation { stack, .. } => stack,
        };
        let page = req
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:DescribeEvents", stack, e))?;
        events.extend(page.operation_events().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(from_events(&events))
}

/// The validation errors among an operation's events, oldest first as CloudFormation ran them.
pub fn from_events(events: &[OperationEvent]) -> Vec<Finding> {
    let mut out: Vec<(Option<&aws_smithy_types::DateTime>, Finding)> = events
        .iter()
        .filter(|e| e.event_type() == Some(&EventType::ValidationError))
        .map(|e| {
            (
                e.timestamp(),
                Finding {
                    logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: e.resource_type().unwrap_or_default().to_owned(),
                    path: e.validation_path().map(str::to_owned),
                    reason: e
                        .validation_status_reason()
                        .or(e.resource_status_reason())
                        .unwrap_or("no reason given")
                        .to_owned(),
                    validation: e.validation_name().map(str::to_owned),
                    warning: e.validation_failure_mode() == Some(&HookFailureMode::Warn),
                },
            )
        })
        .collect();
    out.sort_by(|a, b| {
        a.0.map(|t| (t.secs(), t.subsec_nanos()))
            .cmp(&b.0.map(|t| (t.secs(), t.subsec_nanos())))
    });
    out.dedup_by(|a, b| a.1 == b.1);
    out.into_iter().map(|(_, f)| f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::types::ValidationStatus;
    use aws_smithy_types::DateTime;

    /// A VALIDATION_ERROR event as DescribeEvents returns it for a change set whose bucket name is taken.
    fn validation_error(
        secs: i64,
        id: &str,
        path: &str,
        reason: &str,
        name: &str,
    ) -> OperationEvent {
        OperationEvent::builder()
            .event_id(format!("ev-{secs}"))
            .event_type(EventType::ValidationError)
            .logical_resource_id(id)
            .resource_type("AWS::S3::Bucket")
            .timestamp(DateTime::from_secs(secs))
            .validation_name(name)
            .validation_status(ValidationStatus::Failed)
            .validation_status_reason(reason)
            .validation_path(path)
            .validation_failure_mode(HookFailureMode::Fail)
            .build()
    }

    #[test]
    fn validation_errors_become_findings_with_path_and_reason_in_order() {
        let events = [
            validation_error(
                20,
                "Archive",
                "/Properties/LifecycleConfiguration/Rules/0/ExpirationInDays",
                "must be at least 1",
                "PROPERTY_VALIDATION",
            ),
            OperationEvent::builder()
                .event_type(EventType::StackEvent)
                .logical_resource_id("Data")
                .resource_status_reason("The following hook(s)/validations failed: [AWS::EarlyValidation::ResourceExistenceCheck]")
                .build(),
            validation_error(
                10,
                "Archive",
                "/Properties/BucketName",
                "Resource of type 'AWS::S3::Bucket' with identifier 'orders-archive' already exists.",
                "NAME_CONFLICT_VALIDATION",
            ),
        ];
        let found = from_events(&events);
        assert_eq!(
            found.iter().map(Finding::render).collect::<Vec<_>>(),
            [
                "/Properties/BucketName: Resource of type 'AWS::S3::Bucket' with identifier 'orders-archive' already exists. [NAME_CONFLICT_VALIDATION]",
                "/Properties/LifecycleConfiguration/Rules/0/ExpirationInDays: must be at least 1 [PROPERTY_VALIDATION]",
            ]
        );
        assert_eq!(found[0].logical_id, "Archive");
    }
}
