//! IAM's evaluation of identity policies: an explicit Deny wins, then any Allow, else the implicit deny.

use std::fmt;

use super::classify::Check;
use super::condition::{self, Context, Outcome};
use super::hints;
use super::policy::{Effect, Policy, Statement};

/// Everything IAM reads to decide a role's calls: its policies and who it is.
#[derive(Clone, Debug, PartialEq)]
pub struct RolePolicies {
    /// Who makes the calls, for messages: the function (`Order/OrderApi`), or the role when no function is named.
    pub principal: String,
    /// The role's ARN (`aws:PrincipalArn`).
    pub role_arn: String,
    /// The assumed-role session ARN AWS names in its denials
    /// (`arn:aws:sts::123456789012:assumed-role/<role name>/<function name>`).
    pub session_arn: String,
    /// The account the role is in (`aws:PrincipalAccount`).
    pub account: String,
    /// The region the calls are made in (`aws:RequestedRegion`).
    pub region: String,
    /// The policies the local run could read (inline, `AWS::IAM::Policy`, the app's managed policies).
    pub policies: Vec<Policy>,
    /// Managed policies attached to the role that are not in the app (AWS managed policies): their
    /// statements are not seen, so a call they would allow is denied locally.
    pub unreadable: Vec<String>,
}

/// Why a call was allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    /// The policy of the first statement that allows it.
    pub policy: String,
    /// That statement (`statement "Sid"` or `statement 2`).
    pub statement: String,
    /// Statements left out because a condition could not be evaluated locally.
    pub skipped: Vec<Skipped>,
}

/// A statement left out of an evaluation because the local run cannot evaluate its condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The policy.
    pub policy: String,
    /// The statement.
    pub statement: String,
    /// Allow or Deny.
    pub effect: Effect,
    /// The operator or key it could not evaluate.
    pub why: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {} of {} was left out: {}",
            self.effect, self.statement, self.policy, self.why
        )
    }
}

/// Why a call was denied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DenyReason {
    /// No statement allows it (IAM's implicit deny).
    NoAllow,
    /// A Deny statement covers it.
    ExplicitDeny {
        /// The policy.
        policy: String,
        /// The statement (`statement "DenyDeletes"` or `statement 0`).
        statement: String,
    },
}

/// A call IAM would refuse (AWS answers `AccessDenied`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Denied {
    /// Who made it (`Order/OrderApi`).
    pub principal: String,
    /// The assumed-role session ARN, as AWS names the caller.
    pub session_arn: String,
    /// The operation (`PutItem`).
    pub operation: String,
    /// The action (`dynamodb:PutItem`).
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// Why.
    pub reason: DenyReason,
    /// Statements left out because their condition could not be evaluated locally.
    pub skipped: Vec<Skipped>,
    /// Managed policies of the role the local run cannot read.
    pub unreadable: Vec<String>,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AccessDenied: {}'s role may not {} on {} ",
            self.principal, self.action, self.resource
        )?;
        match &self.reason {
            DenyReason::NoAllow => write!(
                f,
                "(no statement allows it; grant it in the stack, e.g. {})",
                hints::grant_for(&self.action, &self.resource)
            )?,
            DenyReason::ExplicitDeny { policy, statement } => {
                write!(f, "(explicitly denied by {statement} of {policy})")?
            }
        }
        for s in &self.skipped {
            write!(f, "; {s}")?;
        }
        if !self.unreadable.is_empty() {
            write!(
                f,
                "; the role's managed policies {} are not read locally (only policies in the app are): \
                 a permission they give is not seen",
                self.unreadable.join(", ")
            )?;
        }
        Ok(())
    }
}

impl Denied {
    /// The message AWS puts in its `AccessDenied` error (what the handler's SDK error shows).
    pub fn aws_message(&self) -> String {
        let why = match self.reason {
            DenyReason::NoAllow => {
                format!("no identity-based policy allows the {} action", self.action)
            }
            DenyReason::ExplicitDeny { .. } => {
                "with an explicit deny in an identity-based policy".to_owned()
            }
        };
        let because = if matches!(self.reason, DenyReason::NoAllow) {
            "because "
        } else {
            ""
        };
        format!(
            "User: {} is not authorized to perform: {} on resource: {} {because}{why}",
            self.session_arn, self.action, self.resource
        )
    }
}

impl RolePolicies {
    /// The condition keys every call of this role carries: it is an assumed role of the app's account,
    /// calling over TLS (the SDK always does on AWS, whatever the local endpoint) in the app's region.
    pub fn base_context(&self) -> Context {
        let mut c = Context::default();
        c.set("aws:SecureTransport", vec!["true".into()]);
        c.set("aws:RequestedRegion", vec![self.region.clone()]);
        c.set("aws:PrincipalAccount", vec![self.account.clone()]);
        c.set("aws:PrincipalArn", vec![self.role_arn.clone()]);
        c.set("aws:PrincipalType", vec!["AssumedRole".into()]);
        // The handler calls directly; the KMS checks a service makes for it set this to true.
        c.set("aws:ViaAWSService", vec!["false".into()]);
        c
    }

    /// Whether IAM allows the check, as it evaluates identity policies.
    pub fn evaluate(&self, operation: &str, check: &Check) -> Result<Allowed, Box<Denied>> {
        let mut context = self.base_context();
        for (k, v) in &check.context {
            context.set(k, v.clone());
        }
        let mut allow: Option<(&Policy, &Statement)> = None;
        let mut skipped = Vec::new();
        for policy in &self.policies {
            for statement in &policy.statements {
                if !statement.matches_action(&check.action) {
                    continue;
                }
                let outcome = if statement_uses_variables(statement) {
                    Outcome::Unevaluated("its Resource uses policy variables (${...}), which are not substituted locally".into())
                } else if !statement.matches_resource(&check.resource) {
                    continue;
                } else {
                    condition::evaluate(&statement.condition, &context)
                };
                match outcome {
                    Outcome::Holds => match statement.effect {
                        Effect::Deny => {
                            return Err(Box::new(self.denied(
                                operation,
                                check,
                                DenyReason::ExplicitDeny {
                                    policy: policy.name.clone(),
                                    statement: statement.label(),
                                },
                                skipped,
                            )))
                        }
                        Effect::Allow => {
                            allow.get_or_insert((policy, statement));
                        }
                    },
                    Outcome::Fails => {}
                    Outcome::Unevaluated(why) => skipped.push(Skipped {
                        policy: policy.name.clone(),
                        statement: statement.label(),
                        effect: statement.effect,
                        why,
                    }),
                }
            }
        }
        match allow {
            Some((policy, statement)) => Ok(Allowed {
                policy: policy.name.clone(),
                statement: statement.label(),
                skipped,
            }),
            None => Err(Box::new(self.denied(
                operation,
                check,
                DenyReason::NoAllow,
                skipped,
            ))),
        }
    }

    fn denied(
        &self,
        operation: &str,
        check: &Check,
        reason: DenyReason,
        skipped: Vec<Skipped>,
    ) -> Denied {
        Denied {
            principal: self.principal.clone(),
            session_arn: self.session_arn.clone(),
            operation: operation.to_owned(),
            action: check.action.clone(),
            resource: check.resource.clone(),
            reason,
            skipped,
            unreadable: self.unreadable.clone(),
        }
    }
}

fn statement_uses_variables(statement: &Statement) -> bool {
    match &statement.resource {
        super::policy::Matcher::Any(p) | super::policy::Matcher::NoneOf(p) => {
            p.iter().any(|p| p.contains("${"))
        }
    }
}
