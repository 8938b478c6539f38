//! Drift: what was changed on the deployed resources outside CloudFormation (DetectStackDrift), resource by
//! resource with the property paths, for `cargo cfn drift`, the note `diff` adds, and `deploy --revert-drift`.

use std::fmt::Write;
use std::time::Duration;

use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDriftStatus};
use aws_sdk_cloudformation::Client;
use console::style;

use crate::error::DeployError;

const POLL: Duration = Duration::from_secs(2);

/// One property that differs from the template (`PropertyDifference`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyDrift {
    /// A JSON pointer into the properties: `/VisibilityTimeout`, `/Tags/0/Value`.
    pub path: String,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    pub kind: String,
    pub expected: String,
    pub actual: String,
}

/// A resource that drifted: `MODIFIED` (with the properties) or `DELETED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceDrift {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub properties: Vec<PropertyDrift>,
}

/// A stack's drift, as its latest detection found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackDrift {
    pub stack: String,
    /// `DRIFTED`, `IN_SYNC`, `UNKNOWN`, `NOT_CHECKED`.
    pub status: String,
    pub resources: Vec<ResourceDrift>,
    /// Why detection did not finish (some resources could not be checked), when it did not.
    pub incomplete: Option<String>,
    /// When the detection ran, UTC.
    pub checked_at: Option<String>,
}

impl StackDrift {
    pub fn drifted(&self) -> bool {
        !self.resources.is_empty()
    }
}

fn timestamp(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

/// Runs a drift detection of the stack and waits for it (DetectStackDrift, then
/// DescribeStackDriftDetectionStatus until it is done), then reads the drifted resources.
pub async fn detect(cfn: &Client, stack: &str) -> Result<StackDrift, DeployError> {
    let id = cfn
        .detect_stack_drift()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:DetectStackDrift", stack, e))?
        .stack_drift_detection_id()
        .unwrap_or_default()
        .to_owned();
    loop {
        let out = cfn
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(&id)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws("cloudformation:DescribeStackDriftDetectionStatus", stack, e)
            })?;
        let status = out.stack_drift_status().map(|s| s.as_str().to_owned());
        let incomplete = match out.detection_status() {
            Some(StackDriftDetectionStatus::DetectionInProgress) => {
                tokio::time::sleep(POLL).await;
                continue;
            }
            // A failed detection still reports what it could check; the reason names what it could not.
            Some(StackDriftDetectionStatus::DetectionFailed) => Some(
                out.detection_status_reason()
                    .unwrap_or("no reason given")
                    .to_owned(),
            ),
            _ => None,
        };
        return Ok(StackDrift {
            stack: stack.into(),
            status: status.unwrap_or_else(|| "UNKNOWN".into()),
            resources: resource_drifts(cfn, stack).await?,
            incomplete,
            checked_at: timestamp(out.timestamp()),
        });
    }
}

/// The drifted resources the stack's latest detection found (DescribeStackResourceDrifts), without running one.
pub async fn resource_drifts(cfn: &Client, stack: &str) -> Result<Vec<ResourceDrift>, DeployError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = cfn
            .describe_stack_resource_drifts()
            .stack_name(stack)
            .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
            .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws("cloudformation:DescribeStackResourceDrifts", stack, e)
            })?;
        out.extend(page.stack_resource_drifts().iter().map(|d| {
            ResourceDrift {
                logical_id: d.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type: d.resource_type().unwrap_or_default().to_owned(),
                status: d
                    .stack_resource_drift_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                properties: d
                    .property_differences()
                    .iter()
                    .map(|p| PropertyDrift {
                        path: p.property_path().unwrap_or_default().to_owned(),
                        kind: p
                            .difference_type()
                            .map(|k| k.as_str().to_owned())
                            .unwrap_or_default(),
                        expected: p.expected_value().unwrap_or_default().to_owned(),
                        actual: p.actual_value().unwrap_or_default().to_owned(),
                    })
                    .collect(),
            }
        }));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    out.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(out)
}

