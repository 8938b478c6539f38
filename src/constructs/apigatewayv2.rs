//! API Gateway v2 HTTP APIs: [`HttpApi`] with routes (`POST /orders`) to Lambda proxy integrations (payload
//! format 2.0), IAM or JWT (Cognito) authorization per route, optional CORS, and the `$default` stage deployed
//! automatically, with JSON access logs and throttling.
//!
//! ```
//! use cfnkit::constructs::apigatewayv2::{HttpApi, HttpApiProps, HttpLambdaIntegration, RouteOptions};
//! use cfnkit::constructs::lambda::Function;
//! # fn main() -> Result<(), cfnkit::constructs::ConstructError> {
//! let app = cfnkit::App::new();
//! let stack = app.stack("Orders");
//! let api = HttpApi::new(&stack.scope(), "Api", HttpApiProps::default())?;
//! let create = Function::from_arn("CreateOrder", "arn:aws:lambda:eu-west-1:111122223333:function:create")?;
//! api.add_route("POST /orders", HttpLambdaIntegration::new(&create, Default::default()), RouteOptions::default())?;
//! # Ok(()) }
//! ```
//!
//! HTTP APIs have no execution logs (cdk-nag's APIG6 is about REST APIs), no request validation against a
//! model, and no stage cache. Their access logs do not go through the account's CloudWatch role (REST APIs'
//! do, see [`super::apigateway::ApiGatewayAccount`]): CloudWatch Logs delivers them as vended logs, which asks
//! the principal that deploys the stack for `logs:CreateLogDelivery` and the related log-delivery permissions.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{Val, Value};
use cfnkit_l1::apigatewayv2 as l1;
use l1::route::AuthorizationType;

use super::apigateway::{
    access_log_group, arn_path, check_path_part, execute_api_arn, invoke_permission,
    AccessLogFormat, ArnTarget, Throttling, HTTP_METHODS,
};
use super::cloudwatch::{Metric, Statistic};
use super::iam::{Grant, Grantable};
use super::kms::Key;
use super::logs::{LogGroup, Retention};
use super::{actions, human, path_of, Construct, ConstructError, LambdaTarget, OwnScope};
use crate::{fns, AsScope};

/// The fields of [`AccessLogFormat::JsonStandardFields`] for HTTP APIs.
const HTTP_LOG_FIELDS: &[(&str, &str)] = &[
    ("requestId", "$context.requestId"),
    ("ip", "$context.identity.sourceIp"),
    ("requestTime", "$context.requestTime"),
    ("httpMethod", "$context.httpMethod"),
    ("routeKey", "$context.routeKey"),
    ("path", "$context.path"),
    ("status", "$context.status"),
    ("protocol", "$context.protocol"),
    ("responseLength", "$context.responseLength"),
    ("responseLatency", "$context.responseLatency"),
    ("integrationLatency", "$context.integrationLatency"),
    ("integrationStatus", "$context.integrationStatus"),
    ("errorMessage", "$context.error.message"),
    (
        "integrationErrorMessage",
        "$context.integrationErrorMessage",
    ),
    ("authorizerError", "$context.authorizer.error"),
];

/// The HTTP API's stage: the one stage, deployed on every change.
pub const DEFAULT_STAGE: &str = "$default";

pub use super::cors::Cors;

/// Props of an [`HttpApi`].
#[derive(Clone, Debug)]
pub struct HttpApiProps<'a> {
    /// The API name. Without it the API is named `<stack name>-<id>`, unique per stack and region.
    pub api_name: Option<Val<String>>,
    /// What the API is for. Without it the API has no description.
    pub description: Option<String>,
    /// CORS (the API's `CorsConfiguration`): API Gateway answers preflight `OPTIONS` requests itself, before
    /// routes and authorizers, and adds the CORS headers to every response. Without it API Gateway adds no CORS
    /// headers and scripts on other origins cannot read the answers.
    pub cors: Option<Cors>,
    /// Throttling of every route. Without it 100 requests per second with bursts of 200
    /// ([`Throttling::default`]).
    pub throttling: Throttling,
    /// Per-route CloudWatch metrics. On unless turned off.
    pub detailed_metrics: bool,
    /// The access log line. Without it JSON with the standard fields.
    pub access_log_format: AccessLogFormat,
    /// How long the access log group (`<id>/AccessLogs`) keeps events. Without it one year.
    pub access_log_retention: Retention,
    /// A customer-managed key for the access log group. Without it CloudWatch Logs encrypts with its own keys
    /// (checkov's CKV_AWS_158 asks for a customer-managed key).
    pub access_log_encryption_key: Option<&'a Key>,
}

