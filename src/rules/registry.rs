//! Every rule of the pack, by id: the one table to read for what the pack checks and how serious each finding is.
//!
//! Rules are constants (`rules::IAM5`), passed by reference to whatever names a rule: a check recording a
//! finding, [`super::suppress`], [`super::Report::of_rule`]. A misspelt rule is then a compile error, not a
//! panic at synth or a test that silently matches nothing. Only suppressions read from template metadata name a
//! rule by its id, and [`by_id`] is how they are looked up.

use std::fmt;

/// How serious a rule's findings are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Fails synth.
    Error,
    /// Printed; synth goes on.
    Warning,
}

/// A rule of the pack. Only the pack defines rules (the fields are private): a suppression can only name one
/// that is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    id: &'static str,
    severity: Severity,
    title: &'static str,
}

impl RuleInfo {
    const fn new(id: &'static str, severity: Severity, title: &'static str) -> RuleInfo {
        RuleInfo {
            id,
            severity,
            title,
        }
    }
    /// The id printed in findings and written in suppressions: cdk-nag's (`IAM5`), or `CFNKIT-...` for checks
    /// of our own.
    pub const fn id(&self) -> &'static str {
        self.id
    }
    /// Whether an unsuppressed finding fails synth (error) or is only printed (warning).
    pub const fn severity(&self) -> Severity {
        self.severity
    }
    /// What a compliant template has.
    pub const fn title(&self) -> &'static str {
        self.title
    }
}

impl fmt::Display for RuleInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

use Severity::{Error, Warning};

// Levels follow cdk-nag's AwsSolutions pack (DDB3 is a warning there too).

/// API Gateway stages have access logging.
pub const APIG1: RuleInfo = RuleInfo::new("APIG1", Error, "API Gateway stages have access logging");
/// REST APIs have request validation.
pub const APIG2: RuleInfo = RuleInfo::new("APIG2", Error, "REST APIs have request validation");
/// API methods and routes have authorization.
pub const APIG4: RuleInfo =
    RuleInfo::new("APIG4", Error, "API methods and routes have authorization");
/// REST API stages log every method to CloudWatch.
pub const APIG6: RuleInfo = RuleInfo::new(
    "APIG6",
    Error,
    "REST API stages log every method to CloudWatch",
);
/// DynamoDB tables have point-in-time recovery (a warning).
pub const DDB3: RuleInfo = RuleInfo::new(
    "DDB3",
    Warning,
    "DynamoDB tables have point-in-time recovery",
);
/// Event bus policies do not allow any principal.
pub const EVB1: RuleInfo = RuleInfo::new(
    "EVB1",
    Error,
    "event bus policies do not allow any principal",
);
/// IAM roles, users and groups use no AWS managed policies.
pub const IAM4: RuleInfo = RuleInfo::new(
    "IAM4",
    Error,
    "IAM roles, users and groups use no AWS managed policies",
);
/// IAM policies have no wildcard actions or resources.
pub const IAM5: RuleInfo = RuleInfo::new(
    "IAM5",
    Error,
    "IAM policies have no wildcard actions or resources",
);
/// Symmetric KMS keys rotate.
pub const KMS5: RuleInfo = RuleInfo::new("KMS5", Error, "symmetric KMS keys rotate");
/// Lambda functions use the latest runtime of their language.
pub const L1: RuleInfo = RuleInfo::new(
    "L1",
    Error,
    "Lambda functions use the latest runtime of their language",
);
/// S3 buckets have server access logs.
pub const S1: RuleInfo = RuleInfo::new("S1", Error, "S3 buckets have server access logs");
/// S3 buckets block public access.
pub const S2: RuleInfo = RuleInfo::new("S2", Error, "S3 buckets block public access");
/// S3 bucket policies deny requests without TLS.
pub const S10: RuleInfo =
    RuleInfo::new("S10", Error, "S3 bucket policies deny requests without TLS");
