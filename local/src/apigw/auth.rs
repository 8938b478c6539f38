//! Who calls: IAM (a SigV4 `Authorization`, or the configured local identity), Cognito user pool and JWT
//! authorizers (the token's claims, unverified, or the local identity's), and Lambda TOKEN / REQUEST authorizers
//! (invoked, their policy evaluated for `execute-api:Invoke` on the method ARN, their answer cached per TTL).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use http::HeaderMap;
use serde_json::{Map, Value};

use super::template::{AuthorizerDef, AuthorizerKind};
use super::LocalIdentity;
use crate::iam::{Check, DenyReason, Policy, RolePolicies};
use crate::invoke::{FunctionRef, Invoke, InvokeError};

/// The caller, as the integration's event describes it.
#[derive(Clone, Debug)]
pub(crate) enum Identity {
    Anonymous,
    Iam {
        access_key: String,
        user_arn: String,
        account: String,
    },
    Jwt {
        claims: Map<String, Value>,
        scopes: Vec<String>,
    },
    Lambda {
        principal_id: String,
        context: Map<String, Value>,
    },
}

/// Why a request was refused before its integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// IAM route without credentials.
    MissingCredentials,
    /// No token, or one that does not pass (401).
    Unauthorized,
    /// A JWT without the route's scopes (HTTP APIs answer 403).
    MissingScopes,
    /// A Lambda authorizer's policy does not allow the call.
    Denied { explicit: bool },
    /// The Lambda authorizer failed or answered something that is not an authorizer response.
    AuthorizerFailed(String),
}

/// A Lambda authorizer's cached answers, by authorizer and identity.
#[derive(Default)]
pub(crate) struct AuthorizerCache {
    entries: Mutex<HashMap<(String, String), (Instant, Value)>>,
}

pub(crate) fn iam(
    headers: &HeaderMap,
    local: Option<&LocalIdentity>,
    account: &str,
) -> Result<Identity, Refusal> {
    let signed = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("AWS4-HMAC-SHA256"));
    match (signed, local) {
        // Signatures are not verified locally: a signed request is the local identity, or the account's user.
        (Some(auth), _) => {
            let access_key = auth
                .split("Credential=")
                .nth(1)
                .and_then(|c| c.split('/').next())
                .unwrap_or_default()
                .to_owned();
            let user_arn = local.map_or_else(
                || format!("arn:aws:iam::{account}:user/local"),
                |l| l.user_arn.clone(),
            );
            Ok(Identity::Iam {
                access_key,
                user_arn,
                account: account.to_owned(),
            })
        }
        (None, Some(l)) => Ok(Identity::Iam {
            access_key: l.access_key.clone(),
            user_arn: l.user_arn.clone(),
            account: account.to_owned(),
        }),
        (None, None) => Err(Refusal::MissingCredentials),
    }
}

pub(crate) fn jwt(
    authorizer: &AuthorizerDef,
    required_scopes: &[String],
    headers: &HeaderMap,
    local: Option<&LocalIdentity>,
) -> Result<Identity, Refusal> {
    let header = authorizer
        .identity_sources
        .first()
        .and_then(|s| s.rsplit('.').next())
        .unwrap_or("Authorization");
    let token = headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).trim());
    let claims = match (token, local) {
        (Some(token), _) => claims_of(token).ok_or(Refusal::Unauthorized)?,
        (None, Some(l)) => {
            let mut claims = l.claims.clone();
            if !l.scopes.is_empty() {
                claims.insert("scope".into(), Value::String(l.scopes.join(" ")));
            }
            claims
        }
        (None, None) => return Err(Refusal::Unauthorized),
    };
    let AuthorizerKind::Jwt { issuers, audience } = &authorizer.kind else {
        return Err(Refusal::AuthorizerFailed("not a JWT authorizer".into()));
    };
    // A token is checked as API Gateway does, except its signature: issuer, audience, expiry.
    if token.is_some() {
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !issuers.is_empty() && !issuers.iter().any(|i| i == iss) {
            return Err(Refusal::Unauthorized);
        }
        if !audience.is_empty() {
            let mut auds: Vec<&str> = match claims.get("aud") {
                Some(Value::String(a)) => vec![a.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            auds.extend(claims.get("client_id").and_then(Value::as_str));
            if !auds.iter().any(|a| audience.iter().any(|x| x == a)) {
                return Err(Refusal::Unauthorized);
            }
        }
        let now = chrono::Utc::now().timestamp();
        if claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp < now)
        {
            return Err(Refusal::Unauthorized);
        }
    }
    let scopes: Vec<String> = claims
        .get("scope")
        .and_then(Value::as_str)
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if !required_scopes.is_empty() && !required_scopes.iter().any(|r| scopes.contains(r)) {
        return Err(Refusal::MissingScopes);
    }
    Ok(Identity::Jwt { claims, scopes })
}

