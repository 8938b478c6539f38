//! The APIs of the app, read from its resolved resources: REST APIs (resource tree, methods, models,
//! validators, authorizers, gateway responses, stage) and HTTP APIs (routes, integrations, JWT authorizers,
//! CORS, stage).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::{ApiKind, ApigwError};
use crate::invoke::FunctionRef;
use crate::model::{LocalApp, LocalResource};

/// One API, ready to serve.
pub(crate) struct ApiDef {
    pub stack: String,
    pub logical_id: String,
    pub kind: ApiKind,
    /// The API id (`Ref`), for requestContext and method ARNs.
    pub id: String,
    /// The stage; its name prefixes every path of a REST API, and of an HTTP API unless it is `$default`.
    pub stage: String,
    pub routes: Vec<Route>,
    /// REST: gateway responses by type (`DEFAULT_4XX`, `UNAUTHORIZED`...): headers and status override.
    pub gateway_responses: HashMap<String, GatewayResponse>,
    /// HTTP: the API's CORS configuration.
    pub cors: Option<HttpCors>,
}

/// A REST method or an HTTP route.
pub(crate) struct Route {
    /// `GET`, `POST`..., or `ANY`.
    pub method: String,
    /// The path template (`/orders/{id}`); `None` for an HTTP API's `$default` route.
    pub path: Option<String>,
    /// REST: the resource's id (requestContext.resourceId). HTTP: the route key.
    pub key: String,
    pub auth: Auth,
    pub target: Target,
    /// REST: the validator's checks.
    pub validate_body: bool,
    pub validate_parameters: bool,
    /// REST: required `querystring` / `header` parameters (location, name).
    pub required: Vec<(String, String)>,
    /// REST: content type -> compiled model.
    pub models: BTreeMap<String, Arc<jsonschema::Validator>>,
}

pub(crate) enum Auth {
    None,
    Iam,
    /// A Cognito user pool (REST) or JWT (HTTP) authorizer, and the scopes the route requires.
    Jwt {
        authorizer: Arc<AuthorizerDef>,
        scopes: Vec<String>,
    },
    /// A Lambda TOKEN or REQUEST authorizer (REST).
    Lambda(Arc<AuthorizerDef>),
}

pub(crate) struct AuthorizerDef {
    /// The authorizer's id (`Ref`), the cache's key.
    pub id: String,
    pub name: String,
    pub kind: AuthorizerKind,
    /// REST: where the identity comes from (`method.request.header.Authorization`); HTTP: `$request.header.X`.
    pub identity_sources: Vec<String>,
    /// The seconds a Lambda authorizer's answer is cached (0: not cached).
    pub ttl: u64,
}

pub(crate) enum AuthorizerKind {
    Token(FunctionRef),
    Request(FunctionRef),
    /// Token issuers accepted (`https://cognito-idp.<region>.amazonaws.com/<pool id>`) and audiences
    /// (empty: any, as a Cognito authorizer of a REST API does not check it).
    Jwt {
        issuers: Vec<String>,
        audience: Vec<String>,
    },
}

#[derive(Clone)]
pub(crate) enum Target {
    Function(FunctionRef),
    /// A MOCK integration (CORS preflights): its first integration response.
    Mock {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// An integration the local run does not serve: why.
    Unsupported(String),
}

#[derive(Clone, Default)]
pub(crate) struct GatewayResponse {
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
}

pub(crate) struct HttpCors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<i64>,
}

