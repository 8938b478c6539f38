//! Stack events as this tool shows them, and what they say about an operation's outcome. Kept free of the SDK
//! so that rendering, progress and failure reporting are tested on plain values.

use std::collections::BTreeSet;

use console::style;

/// One stack event (DescribeStackEvents), reduced to what is shown and what tells operations apart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event {
    pub id: String,
    /// `HH:MM:SS`, UTC.
    pub time: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    /// The operation it belongs to (DescribeEvents reads an operation's validation findings by it).
    pub operation_id: Option<String>,
    /// The ClientRequestToken of the call that started the operation (this tool sends one with each).
    pub token: Option<String>,
}

/// A resource that failed, with CloudFormation's reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// A status that no longer changes by itself. `REVIEW_IN_PROGRESS` (a stack made by a change set that was never
/// executed) waits for a person, so it counts as settled too.
pub fn is_settled(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS") || status == "REVIEW_IN_PROGRESS"
}

/// The only outcomes a deploy reports as success.
pub fn is_deploy_success(status: &str) -> bool {
    matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE")
}

pub fn is_rollback(status: &str) -> bool {
    status.contains("ROLLBACK")
}

/// `12:03:04  CREATE_COMPLETE       AWS::SQS::Queue        Work  reason`, the status coloured by outcome.
pub fn render(e: &Event) -> String {
    let status = format!("{:<28}", e.status);
    let status = if e.status.ends_with("_FAILED")
        || (is_rollback(&e.status) && e.status.ends_with("IN_PROGRESS"))
    {
        style(status).red().bold()
    } else if e.status.ends_with("_COMPLETE") && !is_rollback(&e.status) {
        style(status).green()
    } else if e.status.ends_with("_SKIPPED") {
        style(status).cyan()
    } else {
        style(status).yellow()
    };
    let mut line = format!(
        "{}  {status} {:<32} {}",
        style(&e.time).dim(),
        e.resource_type,
        e.logical_id
    );
    if let Some(reason) = e.reason.as_deref().filter(|r| !r.is_empty()) {
        let reason = if e.status.ends_with("_FAILED") {
            style(reason).red()
        } else {
            style(reason).dim()
        };
        line.push_str(&format!("  {reason}"));
    }
    line
}

/// The resources that failed, root causes first: "Resource creation cancelled" is what CloudFormation says of
/// the resources it stopped because another failed, so those are listed only when nothing else failed.
pub fn failures(events: &[Event], stack: &str) -> Vec<Failure> {
    let failed: Vec<Failure> = events
        .iter()
        .filter(|e| {
            e.status.ends_with("_FAILED")
                && !(e.resource_type == STACK_TYPE && e.logical_id == stack)
        })
        .map(|e| Failure {
            logical_id: e.logical_id.clone(),
            resource_type: e.resource_type.clone(),
            status: e.status.clone(),
            reason: e.reason.clone().unwrap_or_else(|| "no reason given".into()),
        })
        .collect();
    let causes: Vec<Failure> = failed
        .iter()
        .filter(|f| !f.reason.contains("cancelled"))
        .cloned()
        .collect();
    if causes.is_empty() {
        failed
    } else {
        causes
    }
}

/// The stack's own failure reason, for a stack that failed with no failed resource (a template error found
/// during execution, an export still in use).
pub fn stack_reason(events: &[Event], stack: &str) -> Option<String> {
    events
        .iter()
        .rev()
        .filter(|e| e.logical_id == stack && e.resource_type == STACK_TYPE)
        .filter(|e| e.status.ends_with("_FAILED") || is_rollback(&e.status))
        .find_map(|e| e.reason.clone().filter(|r| !r.is_empty()))
}

/// The resources whose rollback failed, from the events of the last rollback (newest first, as
/// DescribeStackEvents lists them, up to the stack's `UPDATE_ROLLBACK_IN_PROGRESS`): what keeps a stack in
/// UPDATE_ROLLBACK_FAILED.
pub fn rollback_blockers(newest_first: &[Event], stack: &str) -> Vec<Failure> {
    let mut out: Vec<Failure> = Vec::new();
    for e in newest_first {
        if e.resource_type == STACK_TYPE && e.logical_id == stack {
            if e.status == "UPDATE_ROLLBACK_IN_PROGRESS" {
                break;
            }
            continue;
        }
        if e.status.ends_with("_FAILED") && !out.iter().any(|f| f.logical_id == e.logical_id) {
            out.push(Failure {
                logical_id: e.logical_id.clone(),
                resource_type: e.resource_type.clone(),
                status: e.status.clone(),
                reason: e.reason.clone().unwrap_or_else(|| "no reason given".into()),
            });
        }
    }
    out.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    out
}