impl Default for HttpApiProps<'_> {
    fn default() -> Self {
        HttpApiProps {
            api_name: None,
            description: None,
            cors: None,
            throttling: Throttling::default(),
            detailed_metrics: true,
            access_log_format: AccessLogFormat::JsonStandardFields,
            access_log_retention: Retention::default(),
            access_log_encryption_key: None,
        }
    }
}

#[derive(Debug, Default)]
struct HttpApiState {
    routes: BTreeSet<String>,
    authorizers: BTreeSet<String>,
}

/// [`HttpApiProps`] as [`HttpApiProps::validate`] accepted them.
struct CheckedHttpApiProps {
    access_log_format: String,
    /// In whole seconds.
    cors_max_age: Option<i64>,
}

impl HttpApiProps<'_> {
    /// Every check of the props, before anything is built: throttling, the access log format, CORS.
    fn validate(&self, path: &str) -> Result<CheckedHttpApiProps, ConstructError> {
        self.throttling.check(path)?;
        Ok(CheckedHttpApiProps {
            access_log_format: self.access_log_format.render(path, HTTP_LOG_FIELDS)?,
            cors_max_age: self
                .cors
                .as_ref()
                .map(|c| c.check(path))
                .transpose()?
                .flatten(),
        })
    }
}

/// An HTTP API with its `$default` stage.
///
/// - The API is `<id>` (logical ID `<Id>`), its stage `<Id>DefaultStage` (auto-deployed, access logs in JSON to
///   `<Id>AccessLogs`, throttling, detailed metrics).
/// - A route `POST /orders/{id}` is `<Id>POSTOrdersId`, with its integration `<Id>POSTOrdersIdIntegration`
///   (Lambda proxy, payload format 2.0) and the Lambda permission `<Id>POSTOrdersIdPermission`, scoped to this
///   API, method and path. Routes are authorized with IAM unless told otherwise (cdk-nag APIG4).
#[derive(Clone, Debug)]
pub struct HttpApi {
    scope: OwnScope,
    handle: l1::ApiHandle,
    stage: l1::StageHandle,
    access_logs: LogGroup,
    state: Rc<RefCell<HttpApiState>>,
}