/// SNS topics are encrypted with a KMS key.
pub const SNS2: RuleInfo = RuleInfo::new("SNS2", Error, "SNS topics are encrypted with a KMS key");
/// SNS topic policies deny publishing without TLS.
pub const SNS3: RuleInfo = RuleInfo::new(
    "SNS3",
    Error,
    "SNS topic policies deny publishing without TLS",
);
/// SQS queues are encrypted.
pub const SQS2: RuleInfo = RuleInfo::new("SQS2", Error, "SQS queues are encrypted");
/// SQS queues that are not dead-letter queues have one.
pub const SQS3: RuleInfo = RuleInfo::new(
    "SQS3",
    Error,
    "SQS queues that are not dead-letter queues have one",
);
/// SQS queue policies deny requests without TLS.
pub const SQS4: RuleInfo = RuleInfo::new(
    "SQS4",
    Error,
    "SQS queue policies deny requests without TLS",
);
/// A queue's visibility timeout is at least 6x the timeout of the function consuming it.
pub const CFNKIT_SQS_VIS: RuleInfo = RuleInfo::new(
    "CFNKIT-SQS-VIS",
    Error,
    "a queue's visibility timeout is at least 6x the timeout of the function consuming it",
);
/// Log groups have a retention period.
pub const CFNKIT_LOG1: RuleInfo =
    RuleInfo::new("CFNKIT-LOG1", Error, "log groups have a retention period");
/// Alarms have an action.
pub const CFNKIT_CW1: RuleInfo = RuleInfo::new("CFNKIT-CW1", Error, "alarms have an action");
/// Findings about malformed suppressions (they cannot themselves be suppressed).
pub const CFNKIT_SUPPRESS: RuleInfo = RuleInfo::new(
    "CFNKIT-SUPPRESS",
    Error,
    "suppressions name a rule of this pack and give a reason",
);
/// Warnings about `appliesTo` items that match nothing on their resource: stale suppressions (they cannot
/// themselves be suppressed).
pub const CFNKIT_SUPPRESS_STALE: RuleInfo = RuleInfo::new(
    "CFNKIT-SUPPRESS-STALE",
    Warning,
    "every item a suppression's appliesTo lists is one the resource has",
);

/// Every rule of the pack, in the order `CFNKIT-SUPPRESS` lists them when a suppression names an unknown rule.
pub const RULES: &[RuleInfo] = &[
    APIG1,
    APIG2,
    APIG4,
    APIG6,
    DDB3,
    EVB1,
    IAM4,
    IAM5,
    KMS5,
    L1,
    S1,
    S2,
    S10,
    SNS2,
    SNS3,
    SQS2,
    SQS3,
    SQS4,
    CFNKIT_SQS_VIS,
    CFNKIT_LOG1,
    CFNKIT_CW1,
    CFNKIT_SUPPRESS,
    CFNKIT_SUPPRESS_STALE,
];

/// The rule a suppression in template metadata names: `IAM5`, or cdk-nag's spelling `AwsSolutions-IAM5`.
pub fn by_id(id: &str) -> Option<&'static RuleInfo> {
    let id = id.strip_prefix("AwsSolutions-").unwrap_or(id);
    RULES.iter().find(|r| r.id == id)
}

/// The rules about suppressions themselves, which cannot be suppressed.
pub(crate) fn is_about_suppressions(rule: &RuleInfo) -> bool {
    *rule == CFNKIT_SUPPRESS || *rule == CFNKIT_SUPPRESS_STALE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_found_in_both_spellings() {
        for (i, rule) in RULES.iter().enumerate() {
            assert!(
                RULES[..i].iter().all(|r| r.id != rule.id),
                "{rule} is listed twice"
            );
            assert_eq!(by_id(rule.id), Some(rule));
        }
        assert_eq!(by_id("AwsSolutions-IAM5"), Some(&IAM5));
        assert_eq!(by_id("IAM55"), None);
    }
}