/// A stack's drift for people: each drifted resource, and under it each property with the template's value and
/// the actual one.
pub fn render(d: &StackDrift) -> String {
    let mut s = String::new();
    let when = d
        .checked_at
        .as_deref()
        .map(|t| format!(" (detected {t})"))
        .unwrap_or_default();
    let _ = writeln!(s, "{}{when}", style(format!("Stack {}", d.stack)).bold());
    if let Some(reason) = &d.incomplete {
        let _ = writeln!(
            s,
            "  {} detection did not finish: {reason}",
            style("(!)").yellow()
        );
    }
    if d.resources.is_empty() {
        let _ = writeln!(s, "  no drift");
        return s;
    }
    render_resources(&mut s, &d.resources);
    s
}

/// The drifted resources, as `drift` shows them and `diff` repeats them.
pub fn render_resources(s: &mut String, resources: &[ResourceDrift]) {
    for r in resources {
        let (mark, colour) = match r.status.as_str() {
            "DELETED" => ("[-]", console::Color::Red),
            _ => ("[~]", console::Color::Yellow),
        };
        let _ = writeln!(
            s,
            "  {} {} {} {}",
            style(mark).fg(colour),
            r.resource_type,
            style(&r.logical_id).bold(),
            style(r.status.to_lowercase()).dim()
        );
        for p in &r.properties {
            let path = p.path.trim_start_matches('/').replace('/', ".");
            let line = match p.kind.as_str() {
                "ADD" => format!("{} {path} {}", style("+").green(), style(&p.actual).green()),
                "REMOVE" => format!("{} {path} {}", style("-").red(), style(&p.expected).red()),
                _ => format!(
                    "{} {path} {} (template) -> {} (actual)",
                    style("~").yellow(),
                    style(&p.expected).red(),
                    style(&p.actual).green()
                ),
            };
            let _ = writeln!(s, "      {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_shows_each_resource_and_property_with_both_values() {
        console::set_colors_enabled(false);
        let d = StackDrift {
            stack: "Order".into(),
            status: "DRIFTED".into(),
            resources: vec![
                ResourceDrift {
                    logical_id: "Work".into(),
                    resource_type: "AWS::SQS::Queue".into(),
                    status: "MODIFIED".into(),
                    properties: vec![
                        PropertyDrift {
                            path: "/VisibilityTimeout".into(),
                            kind: "NOT_EQUAL".into(),
                            expected: "30".into(),
                            actual: "60".into(),
                        },
                        PropertyDrift {
                            path: "/Tags/1".into(),
                            kind: "ADD".into(),
                            expected: String::new(),
                            actual: "{\"Key\":\"owner\",\"Value\":\"ops\"}".into(),
                        },
                    ],
                },
                ResourceDrift {
                    logical_id: "Alerts".into(),
                    resource_type: "AWS::SNS::Topic".into(),
                    status: "DELETED".into(),
                    properties: vec![],
                },
            ],
            incomplete: None,
            checked_at: Some("2026-05-01T12:00:00Z".into()),
        };
        assert_eq!(
            render(&d),
            "Stack Order (detected 2026-05-01T12:00:00Z)\n  [~] AWS::SQS::Queue Work modified\n      ~ VisibilityTimeout 30 (template) -> 60 (actual)\n      + Tags.1 {\"Key\":\"owner\",\"Value\":\"ops\"}\n  [-] AWS::SNS::Topic Alerts deleted\n"
        );
        let clean = StackDrift {
            resources: vec![],
            status: "IN_SYNC".into(),
            incomplete: Some("Failed to detect drift on AWS::Custom::Thing".into()),
            ..d
        };
        assert_eq!(
            render(&clean),
            "Stack Order (detected 2026-05-01T12:00:00Z)\n  (!) detection did not finish: Failed to detect drift on AWS::Custom::Thing\n  no drift\n"
        );
    }
}
