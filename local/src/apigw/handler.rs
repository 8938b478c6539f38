//! One request through an API, in API Gateway's order: route, authorize, validate, integrate.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use super::auth::{self, AuthorizerCache, Identity, LambdaAuthRequest, Refusal};
use super::proxy::{self, Incoming, Landing, ProxyResponse};
use super::routing::match_path;
use super::template::{ApiDef, Auth, Route, Target};
use super::{ApiKind, LocalIdentity, ServeOptions};
use crate::invoke::{Invoke, InvokeError};
use crate::model::LocalApp;

pub(crate) struct ApiState {
    def: ApiDef,
    invoker: Arc<dyn Invoke>,
    identity: Option<LocalIdentity>,
    account: String,
    region: String,
    domain: String,
    cache: AuthorizerCache,
    /// The API's OpenAPI document, served at `/openapi.json` with this server as its `servers` entry.
    openapi: Option<Value>,
}

impl ApiState {
    pub(crate) fn new(
        def: ApiDef,
        invoker: Arc<dyn Invoke>,
        options: &ServeOptions,
        app: &LocalApp,
        addr: SocketAddr,
        url: &str,
    ) -> Self {
        let openapi = app
            .stacks
            .iter()
            .find(|s| s.name == def.stack)
            .and_then(|s| s.openapi.get(&def.logical_id))
            .map(|document| {
                let mut document = document.clone();
                document["servers"] = json!([{ "url": url }]);
                document
            });
        ApiState {
            openapi,
            def,
            invoker,
            identity: options.identity.clone(),
            account: app.account.clone(),
            region: app.region.clone(),
            domain: addr.to_string(),
            cache: AuthorizerCache::default(),
        }
    }
}

pub(crate) async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<ApiState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors or a connection reset before accept: wait instead of spinning.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let state = state.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req, peer).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.changed() => {}
            }
        });
    }
}

fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        t as u32,
        n & 0xffff,
        (t >> 32) & 0xfff,
        n & 0xfff,
        t >> 16 & 0xffff_ffff_ffff
    )
}

async fn handle(
    state: &ApiState,
    req: hyper::Request<hyper::body::Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let incoming = Incoming {
        method: parts.method,
        raw_path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
        source_ip: peer.ip().to_string(),
        request_id: request_id(),
        epoch_ms: chrono::Utc::now().timestamp_millis(),
    };
    let response = match (&state.openapi, state.def.kind) {
        (Some(document), _) if serves_openapi(state, &incoming) => {
            json_response(StatusCode::OK, document.clone(), None)
        }
        (_, ApiKind::Rest) => rest(state, &incoming).await,
        (_, ApiKind::Http) => http_api(state, &incoming).await,
    };
    let (parts, body) = response.into_parts();
    let mut response = Response::from_parts(parts, Full::new(body));
    if let Ok(v) = HeaderValue::from_str(&incoming.request_id) {
        let name = if state.def.kind == ApiKind::Rest {
            "x-amzn-requestid"
        } else {
            "apigw-requestid"
        };
        response.headers_mut().insert(name, v);
    }
    response
}

/// `GET /openapi.json` asks for the API's document, unless the API has a route of its own there (an HTTP API's
/// `$default` or `ANY /{proxy+}` included): the app's route wins, as it would on AWS, where the document is not
/// served at all. A REST API's routes are under its stage, so `/openapi.json` is always free.
fn serves_openapi(state: &ApiState, incoming: &Incoming) -> bool {
    if incoming.method != http::Method::GET || incoming.raw_path != "/openapi.json" {
        return false;
    }
    match state.def.kind {
        ApiKind::Rest => true,
        ApiKind::Http => {
            let stage = (state.def.stage != "$default").then_some(state.def.stage.as_str());
            within_stage(&incoming.raw_path, stage).is_none_or(|path| {
                find_route(&state.def.routes, "GET", path).is_none()
                    && !state.def.routes.iter().any(|r| r.path.is_none())
            })
        }
    }
}

/// A matched route with its path parameters.
type Matched<'a> = (&'a Route, HashMap<String, String>);