impl HttpApi {
    /// An HTTP API at `<scope>/<id>` (logical ID `<Id>`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: HttpApiProps<'_>,
    ) -> Result<HttpApi, ConstructError> {
        let scope = scope.as_scope().child(id);
        let checked = props.validate(scope.path())?;
        let name = props
            .api_name
            .unwrap_or_else(|| fns::sub(format!("${{AWS::StackName}}-{id}")));
        let handle: l1::ApiHandle = scope.add(
            "Resource",
            l1::Api {
                name: Some(name),
                protocol_type: Some(l1::api::ProtocolType::Http.into()),
                description: props.description.map(Val::from),
                cors_configuration: props.cors.map(|c| Val::from(cors(c, checked.cors_max_age))),
                ..Default::default()
            },
        );
        let access_logs = access_log_group(
            &scope,
            props.access_log_retention,
            props.access_log_encryption_key,
            "HttpApiProps.access_log_encryption_key",
        )?;
        let stage: l1::StageHandle = scope.add(
            "DefaultStage",
            l1::Stage {
                api_id: Some(handle.ref_()),
                stage_name: Some(DEFAULT_STAGE.into()),
                auto_deploy: Some(true.into()),
                access_log_settings: Some(Val::from(l1::stage::AccessLogSettings {
                    destination_arn: Some(access_logs.log_group_arn()),
                    format: Some(checked.access_log_format.into()),
                })),
                default_route_settings: Some(Val::from(l1::stage::RouteSettings {
                    throttling_rate_limit: Some(props.throttling.rate_limit.into()),
                    throttling_burst_limit: Some(i64::from(props.throttling.burst_limit).into()),
                    detailed_metrics_enabled: Some(props.detailed_metrics.into()),
                    ..Default::default()
                })),
                ..Default::default()
            },
        );
        Ok(HttpApi {
            scope: OwnScope(scope),
            handle,
            stage,
            access_logs,
            state: Rc::new(RefCell::new(HttpApiState::default())),
        })
    }

    /// Adds the route `route_key` (`POST /orders`, `GET /orders/{id}`, `ANY /files/{proxy+}` or `$default`) to
    /// `integration`: an [`HttpLambdaIntegration`], or `&function` for one with its defaults.
    pub fn add_route(
        &self,
        route_key: &str,
        integration: impl Into<HttpLambdaIntegration>,
        options: RouteOptions<'_>,
    ) -> Result<Route, ConstructError> {
        let path = self.path().to_owned();
        let (method, route_path) = parse_route_key(&path, route_key)?;
        let route_key = match &method {
            Some(m) => format!("{m} {route_path}"),
            None => route_key.to_owned(),
        };
        if !self.state.borrow_mut().routes.insert(route_key.clone()) {
            return Err(ConstructError::conflict(
                &path,
                format!("route {route_key} already exists: each route key is routed once"),
            ));
        }
        let integration = integration.into();
        let timeout = integration.props.validate(&path)?;
        let (auth_type, authorizer_id) = match options.authorization {
            HttpAuthorization::None => (AuthorizationType::None, None),
            HttpAuthorization::Iam => (AuthorizationType::AwsIam, None),
            HttpAuthorization::Jwt(a) => (AuthorizationType::Jwt, Some(a.authorizer_id())),
        };
        if !options.authorization_scopes.is_empty() && auth_type != AuthorizationType::Jwt {
            return Err(ConstructError::conflict(
                &path,
                format!(
                    "authorization_scopes of route {route_key} need a JWT authorizer \
                     (HttpAuthorization::Jwt(&authorizer)), got {}",
                    auth_type.as_str()
                ),
            ));
        }

        let scope = self
            .scope
            .child(&route_construct_id(method.as_deref(), &route_path));
        let l1_integration: l1::IntegrationHandle = scope.add(
            "Integration",
            l1::Integration {
                api_id: Some(self.api_id()),
                integration_type: Some(l1::integration::IntegrationType::AwsProxy.into()),
                integration_uri: Some(integration.function_arn.clone()),
                payload_format_version: Some(l1::integration::PayloadFormatVersion::V2_0.into()),
                timeout_in_millis: timeout.map(Val::from),
                ..Default::default()
            },
        );
        let handle: l1::RouteHandle = scope.add(
            "Resource",
            l1::Route {
                api_id: Some(self.api_id()),
                route_key: Some(route_key.clone().into()),
                target: Some(fns::join(
                    "/",
                    Val::from_raw(Value::list([
                        Value::from("integrations"),
                        l1_integration.ref_().into_raw(),
                    ])),
                )),
                authorization_type: Some(auth_type.into()),
                authorizer_id,
                authorization_scopes: (!options.authorization_scopes.is_empty())
                    .then(|| Val::from(options.authorization_scopes.clone())),
                operation_name: options.operation_name.clone().map(Val::from),
                ..Default::default()
            },
        );
        if let Some(schema) = &options.request_schema {
            handle.add_metadata(crate::openapi::REQUEST_SCHEMA_METADATA, schema.clone());
        }
        let source = match &method {
            // Any stage of this API (it has one, `$default`), this method and path.
            Some(m) => self.arn_for_execute_api(m, &route_path),
            None => execute_api_arn(self.api_id(), "*/*"),
        };
        invoke_permission(&scope, "Permission", &integration.as_target(), source);
        Ok(Route {
            handle,
            integration: l1_integration,
            route_key,
        })
    }

    /// A JWT authorizer (`<id>/<authorizer id>`) accepting tokens from `issuer` (an `https://` URL) for one of
    /// `audience` (client ids), read from the `Authorization` header.
    pub fn add_jwt_authorizer(
        &self,
        id: &str,
        issuer: impl Into<Val<String>>,
        audience: impl IntoIterator<Item = Val<String>>,
    ) -> Result<HttpAuthorizer, ConstructError> {
        let issuer = issuer.into();
        if let Value::String(s) = issuer.raw() {
            if !s.starts_with("https://") {
                return Err(ConstructError::invalid(
                    self.path(),
                    format!("a JWT issuer is an https:// URL, got {s:?}"),
                ));
            }
        }
        let audience: Vec<Val<String>> = audience.into_iter().collect();
        if audience.is_empty() {
            return Err(ConstructError::invalid(
                self.path(),
                format!("JWT authorizer {id} needs at least one audience (an app client id)"),
            ));
        }
        if !self.state.borrow_mut().authorizers.insert(id.to_owned()) {
            return Err(ConstructError::conflict(
                self.path(),
                format!("an authorizer {id} already exists: give the second one another id"),
            ));
        }
        let handle: l1::AuthorizerHandle = self.scope.add(
            id,
            l1::Authorizer {
                api_id: Some(self.api_id()),
                name: Some(id.into()),
                authorizer_type: Some(l1::authorizer::AuthorizerType::Jwt.into()),
                identity_source: Some(Val::from(vec!["$request.header.Authorization".to_owned()])),
                jwt_configuration: Some(Val::from(l1::authorizer::JwtConfiguration {
                    issuer: Some(issuer),
                    audience: Some(Val::from_raw(Value::List(
                        audience.into_iter().map(Val::into_raw).collect(),
                    ))),
                })),
                ..Default::default()
            },
        );
        Ok(HttpAuthorizer { handle })
    }

    /// A JWT authorizer for a Cognito user pool, given by ARN (an L1 pool's `attr_arn()`): the issuer is the
    /// pool's `https://cognito-idp.<region>.<url suffix>/<pool id>`, the audience its app client ids.
    pub fn add_cognito_authorizer(
        &self,
        id: &str,
        user_pool_arn: impl Into<Val<String>>,
        client_ids: impl IntoIterator<Item = Val<String>>,
    ) -> Result<HttpAuthorizer, ConstructError> {
        // arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>
        let pool_id: Val<String> = fns::select(1, fns::split("/", user_pool_arn));
        let issuer = fns::sub_with(
            "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${PoolId}",
            [("PoolId", pool_id)],
        );
        self.add_jwt_authorizer(id, issuer, client_ids)
    }

    /// Lets the grantee call `http_method` (or `*`) on `path` of IAM-authorized routes.
    pub fn grant_invoke(
        &self,
        grantee: &(impl Grantable + ?Sized),
        http_method: &str,
        path: &str,
    ) -> Grant {
        grantee.grant_role().grant(
            actions::EXECUTE_API_INVOKE,
            [self.arn_for_execute_api(http_method, path)],
        )
    }

    /// `arn:...:execute-api:<region>:<account>:<api id>/*/<METHOD>/<path>` (any stage), path parameters as `*`.
    pub fn arn_for_execute_api(&self, http_method: &str, path: &str) -> Val<String> {
        let method = match http_method {
            "ANY" => "*".to_owned(),
            m => m.to_ascii_uppercase(),
        };
        execute_api_arn(self.api_id(), &format!("*/{method}{}", arn_path(path)))
    }

    /// The API's URL: `https://<api id>.execute-api.<region>.<url suffix>/`.
    pub fn url(&self) -> Val<String> {
        fns::sub_with(
            "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/",
            [("Api", self.api_id())],
        )
    }
    /// The API id.
    pub fn api_id(&self) -> Val<String> {
        self.handle.ref_()
    }
    /// The `$default` stage.
    pub fn default_stage(&self) -> &l1::StageHandle {
        &self.stage
    }
    /// The access log group.
    pub fn access_log_group(&self) -> &LogGroup {
        &self.access_logs
    }
    /// A metric of the API (`AWS/ApiGateway`, dimensions `ApiId` and `Stage`).
    pub fn metric(&self, metric_name: &str) -> Metric {
        Metric::new("AWS/ApiGateway", metric_name)
            .dimension("ApiId", self.api_id())
            .dimension("Stage", DEFAULT_STAGE)
    }
    /// `5xx`: requests that failed on the server side (sum over 5 minutes).
    pub fn metric_5xx_error(&self) -> Metric {
        self.metric("5xx").statistic(Statistic::Sum)
    }
    /// `4xx`: requests refused as the client's fault (sum over 5 minutes).
    pub fn metric_4xx_error(&self) -> Metric {
        self.metric("4xx").statistic(Statistic::Sum)
    }
    /// `Count`: requests (sum over 5 minutes).
    pub fn metric_count(&self) -> Metric {
        self.metric("Count").statistic(Statistic::Sum)
    }
    /// `Latency`: time from request to response, p99 over 5 minutes.
    pub fn metric_latency(&self) -> Metric {
        self.metric("Latency")
            .statistic(Statistic::Percentile(99.0))
    }
}