fn s<'a>(r: &'a LocalResource, field: &str) -> Option<&'a str> {
    r.properties.get(field).and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.split(',').map(|x| x.trim().to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// `'value'` (a static mapping value) -> `value`.
fn unquote(v: &str) -> String {
    v.strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(v)
        .to_owned()
}

/// Every API of the app.
pub(crate) fn apis(app: &LocalApp) -> Result<Vec<ApiDef>, ApigwError> {
    let functions: Vec<(FunctionRef, &LocalResource)> = app
        .of_type("AWS::Lambda::Function")
        .map(|(stack, r)| {
            (
                FunctionRef {
                    stack: stack.to_owned(),
                    logical_id: r.logical_id.clone(),
                },
                r,
            )
        })
        .collect();
    let function_of = |arn: &str, what: &dyn Fn() -> String| -> Result<FunctionRef, ApigwError> {
        // An integration may name a version or alias: `...:function:name:live`.
        let unqualified: String = arn.splitn(8, ':').take(7).collect::<Vec<_>>().join(":");
        functions
            .iter()
            .find(|(_, r)| {
                r.arn.as_deref() == Some(arn)
                    || r.arn.as_deref() == Some(unqualified.as_str())
                    || r.physical_id == arn
            })
            .map(|(f, _)| f.clone())
            .ok_or_else(|| ApigwError::Template {
                api: what(),
                problem: format!(
                    "its integration invokes {arn}, which is no AWS::Lambda::Function of the app"
                ),
            })
    };
    let mut out = Vec::new();
    for (stack, api) in app.of_type("AWS::ApiGateway::RestApi") {
        out.push(rest_api(app, stack, api, &function_of)?);
    }
    for (stack, api) in app.of_type("AWS::ApiGatewayV2::Api") {
        if s(api, "ProtocolType") == Some("HTTP") {
            out.push(http_api(app, stack, api, &function_of)?);
        }
    }
    Ok(out)
}

type FunctionOf<'a> = dyn Fn(&str, &dyn Fn() -> String) -> Result<FunctionRef, ApigwError> + 'a;

/// The function ARN in a Lambda integration URI
/// (`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations`), or the URI itself
/// when it is a function ARN already (HTTP APIs).
fn function_arn_of_uri(uri: &str) -> &str {
    match uri.split_once("/functions/") {
        Some((_, rest)) => rest.strip_suffix("/invocations").unwrap_or(rest),
        None => uri,
    }
}

fn rest_api(
    app: &LocalApp,
    stack: &str,
    api: &LocalResource,
    function_of: &FunctionOf<'_>,
) -> Result<ApiDef, ApigwError> {
    let id = api.physical_id.clone();
    let name = format!("{stack}/{}", api.logical_id);
    let err = |problem: String| ApigwError::Template {
        api: name.clone(),
        problem,
    };
    let of_api = |type_name: &'static str| {
        let id = id.clone();
        app.of_type(type_name)
            .filter(move |(_, r)| s(r, "RestApiId") == Some(id.as_str()))
            .map(|(_, r)| r)
    };
    // The resource tree: id -> (parent id, path part); a parent that is no resource is the root.
    let resources: HashMap<&str, (&str, &str)> = of_api("AWS::ApiGateway::Resource")
        .filter_map(|r| {
            Some((
                r.physical_id.as_str(),
                (s(r, "ParentId")?, s(r, "PathPart")?),
            ))
        })
        .collect();
    let path_of = |resource_id: &str| -> Result<String, ApigwError> {
        let mut parts = Vec::new();
        let mut at = resource_id;
        while let Some((parent, part)) = resources.get(at) {
            parts.push(*part);
            if parts.len() > resources.len() {
                return Err(err(format!(
                    "its resource {resource_id} has a cycle of ParentIds"
                )));
            }
            at = parent;
        }
        parts.reverse();
        Ok(format!("/{}", parts.join("/")))
    };
    let models: HashMap<String, &LocalResource> = of_api("AWS::ApiGateway::Model")
        .flat_map(|m| {
            let mut keys = vec![m.physical_id.clone(), m.logical_id.clone()];
            keys.extend(s(m, "Name").map(str::to_owned));
            keys.into_iter().map(move |k| (k, m))
        })
        .collect();
    let validators: HashMap<&str, &LocalResource> = of_api("AWS::ApiGateway::RequestValidator")
        .map(|v| (v.physical_id.as_str(), v))
        .collect();
    let mut authorizers: HashMap<String, Arc<AuthorizerDef>> = HashMap::new();
    for a in of_api("AWS::ApiGateway::Authorizer") {
        let ttl = a
            .properties
            .get("AuthorizerResultTtlInSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(300);
        let what = || format!("{name}'s authorizer {}", a.logical_id);
        let kind = match s(a, "Type") {
            Some("TOKEN") | Some("REQUEST") => {
                let uri = s(a, "AuthorizerUri").ok_or_else(|| err(format!("authorizer {} has no AuthorizerUri", a.logical_id)))?;
                let f = function_of(function_arn_of_uri(uri), &what)?;
                if s(a, "Type") == Some("TOKEN") {
                    AuthorizerKind::Token(f)
                } else {
                    AuthorizerKind::Request(f)
                }
            }
            Some("COGNITO_USER_POOLS") => AuthorizerKind::Jwt {
                issuers: strings(a.properties.get("ProviderARNs"))
                    .iter()
                    .map(|arn| cognito_issuer(arn, &app.region))
                    .collect(),
                audience: Vec::new(),
            },
            other => return Err(err(format!("authorizer {} has Type {other:?}; cfnkit-local serves TOKEN, REQUEST and COGNITO_USER_POOLS", a.logical_id))),
        };
        let def = Arc::new(AuthorizerDef {
            id: a.physical_id.clone(),
            name: s(a, "Name").unwrap_or(&a.logical_id).to_owned(),
            kind,
            identity_sources: strings(a.properties.get("IdentitySource")),
            ttl,
        });
        authorizers.insert(a.physical_id.clone(), def.clone());
        authorizers.insert(a.logical_id.clone(), def);
    }
    let mut routes = Vec::new();
    for m in of_api("AWS::ApiGateway::Method") {
        let method = s(m, "HttpMethod").unwrap_or("ANY").to_ascii_uppercase();
        let resource_id = s(m, "ResourceId").unwrap_or_default();
        let path = path_of(resource_id)?;
        let what = || format!("{name} {method} {path}");
        let auth = match s(m, "AuthorizationType").unwrap_or("NONE") {
            "NONE" => Auth::None,
            "AWS_IAM" => Auth::Iam,
            kind @ ("CUSTOM" | "COGNITO_USER_POOLS") => {
                let authorizer_id = s(m, "AuthorizerId").unwrap_or_default();
                let a = authorizers.get(authorizer_id).cloned().ok_or_else(|| {
                    err(format!("{method} {path} names authorizer {authorizer_id:?}, which is not one of the API's"))
                })?;
                if kind == "CUSTOM" {
                    Auth::Lambda(a)
                } else {
                    Auth::Jwt { authorizer: a, scopes: strings(m.properties.get("AuthorizationScopes")) }
                }
            }
            other => return Err(err(format!("{method} {path} has AuthorizationType {other}; cfnkit-local serves NONE, AWS_IAM, CUSTOM and COGNITO_USER_POOLS"))),
        };
        let integration = m.properties.get("Integration").cloned().unwrap_or_default();
        let target = match integration.get("Type").and_then(Value::as_str) {
            Some("AWS_PROXY") => {
                let uri = integration
                    .get("Uri")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Target::Function(function_of(function_arn_of_uri(uri), &what)?)
            }
            Some("MOCK") => {
                let response = integration
                    .get("IntegrationResponses")
                    .and_then(Value::as_array)
                    .and_then(|r| r.first())
                    .cloned()
                    .unwrap_or_default();
                let status = response
                    .get("StatusCode")
                    .and_then(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .or_else(|| v.as_u64().map(|n| n.to_string()))
                    })
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(200);
                let headers = response
                    .get("ResponseParameters")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, v)| {
                        Some((
                            k.strip_prefix("method.response.header.")?.to_owned(),
                            unquote(v.as_str()?),
                        ))
                    })
                    .collect();
                Target::Mock { status, headers }
            }
            other => Target::Unsupported(format!(
                "cfnkit-local serves AWS_PROXY (Lambda) and MOCK integrations, not {}",
                other.unwrap_or("a method without integration")
            )),
        };
        let validator = s(m, "RequestValidatorId").and_then(|v| validators.get(v));
        let flag = |field: &str| {
            validator.is_some_and(|v| {
                v.properties
                    .get(field)
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            })
        };
        let required = m
            .properties
            .get("RequestParameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.as_bool() == Some(true))
            .filter_map(|(k, _)| {
                let rest = k.strip_prefix("method.request.")?;
                let (location, name) = rest.split_once('.')?;
                (location != "path").then(|| (location.to_owned(), name.to_owned()))
            })
            .collect();
        let mut compiled = BTreeMap::new();
        for (content_type, model) in m
            .properties
            .get("RequestModels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let model_name = model.as_str().unwrap_or_default();
            let model = models.get(model_name).ok_or_else(|| {
                err(format!("{method} {path} validates {content_type} with model {model_name:?}, which is not one of the API's"))
            })?;
            let schema = match model.properties.get("Schema") {
                Some(Value::String(text)) => serde_json::from_str(text).map_err(|e| {
                    err(format!(
                        "model {} has a Schema that is not JSON: {e}",
                        model.logical_id
                    ))
                })?,
                Some(v) => v.clone(),
                None => continue,
            };
            let validator = jsonschema::draft4::new(&schema).map_err(|e| {
                err(format!(
                    "model {} is not a valid draft-04 JSON Schema: {e}",
                    model.logical_id
                ))
            })?;
            compiled.insert(content_type.to_ascii_lowercase(), Arc::new(validator));
        }
        routes.push(Route {
            method,
            path: Some(path),
            key: resource_id.to_owned(),
            auth,
            target,
            validate_body: flag("ValidateRequestBody"),
            validate_parameters: flag("ValidateRequestParameters"),
            required,
            models: compiled,
        });
    }
    let gateway_responses = of_api("AWS::ApiGateway::GatewayResponse")
        .filter_map(|g| {
            let headers = g
                .properties
                .get("ResponseParameters")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| {
                    Some((
                        k.strip_prefix("gatewayresponse.header.")?.to_owned(),
                        unquote(v.as_str()?),
                    ))
                })
                .collect();
            let status = s(g, "StatusCode").and_then(|s| s.parse().ok());
            Some((
                s(g, "ResponseType")?.to_owned(),
                GatewayResponse { status, headers },
            ))
        })
        .collect();
    let stage = of_api("AWS::ApiGateway::Stage")
        .find_map(|st| s(st, "StageName").map(str::to_owned))
        .or_else(|| of_api("AWS::ApiGateway::Deployment").find_map(|d| s(d, "StageName").map(str::to_owned)))
        .ok_or_else(|| err("it has no AWS::ApiGateway::Stage (and no Deployment with a StageName): there is no URL to serve it at".into()))?;
    Ok(ApiDef {
        stack: stack.to_owned(),
        logical_id: api.logical_id.clone(),
        kind: ApiKind::Rest,
        id,
        stage,
        routes,
        gateway_responses,
        cors: None,
    })
}

