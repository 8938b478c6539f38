//! IAM enforced locally: every AWS call a handler makes is checked against its role's synthesized statements
//! before it reaches the emulator, so a grant forgotten in a stack fails on this machine, not after a deploy.
//!
//! The proxy in front of the emulator builds an [`ApiRequest`] from each call and asks an [`Authorizer`] (built
//! once from the [`LocalApp`]) whether the function's [`RolePolicies`] allow it:
//! 1. [`classify`] reads the IAM action(s) and resource ARN(s) off the wire (awsJson, awsQuery, restJson,
//!    restXml); a call it cannot classify is refused, never let through unchecked.
//! 2. [`RolePolicies::evaluate`] decides each check as IAM does for identity policies: an explicit Deny wins,
//!    then any Allow, else the implicit deny. `Condition`s are evaluated for the operators and keys listed in
//!    [`condition`]; a statement with another operator or key is left out, and the decision says so.
//! 3. A refusal becomes the error AWS answers ([`AuthorizeError::response`]), and its `Display` names the
//!    missing action, the resource and the grant that gives it.
//!
//! The KMS permissions AWS checks on the caller when a service encrypts for it (a send to a queue encrypted with
//! a customer-managed key needs `kms:GenerateDataKey` through SQS) are checked too: see [`EncryptionKeys`].
//!
//! Not modelled: resource-based policies (queue, topic, bucket and key policies; same-account grants in them
//! are not seen), permissions boundaries, SCPs and session policies.

mod classify;
pub mod condition;
mod evaluate;
mod hints;
mod keys;
mod policy;
mod request;
mod response;
mod role;

pub use classify::{classify, ArnIndex, Check, Classified, ClassifyError};
pub use evaluate::{Allowed, Denied, DenyReason, RolePolicies, Skipped};
pub use hints::grant_for;
pub use keys::EncryptionKeys;
pub use policy::{
    arn_match, wildcard_match, Clause, Effect, Matcher, Policy, PolicyError, Statement,
};
pub use request::{ApiRequest, Protocol};
pub use response::access_denied;
pub use role::RoleError;

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::invoke::FunctionRef;
use crate::model::LocalApp;

/// Decides the calls of any role of one app.
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    index: ArnIndex,
    keys: EncryptionKeys,
}

/// A call IAM allows: what it was and which statements allowed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorized {
    /// The operation and its checks (with the KMS checks its encrypted resources imply).
    pub classified: Classified,
    /// For each check, why it was allowed.
    pub allowed: Vec<Allowed>,
}

/// A call the proxy must not pass on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// IAM would refuse it.
    #[error(transparent)]
    Denied(Box<Denied>),
    /// Its action or resource could not be told, so it could not be checked.
    #[error(transparent)]
    Unclassified(#[from] ClassifyError),
    /// The caller's role policies could not be read, so none of its calls can be checked.
    #[error(transparent)]
    Role(#[from] RoleError),
}

impl AuthorizeError {
    /// The answer AWS gives the SDK for it, in the request's protocol.
    pub fn response(&self, request: &ApiRequest) -> http::Response<Bytes> {
        match self {
            AuthorizeError::Denied(d) => access_denied(request, &d.aws_message()),
            AuthorizeError::Unclassified(e) => access_denied(request, &e.to_string()),
            AuthorizeError::Role(e) => access_denied(request, &e.to_string()),
        }
    }
}

impl Authorizer {
    /// An authorizer for the app's roles (it reads the secrets' ARNs and KMS aliases, which requests name
    /// by name, and which resources are encrypted with which customer-managed key).
    pub fn new(app: &LocalApp) -> Self {
        let index = ArnIndex::from_app(app);
        Authorizer {
            keys: EncryptionKeys::from_app(app, &index),
            index,
        }
    }

    /// Classifies the call and evaluates every check it needs; the first refused check refuses the call.
    pub fn authorize(
        &self,
        role: &RolePolicies,
        request: &ApiRequest,
    ) -> Result<Authorized, AuthorizeError> {
        let mut classified = classify(request, &self.index)?;
        let implied: Vec<Check> = classified
            .checks
            .iter()
            .flat_map(|c| {
                self.keys
                    .implied(&classified.operation, c, &request.region, &request.account)
            })
            .collect();
        for check in implied {
            if !classified.checks.contains(&check) {
                classified.checks.push(check);
            }
        }
        let allowed = classified
            .checks
            .iter()
            .map(|check| role.evaluate(&classified.operation, check))
            .collect::<Result<Vec<_>, _>>()
            .map_err(AuthorizeError::Denied)?;
        Ok(Authorized {
            classified,
            allowed,
        })
    }
}

/// The execution role of every function of one app, read once: what the local AWS endpoint asks before a
/// function's call reaches the emulator.
#[derive(Clone, Debug, Default)]
pub struct FunctionRoles {
    authorizer: Authorizer,
    /// A role that cannot be read refuses every call of its function, with the reason, rather than letting
    /// the calls through unchecked.
    roles: BTreeMap<FunctionRef, Result<RolePolicies, RoleError>>,
}

impl FunctionRoles {
    /// The roles of every `AWS::Lambda::Function` of `app`.
    pub fn new(app: &LocalApp) -> Self {
        let roles = app
            .stacks
            .iter()
            .flat_map(|s| {
                s.resources
                    .values()
                    .filter(|r| r.type_name == "AWS::Lambda::Function")
                    .map(|r| FunctionRef {
                        stack: s.name.clone(),
                        logical_id: r.logical_id.clone(),
                    })
            })
            .map(|f| {
                let role = RolePolicies::for_function(app, &f);
                (f, role)
            })
            .collect();
        FunctionRoles {
            authorizer: Authorizer::new(app),
            roles,
        }
    }

    /// Decides a call `function` makes, as IAM would with its role.
    pub fn authorize(
        &self,
        function: &FunctionRef,
        request: &ApiRequest,
    ) -> Result<Authorized, AuthorizeError> {
        match self.roles.get(function) {
            Some(Ok(role)) => self.authorizer.authorize(role, request),
            Some(Err(e)) => Err(e.clone().into()),
            None => Err(RoleError::NoFunction(function.clone()).into()),
        }
    }
}