impl Construct for HttpApi {
    type L1 = l1::Api;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::ApiHandle {
        &self.handle
    }
}

/// The API's `CorsConfiguration` from [`Cors`] options that [`Cors::check`] accepted (with their `max_age` in
/// seconds).
fn cors(c: Cors, max_age: Option<i64>) -> l1::api::Cors {
    let list = |v: Vec<String>| (!v.is_empty()).then(|| Val::from(v));
    l1::api::Cors {
        allow_origins: list(c.allow_origins),
        allow_methods: list(c.allow_methods),
        allow_headers: list(c.allow_headers),
        expose_headers: list(c.expose_headers),
        allow_credentials: c.allow_credentials.then(|| true.into()),
        max_age: max_age.map(Val::from),
    }
}

/// `POST /orders/{id}` as `(Some("POST"), "/orders/{id}")`; `$default` as `(None, "$default")`.
fn parse_route_key(api: &str, key: &str) -> Result<(Option<String>, String), ConstructError> {
    if key == "$default" {
        return Ok((None, key.to_owned()));
    }
    let bad = |why: String| {
        ConstructError::invalid(
            api,
            format!("a route key is `<METHOD> <path>` (`POST /orders/{{id}}`) or `$default`: {why}, got {key:?}"),
        )
    };
    let Some((method, path)) = key.split_once(' ') else {
        return Err(bad("no space between method and path".into()));
    };
    let method = method.to_ascii_uppercase();
    if !HTTP_METHODS.contains(&method.as_str()) {
        return Err(bad(format!(
            "the method must be one of {}",
            HTTP_METHODS.join(", ")
        )));
    }
    if !path.starts_with('/') || path.contains("//") || (path.len() > 1 && path.ends_with('/')) {
        return Err(bad("the path starts with `/` and has no empty part".into()));
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        check_path_part(part, i + 1 == parts.len()).map_err(bad)?;
    }
    Ok((Some(method), path.to_owned()))
}