/// The route for a path within the stage: the most specific template, then the exact method over `ANY`.
fn find_route<'a>(routes: &'a [Route], method: &str, path: &str) -> Option<Matched<'a>> {
    let mut best: Option<(Matched<'a>, (Vec<u8>, u8))> = None;
    for route in routes {
        let Some(template) = &route.path else {
            continue;
        };
        let method_score = if route.method == method {
            2
        } else if route.method == "ANY" {
            1
        } else {
            continue;
        };
        let Some((params, specificity)) = match_path(template, path) else {
            continue;
        };
        let score = (specificity, method_score);
        if best.as_ref().is_none_or(|(_, b)| score > *b) {
            best = Some(((route, params), score));
        }
    }
    best.map(|(m, _)| m)
}

/// The path within the stage, when the request is under it.
fn within_stage<'a>(path: &'a str, stage: Option<&str>) -> Option<&'a str> {
    let Some(stage) = stage else {
        return Some(path);
    };
    let rest = path.strip_prefix('/')?.strip_prefix(stage)?;
    if rest.is_empty() {
        Some("/")
    } else {
        rest.starts_with('/').then_some(rest)
    }
}

fn json_response(status: StatusCode, body: Value, error_type: Option<&str>) -> Response<Bytes> {
    let mut r = Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(t) = error_type {
        r = r.header("x-amzn-errortype", t);
    }
    r.body(Bytes::from(body.to_string()))
        .expect("static headers are valid")
}

/// An API Gateway error of a REST API, with the API's gateway response for its type (or DEFAULT_4XX/5XX) applied.
fn rest_error(
    def: &ApiDef,
    response_type: &str,
    status: StatusCode,
    body: Value,
    error_type: &str,
) -> Response<Bytes> {
    let mut response = json_response(status, body, Some(error_type));
    let default = if status.is_client_error() {
        "DEFAULT_4XX"
    } else {
        "DEFAULT_5XX"
    };
    let specific = def.gateway_responses.get(response_type);
    let headers = specific.or_else(|| def.gateway_responses.get(default));
    if let Some(g) = headers {
        for (name, value) in &g.headers {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().insert(n, v);
            }
        }
    }
    if let Some(status) = specific
        .and_then(|g| g.status)
        .and_then(|s| StatusCode::from_u16(s).ok())
    {
        *response.status_mut() = status;
    }
    response
}

fn missing_token(def: &ApiDef) -> Response<Bytes> {
    rest_error(
        def,
        "MISSING_AUTHENTICATION_TOKEN",
        StatusCode::FORBIDDEN,
        json!({"message": "Missing Authentication Token"}),
        "MissingAuthenticationTokenException",
    )
}

fn to_response(p: ProxyResponse) -> Response<Bytes> {
    let mut r = Response::new(p.body);
    *r.status_mut() = p.status;
    *r.headers_mut() = p.headers;
    r
}