/// `arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>` -> the pool's token issuer.
fn cognito_issuer(arn: &str, default_region: &str) -> String {
    let region = arn
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .unwrap_or(default_region);
    let pool = arn.rsplit('/').next().unwrap_or(arn);
    format!("https://cognito-idp.{region}.amazonaws.com/{pool}")
}

fn http_api(
    app: &LocalApp,
    stack: &str,
    api: &LocalResource,
    function_of: &FunctionOf<'_>,
) -> Result<ApiDef, ApigwError> {
    let id = api.physical_id.clone();
    let name = format!("{stack}/{}", api.logical_id);
    let err = |problem: String| ApigwError::Template {
        api: name.clone(),
        problem,
    };
    let of_api = |type_name: &'static str| {
        let id = id.clone();
        app.of_type(type_name)
            .filter(move |(_, r)| s(r, "ApiId") == Some(id.as_str()))
            .map(|(_, r)| r)
    };
    let mut integrations: HashMap<String, Target> = HashMap::new();
    for i in of_api("AWS::ApiGatewayV2::Integration") {
        let what = || format!("{name}'s integration {}", i.logical_id);
        let target = match s(i, "IntegrationType") {
            Some("AWS_PROXY") => {
                let version = s(i, "PayloadFormatVersion").unwrap_or("1.0");
                if version != "2.0" {
                    Target::Unsupported(format!("cfnkit-local serves HTTP API integrations with payload format 2.0, not {version}"))
                } else {
                    Target::Function(function_of(
                        function_arn_of_uri(s(i, "IntegrationUri").unwrap_or_default()),
                        &what,
                    )?)
                }
            }
            other => Target::Unsupported(format!(
                "cfnkit-local serves AWS_PROXY (Lambda) integrations, not {}",
                other.unwrap_or("none")
            )),
        };
        integrations.insert(i.physical_id.clone(), target);
    }
    let mut authorizers: HashMap<String, Arc<AuthorizerDef>> = HashMap::new();
    for a in of_api("AWS::ApiGatewayV2::Authorizer") {
        if s(a, "AuthorizerType") != Some("JWT") {
            return Err(err(format!(
                "authorizer {} has AuthorizerType {:?}; cfnkit-local serves JWT authorizers of HTTP APIs",
                a.logical_id,
                s(a, "AuthorizerType")
            )));
        }
        let jwt = a
            .properties
            .get("JwtConfiguration")
            .cloned()
            .unwrap_or_default();
        let def = Arc::new(AuthorizerDef {
            id: a.physical_id.clone(),
            name: s(a, "Name").unwrap_or(&a.logical_id).to_owned(),
            kind: AuthorizerKind::Jwt {
                issuers: jwt
                    .get("Issuer")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
                audience: strings(jwt.get("Audience")),
            },
            identity_sources: strings(a.properties.get("IdentitySource")),
            ttl: 0,
        });
        authorizers.insert(a.physical_id.clone(), def);
    }
    let mut routes = Vec::new();
    for r in of_api("AWS::ApiGatewayV2::Route") {
        let key = s(r, "RouteKey").unwrap_or_default().to_owned();
        let (method, path) = match key.split_once(' ') {
            Some((m, p)) => (m.to_ascii_uppercase(), Some(p.to_owned())),
            None if key == "$default" => ("ANY".to_owned(), None),
            None => {
                return Err(err(format!(
                    "route key {key:?} is neither `METHOD /path` nor `$default`"
                )))
            }
        };
        let target = match s(r, "Target").and_then(|t| t.strip_prefix("integrations/")) {
            Some(i) => match integrations.get(i) {
                Some(t) => t.clone(),
                None => {
                    return Err(err(format!(
                        "route {key} targets integrations/{i}, which is not one of the API's"
                    )))
                }
            },
            None => Target::Unsupported(format!("route {key} has no `integrations/<id>` target")),
        };
        let auth = match s(r, "AuthorizationType").unwrap_or("NONE") {
            "NONE" => Auth::None,
            "AWS_IAM" => Auth::Iam,
            "JWT" => {
                let authorizer_id = s(r, "AuthorizerId").unwrap_or_default();
                let a = authorizers.get(authorizer_id).cloned().ok_or_else(|| {
                    err(format!("route {key} names authorizer {authorizer_id:?}, which is not one of the API's"))
                })?;
                Auth::Jwt { authorizer: a, scopes: strings(r.properties.get("AuthorizationScopes")) }
            }
            other => return Err(err(format!("route {key} has AuthorizationType {other}; cfnkit-local serves NONE, AWS_IAM and JWT"))),
        };
        routes.push(Route {
            method,
            path,
            key,
            auth,
            target,
            validate_body: false,
            validate_parameters: false,
            required: Vec::new(),
            models: BTreeMap::new(),
        });
    }
    let cors = api.properties.get("CorsConfiguration").map(|c| HttpCors {
        allow_origins: strings(c.get("AllowOrigins")),
        allow_methods: strings(c.get("AllowMethods")),
        allow_headers: strings(c.get("AllowHeaders")),
        expose_headers: strings(c.get("ExposeHeaders")),
        allow_credentials: c
            .get("AllowCredentials")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        max_age: c.get("MaxAge").and_then(Value::as_i64),
    });
    let stage = of_api("AWS::ApiGatewayV2::Stage")
        .find_map(|st| s(st, "StageName").map(str::to_owned))
        .unwrap_or_else(|| "$default".to_owned());
    Ok(ApiDef {
        stack: stack.to_owned(),
        logical_id: api.logical_id.clone(),
        kind: ApiKind::Http,
        id,
        stage,
        routes,
        gateway_responses: HashMap::new(),
        cors,
    })
}