/// The construct id of a route: `POST_orders_{id}` (logical ID part `POSTOrdersId`); `DefaultRoute`.
fn route_construct_id(method: Option<&str>, path: &str) -> String {
    match method {
        None => "DefaultRoute".to_owned(),
        Some(m) => {
            let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
            if parts.is_empty() {
                format!("{m}_root")
            } else {
                format!("{m}_{}", parts.join("_"))
            }
        }
    }
}

/// Props of an [`HttpLambdaIntegration`].
#[derive(Clone, Debug, Default)]
pub struct HttpLambdaIntegrationProps {
    /// How long API Gateway waits for the function (50 milliseconds to 30 seconds). Without it 30 seconds.
    pub timeout: Option<Duration>,
}

impl HttpLambdaIntegrationProps {
    /// Every check of the props (errors name the API at `path`); returns the timeout in milliseconds.
    fn validate(&self, path: &str) -> Result<Option<i64>, ConstructError> {
        match self.timeout {
            Some(t) if t < Duration::from_millis(50) || t > Duration::from_secs(30) => {
                Err(ConstructError::invalid(
                    path,
                    format!(
                        "the integration timeout must be from 50 milliseconds to 30 seconds, got {}",
                        human(t)
                    ),
                ))
            }
            t => Ok(t.map(|t| t.as_millis() as i64)),
        }
    }
}