async fn rest(state: &ApiState, incoming: &Incoming) -> Response<Bytes> {
    let def = &state.def;
    let Some(path) = within_stage(&incoming.raw_path, Some(&def.stage)) else {
        return missing_token(def);
    };
    let Some((route, params)) = find_route(&def.routes, incoming.method.as_str(), path) else {
        return missing_token(def);
    };
    let template = route.path.as_deref().unwrap_or("/");
    let landing = Landing {
        account: &state.account,
        api_id: &def.id,
        stage: &def.stage,
        resource: template,
        resource_id: &route.key,
        path,
        path_parameters: params,
        domain: state.domain.clone(),
    };
    let method_arn = format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
        state.region,
        state.account,
        def.id,
        def.stage,
        incoming.method,
        path.trim_start_matches('/')
    );
    let identity = match &route.auth {
        Auth::None => Ok(Identity::Anonymous),
        Auth::Iam => auth::iam(&incoming.headers, state.identity.as_ref(), &state.account),
        Auth::Jwt { authorizer, scopes } => auth::jwt(
            authorizer,
            scopes,
            &incoming.headers,
            state.identity.as_ref(),
        ),
        Auth::Lambda(authorizer) => {
            let event = proxy::v1_event(incoming, &landing, &Identity::Anonymous);
            let query = incoming.query_pairs();
            let request = LambdaAuthRequest {
                headers: &incoming.headers,
                query: &query,
                method_arn,
                proxy_event: &event,
            };
            auth::lambda(
                authorizer,
                request,
                state.invoker.as_ref(),
                &state.cache,
                &state.region,
                &state.account,
            )
            .await
        }
    };
    let identity = match identity {
        Ok(identity) => identity,
        Err(Refusal::MissingCredentials) => return missing_token(def),
        Err(Refusal::Unauthorized | Refusal::MissingScopes) => {
            return rest_error(
                def,
                "UNAUTHORIZED",
                StatusCode::UNAUTHORIZED,
                json!({"message": "Unauthorized"}),
                "UnauthorizedException",
            )
        }
        Err(Refusal::Denied { explicit }) => {
            let message = if explicit {
                "User is not authorized to access this resource with an explicit deny"
            } else {
                "User is not authorized to access this resource"
            };
            return rest_error(
                def,
                "ACCESS_DENIED",
                StatusCode::FORBIDDEN,
                json!({"Message": message}),
                "AccessDeniedException",
            );
        }
        Err(Refusal::AuthorizerFailed(_)) => {
            return rest_error(
                def,
                "AUTHORIZER_FAILURE",
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"message": null}),
                "AuthorizerConfigurationException",
            )
        }
    };
    if route.validate_parameters {
        let query = incoming.query_pairs();
        let missing: Vec<&str> = route
            .required
            .iter()
            .filter(|(location, name)| match location.as_str() {
                // Present and not blank, as API Gateway checks them.
                "querystring" => !query.iter().any(|(k, v)| k == name && !v.is_empty()),
                "header" => incoming
                    .headers
                    .get(name.as_str())
                    .is_none_or(|v| v.as_bytes().trim_ascii().is_empty()),
                _ => false,
            })
            .map(|(_, name)| name.as_str())
            .collect();
        if !missing.is_empty() {
            return rest_error(
                def,
                "BAD_REQUEST_PARAMETERS",
                StatusCode::BAD_REQUEST,
                json!({"message": format!("Missing required request parameters: [{}]", missing.join(", "))}),
                "BadRequestException",
            );
        }
    }
    if route.validate_body && !route.models.is_empty() {
        // The model for the request's media type; without a Content-Type API Gateway uses application/json.
        let media = incoming
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase())
            .unwrap_or_else(|| "application/json".into());
        // No model for the media type: not validated, unless a `$default` model covers every type.
        if let Some(model) = route
            .models
            .get(&media)
            .or_else(|| route.models.get("$default"))
        {
            let valid = serde_json::from_slice::<Value>(&incoming.body)
                .is_ok_and(|body| model.is_valid(&body));
            if !valid {
                return rest_error(
                    def,
                    "BAD_REQUEST_BODY",
                    StatusCode::BAD_REQUEST,
                    json!({"message": "Invalid request body"}),
                    "BadRequestException",
                );
            }
        }
    }
    match &route.target {
        Target::Mock { status, headers } => {
            let mut r = Response::new(Bytes::new());
            *r.status_mut() = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
            for (name, value) in headers {
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    r.headers_mut().insert(n, v);
                }
            }
            r
        }
        Target::Unsupported(why) => rest_error(
            def,
            "INTEGRATION_FAILURE",
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": why}),
            "InternalServerErrorException",
        ),
        Target::Function(function) => {
            let event = proxy::v1_event(incoming, &landing, &identity);
            match state.invoker.invoke(function, event).await {
                Ok(result) => match proxy::v1_response(&result) {
                    Ok(r) => to_response(r),
                    Err(_) => bad_gateway(def),
                },
                Err(InvokeError::Timeout { .. }) => rest_error(
                    def,
                    "INTEGRATION_TIMEOUT",
                    StatusCode::GATEWAY_TIMEOUT,
                    json!({"message": "Endpoint request timed out"}),
                    "InternalServerErrorException",
                ),
                Err(_) => bad_gateway(def),
            }
        }
    }
}

fn bad_gateway(def: &ApiDef) -> Response<Bytes> {
    rest_error(
        def,
        "INTEGRATION_FAILURE",
        StatusCode::BAD_GATEWAY,
        json!({"message": "Internal server error"}),
        "InternalServerErrorException",
    )
}

async fn http_api(state: &ApiState, incoming: &Incoming) -> Response<Bytes> {
    let def = &state.def;
    let mut response = http_api_inner(state, incoming).await;
    // CORS headers on every answer to an allowed origin.
    if let (Some(cors), Some(origin)) = (
        &def.cors,
        incoming
            .headers
            .get(http::header::ORIGIN)
            .and_then(|o| o.to_str().ok()),
    ) {
        if let Some(allowed) = allowed_origin(cors, origin) {
            let h = response.headers_mut();
            insert(h, "access-control-allow-origin", &allowed);
            if cors.allow_credentials {
                insert(h, "access-control-allow-credentials", "true");
            }
            if !cors.expose_headers.is_empty() {
                insert(
                    h,
                    "access-control-expose-headers",
                    &cors.expose_headers.join(","),
                );
            }
        }
    }
    response
}