/// A JWT's claims (its middle part), unverified.
fn claims_of(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// What a Lambda authorizer is asked about one request.
pub(crate) struct LambdaAuthRequest<'a> {
    pub headers: &'a HeaderMap,
    pub query: &'a [(String, String)],
    pub method_arn: String,
    /// The v1 proxy event of the request, which a REQUEST authorizer's event extends.
    pub proxy_event: &'a Value,
}

pub(crate) async fn lambda(
    authorizer: &AuthorizerDef,
    request: LambdaAuthRequest<'_>,
    invoker: &dyn Invoke,
    cache: &AuthorizerCache,
    region: &str,
    account: &str,
) -> Result<Identity, Refusal> {
    let (function, event, cache_key): (&FunctionRef, Value, String) = match &authorizer.kind {
        AuthorizerKind::Token(function) => {
            let header = authorizer
                .identity_sources
                .first()
                .and_then(|s| s.strip_prefix("method.request.header."))
                .unwrap_or("Authorization");
            let token = request
                .headers
                .get(header)
                .and_then(|v| v.to_str().ok())
                .filter(|t| !t.is_empty())
                .ok_or(Refusal::Unauthorized)?;
            let event = serde_json::json!({
                "type": "TOKEN",
                "authorizationToken": token,
                "methodArn": request.method_arn,
            });
            (function, event, token.to_owned())
        }
        AuthorizerKind::Request(function) => {
            // Every identity source must be present, or API Gateway answers 401 without calling the function.
            let mut values = Vec::new();
            for source in &authorizer.identity_sources {
                let value = if let Some(h) = source.strip_prefix("method.request.header.") {
                    request
                        .headers
                        .get(h)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                } else if let Some(q) = source.strip_prefix("method.request.querystring.") {
                    request
                        .query
                        .iter()
                        .find(|(k, _)| k == q)
                        .map(|(_, v)| v.clone())
                } else {
                    Some(String::new())
                };
                values.push(
                    value
                        .filter(|v| !v.is_empty() || !source.starts_with("method."))
                        .ok_or(Refusal::Unauthorized)?,
                );
            }
            let mut event = request.proxy_event.clone();
            event["type"] = "REQUEST".into();
            event["methodArn"] = request.method_arn.clone().into();
            (function, event, values.join("\u{0}"))
        }
        AuthorizerKind::Jwt { .. } => {
            return Err(Refusal::AuthorizerFailed("not a Lambda authorizer".into()))
        }
    };
    let key = (authorizer.id.clone(), cache_key);
    let cached = {
        let entries = cache
            .entries
            .lock()
            .expect("the cache lock is never poisoned");
        entries
            .get(&key)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, v)| v.clone())
    };
    let answer = match cached {
        Some(answer) => answer,
        None => {
            let answer = match invoker.invoke(function, event).await {
                Ok(answer) => answer,
                // The function's way of saying 401.
                Err(InvokeError::Function { error_message, .. })
                    if error_message == "Unauthorized" =>
                {
                    return Err(Refusal::Unauthorized)
                }
                Err(e) => return Err(Refusal::AuthorizerFailed(e.to_string())),
            };
            if authorizer.ttl > 0 {
                cache
                    .entries
                    .lock()
                    .expect("the cache lock is never poisoned")
                    .insert(
                        key,
                        (
                            Instant::now() + Duration::from_secs(authorizer.ttl),
                            answer.clone(),
                        ),
                    );
            }
            answer
        }
    };
    let document = answer.get("policyDocument").ok_or_else(|| {
        Refusal::AuthorizerFailed(format!(
            "authorizer {} answered without policyDocument",
            authorizer.name
        ))
    })?;
    let policy = Policy::parse(
        format!("authorizer {}'s policyDocument", authorizer.name),
        document,
    )
    .map_err(|e| Refusal::AuthorizerFailed(e.to_string()))?;
    let principal_id = answer
        .get("principalId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // The answer's policy is evaluated as IAM evaluates a policy, on this request's method ARN (a cached answer
    // too, as API Gateway does).
    let evaluator = RolePolicies {
        principal: format!("authorizer {}", authorizer.name),
        role_arn: String::new(),
        session_arn: principal_id.clone(),
        account: account.to_owned(),
        region: region.to_owned(),
        policies: vec![policy],
        unreadable: Vec::new(),
    };
    match evaluator.evaluate(
        "Invoke",
        &Check::new("execute-api:Invoke", request.method_arn),
    ) {
        Ok(_) => Ok(Identity::Lambda {
            principal_id,
            context: answer
                .get("context")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        }),
        Err(denied) => Err(Refusal::Denied {
            explicit: matches!(denied.reason, DenyReason::ExplicitDeny { .. }),
        }),
    }
}
