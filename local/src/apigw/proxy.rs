//! Lambda proxy integrations: the event (REST payload 1.0, HTTP payload 2.0, built with `aws_lambda_events`)
//! and the HTTP response from the function's result.

use std::collections::HashMap;

use aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyRequestContext, ApiGatewayRequestAuthorizer,
    ApiGatewayRequestAuthorizerIamDescription, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayRequestIdentity, ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use aws_lambda_events::query_map::QueryMap;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value};

use super::auth::Identity;

/// One request as received, with what routing found.
pub(crate) struct Incoming {
    pub method: http::Method,
    /// The path as sent (with the stage, when there is one).
    pub raw_path: String,
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub source_ip: String,
    pub request_id: String,
    /// When it arrived, in milliseconds since the epoch.
    pub epoch_ms: i64,
}

impl Incoming {
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.raw_query.as_bytes())
            .into_owned()
            .collect()
    }

    fn multi_query(&self) -> HashMap<String, Vec<String>> {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in self.query_pairs() {
            m.entry(k).or_default().push(v);
        }
        m
    }

    /// `03/Dec/2026:15:17:31 +0000`, API Gateway's requestTime.
    fn request_time(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.epoch_ms)
            .unwrap_or_default()
            .format("%d/%b/%Y:%H:%M:%S +0000")
            .to_string()
    }

    /// The body as the event carries it: text, or base64 when it is not UTF-8.
    fn event_body(&self) -> (Option<String>, bool) {
        if self.body.is_empty() {
            return (None, false);
        }
        match std::str::from_utf8(&self.body) {
            Ok(text) => (Some(text.to_owned()), false),
            Err(_) => (
                Some(base64::engine::general_purpose::STANDARD.encode(&self.body)),
                true,
            ),
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// Where the request landed, for the event.
pub(crate) struct Landing<'a> {
    pub account: &'a str,
    pub api_id: &'a str,
    pub stage: &'a str,
    /// REST: the resource path template (`/orders/{id}`); HTTP: the route key (`GET /orders/{id}`).
    pub resource: &'a str,
    /// REST: the resource's id.
    pub resource_id: &'a str,
    /// The path within the stage (`/orders/1`).
    pub path: &'a str,
    pub path_parameters: HashMap<String, String>,
    pub domain: String,
}

/// The REST API (payload 1.0) event.
pub(crate) fn v1_event(incoming: &Incoming, landing: &Landing<'_>, identity: &Identity) -> Value {
    let mut last = HeaderMap::new();
    for (name, value) in &incoming.headers {
        // `headers` has each header's last value; `multiValueHeaders` all of them.
        last.insert(name.clone(), value.clone());
    }
    let mut context = ApiGatewayProxyRequestContext::default();
    context.account_id = Some(landing.account.to_owned());
    context.resource_id = Some(landing.resource_id.to_owned());
    context.stage = Some(landing.stage.to_owned());
    context.domain_name = Some(landing.domain.clone());
    context.domain_prefix = landing.domain.split('.').next().map(str::to_owned);
    context.request_id = Some(incoming.request_id.clone());
    context.protocol = Some("HTTP/1.1".into());
    context.resource_path = Some(landing.resource.to_owned());
    context.path = Some(incoming.raw_path.clone());
    context.http_method = incoming.method.clone();
    context.request_time = Some(incoming.request_time());
    context.request_time_epoch = incoming.epoch_ms;
    context.apiid = Some(landing.api_id.to_owned());
    let mut who = ApiGatewayRequestIdentity::default();
    who.source_ip = Some(incoming.source_ip.clone());
    who.user_agent = incoming.header("user-agent");
    if let Identity::Iam {
        access_key,
        user_arn,
        account,
    } = identity
    {
        who.access_key = Some(access_key.clone());
        who.user_arn = Some(user_arn.clone());
        who.account_id = Some(account.clone());
        who.caller = Some(access_key.clone());
        who.user = Some(access_key.clone());
    }
    context.identity = who;
    let multi = incoming.multi_query();
    let (body, is_base64) = incoming.event_body();
    let mut event = ApiGatewayProxyRequest::default();
    event.resource = Some(landing.resource.to_owned());
    event.path = Some(landing.path.to_owned());
    event.http_method = incoming.method.clone();
    event.headers = last;
    event.multi_value_headers = incoming.headers.clone();
    event.query_string_parameters = QueryMap::from(multi.clone());
    event.multi_value_query_string_parameters = QueryMap::from(multi);
    event.path_parameters = landing.path_parameters.clone();
    event.request_context = context;
    event.body = body;
    event.is_base64_encoded = is_base64;
    let mut value = serde_json::to_value(&event).expect("an event serializes");
    // REST APIs put the authorizer's output flat in requestContext.authorizer (aws_lambda_events models the
    // HTTP API's `lambda` nesting), and send null for absent maps.
    let authorizer = match identity {
        Identity::Jwt { claims, .. } => {
            let claims: Map<String, Value> = claims
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(text(v))))
                .collect();
            Some(serde_json::json!({"claims": claims}))
        }
        Identity::Lambda {
            principal_id,
            context,
        } => {
            let mut m = context.clone();
            m.insert("principalId".into(), Value::String(principal_id.clone()));
            m.insert("integrationLatency".into(), Value::from(0));
            Some(Value::Object(m))
        }
        _ => None,
    };
    match authorizer {
        Some(a) => value["requestContext"]["authorizer"] = a,
        None => {
            if let Some(c) = value["requestContext"].as_object_mut() {
                c.remove("authorizer");
            }
        }
    }
    // Like `headers`, `queryStringParameters` has each parameter's last value (aws_lambda_events keeps the first).
    let last_query: Map<String, Value> = incoming
        .query_pairs()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    value["queryStringParameters"] = Value::Object(last_query);
    for field in [
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
    ] {
        if value[field].as_object().is_some_and(Map::is_empty) {
            value[field] = Value::Null;
        }
    }
    value
}

