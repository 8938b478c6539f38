//! Every REST and HTTP API of the app served on localhost, one port per API, proxying to the functions through
//! [`Invoke`] as API Gateway does.
//!
//! - Routing: REST resource trees (`{id}`, `{proxy+}`, `ANY`) under the stage name (`/prod/orders/1`); HTTP API
//!   route keys and `$default`. An unknown REST route answers 403 `Missing Authentication Token`, an unknown
//!   HTTP route 404 `Not Found`, as API Gateway does.
//! - Events: REST payload 1.0, HTTP payload 2.0 (`aws_lambda_events`), with requestContext (identity,
//!   authorizer output); responses from `statusCode`/`headers`/`multiValueHeaders`/`body`/`isBase64Encoded`
//!   (and 2.0's simple form). A function error or a malformed result answers 502 on REST APIs
//!   (`Internal server error`) and 500 on HTTP APIs (`Internal Server Error`), a timeout 504 / 503.
//! - Validation (REST): required query strings and headers (400 `Missing required request parameters: [..]`)
//!   and the body against the method's draft-04 model (400 `Invalid request body`), when the method's validator
//!   asks for them.
//! - Authorization: `AWS_IAM` takes a SigV4-signed request or the configured [`LocalIdentity`] (none: 403);
//!   Cognito and JWT authorizers read the bearer token's claims (issuer, audience, expiry and scopes checked; the
//!   signature is not) or the local identity (none: 401); Lambda TOKEN and REQUEST authorizers are invoked and
//!   their policy evaluated for `execute-api:Invoke` on the method ARN (Deny: 403), their context passed to the
//!   function, their answers cached for the authorizer's TTL.
//! - CORS: REST preflights are the template's MOCK methods; HTTP APIs answer preflights from their
//!   `CorsConfiguration` and add its headers to responses. REST gateway responses (`DEFAULT_4XX`...) add their
//!   headers to the errors above.
//!
//! - OpenAPI: `GET /openapi.json` on an API's port answers the document synth writes for it
//!   ([`cfnkit::openapi`]), unless the API routes that path itself.
//!
//! Not served: HTTP API Lambda authorizers, non-proxy integrations (answered 500 with the reason), API keys and
//! usage plans, mapping templates, custom domains.

mod auth;
mod handler;
mod proxy;
mod routing;
mod template;

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::invoke::Invoke;
use crate::model::LocalApp;

/// REST or HTTP API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiKind {
    /// `AWS::ApiGateway::RestApi` (payload 1.0).
    Rest,
    /// `AWS::ApiGatewayV2::Api` with `ProtocolType: HTTP` (payload 2.0).
    Http,
}

/// Who calls the APIs locally, for routes that require IAM or a Cognito/JWT authorizer and requests that bring
/// no credentials of their own.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalIdentity {
    /// The IAM caller (requestContext.identity.userArn).
    pub user_arn: String,
    /// The IAM caller's access key id.
    pub access_key: String,
    /// The token's claims for Cognito and JWT authorizers (`sub`, `email`, `cognito:groups`...).
    pub claims: Map<String, Value>,
    /// The access token's OAuth scopes (checked against a route's authorization scopes).
    pub scopes: Vec<String>,
}

impl LocalIdentity {
    /// An identity in `account`: the IAM user `local`, and a signed-in user `local-user`.
    pub fn new(account: &str) -> Self {
        let mut identity = Self::user(account, "local-user");
        identity.user_arn = format!("arn:aws:iam::{account}:user/local");
        identity
    }

    /// An identity in `account` named `name`: the IAM user `name`, and a signed-in user whose `sub` and
    /// `cognito:username` are `name`.
    pub fn user(account: &str, name: &str) -> Self {
        let mut claims = Map::new();
        claims.insert("sub".into(), name.into());
        claims.insert("cognito:username".into(), name.into());
        claims.insert("token_use".into(), "id".into());
        LocalIdentity {
            user_arn: format!("arn:aws:iam::{account}:user/{name}"),
            access_key: "AKIALOCALIDENTITY".into(),
            claims,
            scopes: Vec::new(),
        }
    }
}

/// How the APIs are served.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// The first API's port on 127.0.0.1; the others take the next ones, in the app's order. 0: any free port.
    pub base_port: u16,
    /// The caller of requests that bring no credentials. Without it, such requests to IAM or
    /// Cognito/JWT-authorized routes are refused as API Gateway refuses them.
    pub identity: Option<LocalIdentity>,
}

/// An API being served.
#[derive(Debug)]
pub struct RunningApi {
    /// Its stack.
    pub stack: String,
    /// Its logical ID.
    pub logical_id: String,
    /// REST or HTTP.
    pub kind: ApiKind,
    /// Where it is served, with the stage (`http://127.0.0.1:3000/prod`; HTTP APIs' `$default` stage has none).
    pub url: String,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Display for RunningApi {
    /// `Order/OrderApiGateway (REST API) http://127.0.0.1:3000/prod`, the line `cargo cfn local` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.label(), self.url)
    }
}