/// A Lambda proxy integration of an HTTP API, with payload format 2.0 (the event `aws_lambda_events`'
/// `ApiGatewayV2httpRequest` reads).
#[derive(Clone, Debug)]
pub struct HttpLambdaIntegration {
    function_arn: Val<String>,
    props: HttpLambdaIntegrationProps,
}

impl HttpLambdaIntegration {
    /// Proxies requests to `function`; the route gets a permission to invoke it.
    pub fn new(function: &(impl LambdaTarget + ?Sized), props: HttpLambdaIntegrationProps) -> Self {
        HttpLambdaIntegration {
            function_arn: function.function_arn(),
            props,
        }
    }
    fn as_target(&self) -> ArnTarget {
        ArnTarget(self.function_arn.clone())
    }
}

/// `&function` for `HttpLambdaIntegration::new(&function, Default::default())`, so that a route to a function
/// with the integration's defaults is `api.add_route("POST /orders", &function, RouteOptions::default())`.
impl<T: LambdaTarget + ?Sized> From<&T> for HttpLambdaIntegration {
    fn from(function: &T) -> Self {
        HttpLambdaIntegration::new(function, HttpLambdaIntegrationProps::default())
    }
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, Default)]
pub enum HttpAuthorization<'a> {
    /// Anyone: the rule pack's APIG4 fails until suppressed with a reason ([`Route::allow_unauthenticated`]).
    None,
    /// SigV4-signed callers whose IAM policy allows `execute-api:Invoke` ([`HttpApi::grant_invoke`]).
    #[default]
    Iam,
    /// Bearer tokens checked by a JWT authorizer of the API.
    Jwt(&'a HttpAuthorizer),
}

/// Options of a route.
#[derive(Clone, Debug, Default)]
pub struct RouteOptions<'a> {
    /// Who may call. Without it IAM.
    pub authorization: HttpAuthorization<'a>,
    /// Scopes a JWT must carry (one of them). Without any, any valid token passes.
    pub authorization_scopes: Vec<String>,
    /// The operation name. Without it none.
    pub operation_name: Option<String>,
    /// The JSON Schema of the request body, from the Rust type the handler parses
    /// ([`crate::constructs::apigateway::model_schema_of`]). HTTP APIs do not validate bodies: it documents the
    /// route's body in the API's OpenAPI document ([`crate::openapi`]), carried in the route's metadata. Without
    /// it the document names no body.
    pub request_schema: Option<serde_json::Value>,
}

/// A route of an [`HttpApi`].
#[derive(Clone, Debug)]
pub struct Route {
    handle: l1::RouteHandle,
    integration: l1::IntegrationHandle,
    route_key: String,
}

impl Route {
    /// Records why this route is open to anyone: suppresses the rule pack's APIG4 on it with `reason`. (checkov
    /// 3.3's CloudFormation checks have no route authorization check; its CKV_AWS_309 is Terraform-only.)
    pub fn allow_unauthenticated(&self, reason: &str) {
        crate::rules::suppress(&self.handle, &crate::rules::APIG4, reason);
    }
    /// The route key (`POST /orders`).
    pub fn route_key(&self) -> &str {
        &self.route_key
    }
    /// The integration.
    pub fn integration(&self) -> &l1::IntegrationHandle {
        &self.integration
    }
}

impl Construct for Route {
    type L1 = l1::Route;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::RouteHandle {
        &self.handle
    }
}

/// A JWT authorizer of an [`HttpApi`].
#[derive(Clone, Debug)]
pub struct HttpAuthorizer {
    handle: l1::AuthorizerHandle,
}

impl HttpAuthorizer {
    /// The authorizer id.
    pub fn authorizer_id(&self) -> Val<String> {
        self.handle.ref_()
    }
}

impl Construct for HttpAuthorizer {
    type L1 = l1::Authorizer;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::AuthorizerHandle {
        &self.handle
    }
}