/// The HTTP API (payload 2.0) event.
pub(crate) fn v2_event(incoming: &Incoming, landing: &Landing<'_>, identity: &Identity) -> Value {
    // Payload 2.0 joins a repeated header's values with commas, and moves cookies to their own list.
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in incoming.headers.keys() {
        let values: Vec<&str> = incoming
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if name == http::header::COOKIE {
            cookies.extend(values.iter().flat_map(|v| v.split("; ")).map(str::to_owned));
            continue;
        }
        if let Ok(v) = HeaderValue::from_str(&values.join(",")) {
            headers.insert(name.clone(), v);
        }
    }
    let query: HashMap<String, String> = incoming
        .multi_query()
        .into_iter()
        .map(|(k, v)| (k, v.join(",")))
        .collect();
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = incoming.method.clone();
    http.path = Some(incoming.raw_path.clone());
    http.protocol = Some("HTTP/1.1".into());
    http.source_ip = Some(incoming.source_ip.clone());
    http.user_agent = incoming.header("user-agent");
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(landing.resource.to_owned());
    context.account_id = Some(landing.account.to_owned());
    context.stage = Some(landing.stage.to_owned());
    context.request_id = Some(incoming.request_id.clone());
    context.apiid = Some(landing.api_id.to_owned());
    context.domain_name = Some(landing.domain.clone());
    context.domain_prefix = landing.domain.split('.').next().map(str::to_owned);
    context.time = Some(incoming.request_time());
    context.time_epoch = incoming.epoch_ms;
    context.http = http;
    context.authorizer = match identity {
        Identity::Jwt { claims, scopes } => {
            let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
            jwt.claims = claims.iter().map(|(k, v)| (k.clone(), text(v))).collect();
            jwt.scopes = (!scopes.is_empty()).then(|| scopes.clone());
            let mut a = ApiGatewayRequestAuthorizer::default();
            a.jwt = Some(jwt);
            Some(a)
        }
        Identity::Iam {
            access_key,
            user_arn,
            account,
        } => {
            let mut iam = ApiGatewayRequestAuthorizerIamDescription::default();
            iam.access_key = Some(access_key.clone());
            iam.account_id = Some(account.clone());
            iam.caller_id = Some(access_key.clone());
            iam.user_arn = Some(user_arn.clone());
            iam.user_id = Some(access_key.clone());
            let mut a = ApiGatewayRequestAuthorizer::default();
            a.iam = Some(iam);
            Some(a)
        }
        Identity::Lambda { context, .. } => {
            let mut a = ApiGatewayRequestAuthorizer::default();
            a.fields = context
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Some(a)
        }
        Identity::Anonymous => None,
    };
    let (body, is_base64) = incoming.event_body();
    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".into());
    event.route_key = Some(landing.resource.to_owned());
    event.raw_path = Some(incoming.raw_path.clone());
    event.raw_query_string = Some(incoming.raw_query.clone());
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    event.headers = headers;
    event.query_string_parameters = QueryMap::from(query);
    event.path_parameters = landing.path_parameters.clone();
    event.request_context = context;
    event.body = body;
    event.is_base64_encoded = is_base64;
    let mut value = serde_json::to_value(&event).expect("an event serializes");
    if value["stageVariables"]
        .as_object()
        .is_some_and(Map::is_empty)
    {
        if let Some(o) = value.as_object_mut() {
            o.remove("stageVariables");
        }
    }
    value
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An HTTP response from a function's proxy result.
pub(crate) struct ProxyResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The response of a payload 1.0 result: `statusCode`, `headers`, `multiValueHeaders`, `body` (text) and
/// `isBase64Encoded`. Anything else is malformed (API Gateway answers 502): why.
pub(crate) fn v1_response(result: &Value) -> Result<ProxyResponse, String> {
    let o = result
        .as_object()
        .ok_or_else(|| format!("the result is not a JSON object: {result}"))?;
    full_response(o)
}

/// The response of a payload 2.0 result: the full form when it has `statusCode`; otherwise the result itself is
/// a 200 JSON body (the simple form).
pub(crate) fn v2_response(result: &Value) -> Result<ProxyResponse, String> {
    match result.as_object() {
        Some(o) if o.contains_key("statusCode") => {
            let mut response = full_response(o)?;
            for cookie in o
                .get("cookies")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let cookie = cookie.as_str().ok_or("a cookie is not a string")?;
                let value =
                    HeaderValue::from_str(cookie).map_err(|e| format!("cookie {cookie:?}: {e}"))?;
                response.headers.append(http::header::SET_COOKIE, value);
            }
            Ok(response)
        }
        _ => {
            let mut headers = HeaderMap::new();
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(ProxyResponse {
                status: StatusCode::OK,
                headers,
                body: Bytes::from(result.to_string()),
            })
        }
    }
}