fn insert(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

fn allowed_origin(cors: &super::template::HttpCors, origin: &str) -> Option<String> {
    if cors.allow_origins.iter().any(|o| o == "*") {
        return Some(if cors.allow_credentials {
            origin.to_owned()
        } else {
            "*".to_owned()
        });
    }
    cors.allow_origins
        .iter()
        .any(|o| o == origin)
        .then(|| origin.to_owned())
}

async fn http_api_inner(state: &ApiState, incoming: &Incoming) -> Response<Bytes> {
    let def = &state.def;
    let not_found = || json_response(StatusCode::NOT_FOUND, json!({"message": "Not Found"}), None);
    let stage = (def.stage != "$default").then_some(def.stage.as_str());
    let Some(path) = within_stage(&incoming.raw_path, stage) else {
        return not_found();
    };
    let method = incoming.method.as_str();
    // API Gateway answers a CORS preflight itself when the API has a CORS configuration.
    if let Some(cors) = &def.cors {
        let preflight = method == "OPTIONS"
            && incoming.headers.contains_key(http::header::ORIGIN)
            && incoming
                .headers
                .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD);
        if preflight {
            let mut r = Response::new(Bytes::new());
            *r.status_mut() = StatusCode::NO_CONTENT;
            let h = r.headers_mut();
            if !cors.allow_methods.is_empty() {
                insert(
                    h,
                    "access-control-allow-methods",
                    &cors.allow_methods.join(","),
                );
            }
            if !cors.allow_headers.is_empty() {
                insert(
                    h,
                    "access-control-allow-headers",
                    &cors.allow_headers.join(","),
                );
            }
            if let Some(age) = cors.max_age {
                insert(h, "access-control-max-age", &age.to_string());
            }
            return r;
        }
    }
    let found = find_route(&def.routes, method, path).or_else(|| {
        def.routes
            .iter()
            .find(|r| r.path.is_none())
            .map(|r| (r, HashMap::new()))
    });
    let Some((route, params)) = found else {
        return not_found();
    };
    let landing = Landing {
        account: &state.account,
        api_id: &def.id,
        stage: &def.stage,
        resource: &route.key,
        resource_id: &route.key,
        path,
        path_parameters: params,
        domain: state.domain.clone(),
    };
    let identity = match &route.auth {
        Auth::None => Ok(Identity::Anonymous),
        Auth::Iam => auth::iam(&incoming.headers, state.identity.as_ref(), &state.account),
        Auth::Jwt { authorizer, scopes } => auth::jwt(
            authorizer,
            scopes,
            &incoming.headers,
            state.identity.as_ref(),
        ),
        Auth::Lambda(_) => Err(Refusal::AuthorizerFailed(
            "HTTP API Lambda authorizers are not served locally".into(),
        )),
    };
    let identity = match identity {
        Ok(i) => i,
        Err(Refusal::MissingCredentials | Refusal::MissingScopes | Refusal::Denied { .. }) => {
            return json_response(StatusCode::FORBIDDEN, json!({"message": "Forbidden"}), None)
        }
        Err(Refusal::Unauthorized) => {
            return json_response(
                StatusCode::UNAUTHORIZED,
                json!({"message": "Unauthorized"}),
                None,
            )
        }
        Err(Refusal::AuthorizerFailed(_)) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"message": "Internal Server Error"}),
                None,
            )
        }
    };
    let server_error = || {
        json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": "Internal Server Error"}),
            None,
        )
    };
    match &route.target {
        Target::Function(function) => {
            let event = proxy::v2_event(incoming, &landing, &identity);
            match state.invoker.invoke(function, event).await {
                Ok(result) => {
                    proxy::v2_response(&result).map_or_else(|_| server_error(), to_response)
                }
                Err(InvokeError::Timeout { .. }) => json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"message": "Service Unavailable"}),
                    None,
                ),
                Err(_) => server_error(),
            }
        }
        Target::Mock { .. } | Target::Unsupported(_) => server_error(),
    }
}