impl RunningApi {
    /// `Order/OrderApiGateway (REST API)`.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            ApiKind::Rest => "REST API",
            ApiKind::Http => "HTTP API",
        };
        format!("{}/{} ({kind})", self.stack, self.logical_id)
    }

    /// Stops serving and waits until the listener is closed (connections in flight are dropped).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// The APIs cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ApigwError {
    /// A port is taken.
    #[error(
        "port {port} for the API {api} is in use: stop what listens there or choose another first API port \
         (--api-port of cargo cfn local, ServeOptions::base_port in the library; the APIs take consecutive \
         ports from it), or 0 for any free ports"
    )]
    PortBusy {
        /// The port.
        port: u16,
        /// `<stack>/<logical id>`.
        api: String,
    },
    /// Listening failed otherwise.
    #[error("cannot listen on {addr} for the API {api}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// `<stack>/<logical id>`.
        api: String,
        /// Why.
        source: std::io::Error,
    },
    /// The API's resources cannot be served as they are.
    #[error("the API {api} cannot be served: {problem}")]
    Template {
        /// `<stack>/<logical id>`, with the part concerned.
        api: String,
        /// What is wrong and, where it helps, what to do.
        problem: String,
    },
    /// The base port plus the number of APIs passes 65535.
    #[error("base port {base} leaves no port for API number {index} (the APIs take consecutive ports): choose a lower base port or 0")]
    PortRange {
        /// ServeOptions::base_port.
        base: u16,
        /// The API's position.
        index: usize,
    },
}

/// Serves every REST and HTTP API of the app, each on its own port of 127.0.0.1, until each [`RunningApi`] is
/// shut down (or dropped with its runtime).
pub async fn serve(
    app: &LocalApp,
    invoker: Arc<dyn Invoke>,
    options: ServeOptions,
) -> Result<Vec<RunningApi>, ApigwError> {
    let defs = template::apis(app)?;
    // Bind every port before serving any, so a busy port fails the whole call.
    let mut listeners = Vec::new();
    for (index, def) in defs.iter().enumerate() {
        let port = if options.base_port == 0 {
            0
        } else {
            u16::try_from(options.base_port as usize + index).map_err(|_| {
                ApigwError::PortRange {
                    base: options.base_port,
                    index,
                }
            })?
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let api = format!("{}/{}", def.stack, def.logical_id);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| {
                if source.kind() == std::io::ErrorKind::AddrInUse {
                    ApigwError::PortBusy {
                        port,
                        api: api.clone(),
                    }
                } else {
                    ApigwError::Listen {
                        addr,
                        api: api.clone(),
                        source,
                    }
                }
            })?;
        listeners.push(listener);
    }
    let mut running = Vec::new();
    for (def, listener) in defs.into_iter().zip(listeners) {
        let addr = listener.local_addr().map_err(|source| ApigwError::Listen {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api: format!("{}/{}", def.stack, def.logical_id),
            source,
        })?;
        let stage_path = match (def.kind, def.stage.as_str()) {
            (ApiKind::Http, "$default") => String::new(),
            (_, stage) => format!("/{stage}"),
        };
        let url = format!("http://{addr}{stage_path}");
        let (stack, logical_id, kind) = (def.stack.clone(), def.logical_id.clone(), def.kind);
        let state = Arc::new(handler::ApiState::new(
            def,
            invoker.clone(),
            &options,
            app,
            addr,
            &url,
        ));
        let (shutdown, stop) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(handler::run(listener, state, stop));
        running.push(RunningApi {
            stack,
            logical_id,
            kind,
            url,
            shutdown,
            task,
        });
    }
    Ok(running)
}

/// The resource types [`serve`] reads, left out of the local run's not-run list.
pub const SERVED_TYPES: &[&str] = &[
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
];

/// The local run's API server: [`serve`] behind the [`ApiServer`](crate::run::ApiServer) seam, so every REST
/// and HTTP API of the run is served and invokes the run's function processes.
#[derive(Clone, Debug, Default)]
pub struct LocalApis {
    /// Ports and the local identity.
    pub options: ServeOptions,
}

impl crate::run::ApiServer for LocalApis {
    fn served_types(&self) -> Vec<&'static str> {
        SERVED_TYPES.to_vec()
    }

    fn start(&self, app: Arc<LocalApp>, invoker: Arc<dyn Invoke>) -> crate::run::ApisStarting {
        let options = self.options.clone();
        Box::pin(async move {
            let running = serve(&app, invoker, options).await?;
            let urls = running.iter().map(|a| (a.label(), a.url.clone())).collect();
            let stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
                Box::pin(async move {
                    for api in running {
                        api.shutdown().await;
                    }
                });
            Ok(crate::run::ServedApis { urls, stop })
        })
    }
}