fn full_response(o: &Map<String, Value>) -> Result<ProxyResponse, String> {
    let status = o
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| {
            format!(
                "statusCode is not an HTTP status: {}",
                o.get("statusCode").unwrap_or(&Value::Null)
            )
        })?;
    let mut headers = HeaderMap::new();
    let header = |name: &str, value: &Value| -> Result<(HeaderName, HeaderValue), String> {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            other => return Err(format!("header {name} is not a string: {other}")),
        };
        Ok((
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("header name {name:?}: {e}"))?,
            HeaderValue::from_str(&value).map_err(|e| format!("header {name}: {e}"))?,
        ))
    };
    for (name, values) in o
        .get("multiValueHeaders")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for v in values
            .as_array()
            .ok_or_else(|| format!("multiValueHeaders.{name} is not a list"))?
        {
            let (n, v) = header(name, v)?;
            headers.append(n, v);
        }
    }
    for (name, value) in o
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let (n, v) = header(name, value)?;
        headers.insert(n, v);
    }
    let body = match o.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s))
            if o.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) =>
        {
            Bytes::from(
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| {
                        format!("body is marked isBase64Encoded but is not base64: {e}")
                    })?,
            )
        }
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(other) => return Err(format!("body is not a string: {other}")),
    };
    Ok(ProxyResponse {
        status,
        headers,
        body,
    })
}
