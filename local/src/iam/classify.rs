//! Which IAM action(s) on which resource ARN(s) an AWS call needs, read from its wire form.
//!
//! One module per protocol family: [`json`] (awsJson 1.0/1.1, the operation in `X-Amz-Target`), [`query`]
//! (awsQuery form bodies), [`lambda`] (restJson paths) and [`s3`] (restXml: method, path and query). A call this
//! cannot name is an error, never an allowed call: a grant it cannot check must not look checked.

mod json;
mod lambda;
mod query;
mod s3;

use std::collections::BTreeMap;

use super::request::ApiRequest;
use crate::model::LocalApp;

/// One authorization IAM makes for a call: an action on a resource, with the request's own condition keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The IAM action (`dynamodb:PutItem`).
    pub action: String,
    /// The resource ARN (`arn:aws:dynamodb:us-east-1:123456789012:table/Orders`), or `*` for actions that take
    /// no resource (`sqs:ListQueues`).
    pub resource: String,
    /// Condition keys this call sets beyond the principal's (`s3:prefix`, `kms:ViaService`), lower-cased.
    pub context: BTreeMap<String, Vec<String>>,
}

impl Check {
    /// A check with no request-specific condition keys.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Check {
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    /// Adds a condition key this call sets.
    pub fn with_key(mut self, key: &str, value: impl Into<String>) -> Self {
        self.context
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.into());
        self
    }
}

/// A classified call: the operation's name and every check IAM makes for it (several for
/// `TransactWriteItems`, `PutEvents` to several buses, `DeleteObjects`...; none for `sts:GetCallerIdentity`,
/// which needs no permission).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    /// The API operation (`PutItem`, `Publish`, `GetObject`).
    pub operation: String,
    /// The authorizations, in request order, each at most once.
    pub checks: Vec<Check>,
}

impl Classified {
    fn new(operation: impl Into<String>) -> Self {
        Classified {
            operation: operation.into(),
            checks: Vec::new(),
        }
    }

    fn with(mut self, check: Check) -> Self {
        self.push(check);
        self
    }

    fn push(&mut self, check: Check) {
        if !self.checks.contains(&check) {
            self.checks.push(check);
        }
    }
}

/// A call whose IAM action or resource cannot be told from its wire form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot tell which IAM action and resource {service} {operation} needs: {reason}; the call is refused, \
     not let through unchecked (cfnkit-local classifies the operations handlers call; add this one to \
     local/src/iam/classify)"
)]
pub struct ClassifyError {
    /// The signing name (`dynamodb`).
    pub service: String,
    /// The operation as far as it could be read (`ExecuteStatement`, `GET /bucket?acl`).
    pub operation: String,
    /// Why it could not be classified.
    pub reason: String,
}

impl ClassifyError {
    fn new(service: &str, operation: impl Into<String>, reason: impl Into<String>) -> Self {
        ClassifyError {
            service: service.to_owned(),
            operation: operation.into(),
            reason: reason.into(),
        }
    }
}

/// The ARNs that cannot be computed from what a request names: a secret's ARN has a random suffix, a KMS alias
/// stands for a key. Built from the app's resources; empty in tests that need neither.
#[derive(Clone, Debug, Default)]
pub struct ArnIndex {
    /// Secret name -> secret ARN.
    pub secrets: BTreeMap<String, String>,
    /// Alias name (`alias/orders`) -> key ARN.
    pub kms_aliases: BTreeMap<String, String>,
}

impl ArnIndex {
    /// The secrets and KMS aliases of the app.
    pub fn from_app(app: &LocalApp) -> Self {
        let mut index = ArnIndex::default();
        for (_, secret) in app.of_type("AWS::SecretsManager::Secret") {
            // `Ref` of a secret is its ARN; its name is `Name`, or the ARN's last segment less the suffix.
            let arn = secret
                .arn
                .clone()
                .unwrap_or_else(|| secret.physical_id.clone());
            let name = match secret.properties.get("Name").and_then(|n| n.as_str()) {
                Some(name) => name.to_owned(),
                None => secret_name_of_arn(&arn).to_owned(),
            };
            index.secrets.insert(name, arn);
        }
        for (_, alias) in app.of_type("AWS::KMS::Alias") {
            let name = alias.properties.get("AliasName").and_then(|n| n.as_str());
            let target = alias.properties.get("TargetKeyId").and_then(|n| n.as_str());
            if let (Some(name), Some(target)) = (name, target) {
                let key_arn = if target.starts_with("arn:") {
                    target.to_owned()
                } else {
                    arn("kms", &app.region, &app.account, &format!("key/{target}"))
                };
                index.kms_aliases.insert(name.to_owned(), key_arn);
            }
        }
        index
    }
}

/// `arn:aws:<service>:<region>:<account>:<resource>`.
pub(crate) fn arn(service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{region}:{account}:{resource}")
}

/// A secret's name from its ARN: `...:secret:orders/db-AbCdEf` -> `orders/db` (Secrets Manager appends `-` and
/// six characters).
fn secret_name_of_arn(arn: &str) -> &str {
    let name = arn.split(":secret:").nth(1).unwrap_or(arn);
    match name.rsplit_once('-') {
        Some((base, suffix)) if suffix.len() == 6 => base,
        _ => name,
    }
}

/// Every IAM check the call needs.
pub fn classify(request: &ApiRequest, index: &ArnIndex) -> Result<Classified, ClassifyError> {
    match request.service.as_str() {
        "s3" => s3::classify(request),
        "lambda" => lambda::classify(request),
        "xray" => lambda::classify_xray(request),
        "sns" | "sts" => query::classify(request),
        _ if request.header("x-amz-target").is_some() => json::classify(request, index),
        service => Err(ClassifyError::new(
            service,
            format!("{} {}", request.method, request.path),
            "not a protocol cfnkit-local reads for this service (no X-Amz-Target header)",
        )),
    }
}