/// Resources a delete left in place.
pub fn skipped_deletes(events: &[Event]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .filter(|e| e.status == "DELETE_SKIPPED")
        .map(|e| e.logical_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Counts the resources that finished their part of an operation, for the progress bar.
#[derive(Debug, Default)]
pub struct Progress {
    done: BTreeSet<String>,
}

impl Progress {
    /// Records an event; true when it finished a resource not counted yet. The stack's own events do not count.
    pub fn observe(&mut self, e: &Event, stack: &str) -> bool {
        let finished = e.status.ends_with("_COMPLETE")
            || e.status.ends_with("_SKIPPED")
            || e.status.ends_with("_FAILED");
        finished
            && !(e.resource_type == STACK_TYPE && e.logical_id == stack)
            && self.done.insert(e.logical_id.clone())
    }

    pub fn done(&self) -> usize {
        self.done.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, logical: &str, ty: &str, status: &str, reason: Option<&str>) -> Event {
        Event {
            id: id.into(),
            time: "12:00:00".into(),
            logical_id: logical.into(),
            resource_type: ty.into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
            ..Event::default()
        }
    }

    /// What AWS emits for a create that fails on one resource and rolls back.
    fn failed_create() -> Vec<Event> {
        vec![
            ev("1", "App", STACK_TYPE, "CREATE_IN_PROGRESS", Some("User Initiated")),
            ev("2", "Work", "AWS::SQS::Queue", "CREATE_IN_PROGRESS", None),
            ev("3", "Topic", "AWS::SNS::Topic", "CREATE_IN_PROGRESS", None),
            ev("4", "Work", "AWS::SQS::Queue", "CREATE_FAILED", Some("Value 5 for parameter MessageRetentionPeriod is invalid. Must be between 60 and 1209600.")),
            ev("5", "Topic", "AWS::SNS::Topic", "CREATE_FAILED", Some("Resource creation cancelled")),
            ev("6", "App", STACK_TYPE, "ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to create: [Work, Topic].")),
            ev("7", "Topic", "AWS::SNS::Topic", "DELETE_COMPLETE", None),
            ev("8", "Work", "AWS::SQS::Queue", "DELETE_COMPLETE", None),
            ev("9", "App", STACK_TYPE, "ROLLBACK_COMPLETE", None),
        ]
    }

    #[test]
    fn the_root_cause_is_reported_with_its_reason() {
        let f = failures(&failed_create(), "App");
        assert_eq!(
            f,
            [Failure {
                logical_id: "Work".into(),
                resource_type: "AWS::SQS::Queue".into(),
                status: "CREATE_FAILED".into(),
                reason: "Value 5 for parameter MessageRetentionPeriod is invalid. Must be between 60 and 1209600.".into(),
            }]
        );
        assert_eq!(
            stack_reason(&failed_create(), "App").as_deref(),
            Some("The following resource(s) failed to create: [Work, Topic].")
        );
    }

    #[test]
    fn only_complete_creates_and_updates_are_success() {
        for s in ["CREATE_COMPLETE", "UPDATE_COMPLETE"] {
            assert!(is_deploy_success(s) && is_settled(s));
        }
        for s in [
            "ROLLBACK_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "CREATE_FAILED",
            "UPDATE_ROLLBACK_FAILED",
            "DELETE_COMPLETE",
        ] {
            assert!(!is_deploy_success(s) && is_settled(s), "{s}");
        }
        for s in [
            "CREATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "ROLLBACK_IN_PROGRESS",
        ] {
            assert!(!is_settled(s), "{s}");
        }
        assert!(is_settled("REVIEW_IN_PROGRESS"));
        assert!(is_rollback("UPDATE_ROLLBACK_COMPLETE") && !is_rollback("UPDATE_COMPLETE"));
    }

    #[test]
    fn progress_counts_each_resource_once_and_not_the_stack() {
        let mut p = Progress::default();
        let counted: Vec<bool> = failed_create()
            .iter()
            .map(|e| p.observe(e, "App"))
            .collect();
        assert_eq!(
            counted,
            [false, false, false, true, true, false, false, false, false]
        );
        assert_eq!(p.done(), 2);
    }

    #[test]
    fn events_render_on_one_line_with_the_reason() {
        console::set_colors_enabled(false);
        let e = &failed_create()[3];
        assert_eq!(
            render(e),
            "12:00:00  CREATE_FAILED                AWS::SQS::Queue                  Work  Value 5 for parameter MessageRetentionPeriod is invalid. Must be between 60 and 1209600."
        );
        assert_eq!(
            render(&failed_create()[1]),
            "12:00:00  CREATE_IN_PROGRESS           AWS::SQS::Queue                  Work"
        );
    }

    #[test]
    fn a_failed_rollback_is_blocked_by_the_resources_that_failed_in_it() {
        // Newest first, as DescribeStackEvents lists them: an update failed on Fn, its rollback on Table.
        let events = vec![
            ev(
                "9",
                "Api",
                STACK_TYPE,
                "UPDATE_ROLLBACK_FAILED",
                Some("The following resource(s) failed to update: [Table]."),
            ),
            ev(
                "8",
                "Table",
                "AWS::DynamoDB::Table",
                "UPDATE_FAILED",
                Some("Table was deleted outside CloudFormation"),
            ),
            ev("7", "Fn", "AWS::Lambda::Function", "UPDATE_COMPLETE", None),
            ev(
                "6",
                "Api",
                STACK_TYPE,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to update: [Fn]."),
            ),
            ev(
                "5",
                "Fn",
                "AWS::Lambda::Function",
                "UPDATE_FAILED",
                Some("Invalid handler"),
            ),
        ];
        assert_eq!(
            rollback_blockers(&events, "Api"),
            [Failure {
                logical_id: "Table".into(),
                resource_type: "AWS::DynamoDB::Table".into(),
                status: "UPDATE_FAILED".into(),
                reason: "Table was deleted outside CloudFormation".into(),
            }]
        );
    }

    #[test]
    fn skipped_deletes_are_the_retained_resources() {
        let events = vec![
            ev("1", "Bucket", "AWS::S3::Bucket", "DELETE_SKIPPED", None),
            ev("2", "Queue", "AWS::SQS::Queue", "DELETE_COMPLETE", None),
        ];
        assert_eq!(skipped_deletes(&events), ["Bucket"]);
    }
}
