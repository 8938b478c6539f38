//! A whole local run: model, moto, provisioning, functions, proxy, event sources, in that order, and the
//! orderly stop that ends every process it started.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use crate::functions::{build, FunctionRunner, FunctionSpec, LogSink, RunnerConfig};
use crate::iam::FunctionRoles;
use crate::invoke::{FunctionRef, Invoke, InvokeError};
use crate::model::{LoadOptions, LocalApp, ModelError, Templates};
use crate::moto::client::MotoClient;
use crate::moto::{self, MotoError, MotoInstall, MotoServer};
use crate::provision::{self, NotRun, ProvisionError};
use crate::proxy::{LambdaApi, Proxy, ProxyConfig};
use crate::sources::asynchronous::{AsyncConfig, AsyncInvoker};
use crate::sources::{self, sqs, streams};
use crate::trace::{Counted, Summary, Tracer};

/// The APIs an [`ApiServer`] serves: what the ready line prints, and what stops them.
pub struct ServedApis {
    /// Each API's label and local URL.
    pub urls: Vec<(String, String)>,
    /// Stops serving them (the run awaits it on stop).
    pub stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

/// Why an [`ApiServer`] could not serve the APIs.
pub type ApisError = Box<dyn std::error::Error + Send + Sync>;

/// A starting [`ApiServer`]: the APIs it serves, or why it could not start.
pub type ApisStarting =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<ServedApis, ApisError>> + Send>>;

/// Where the Lambda Invoke API sends invocations, set once the functions run.
type LambdaTarget = Arc<OnceLock<(Arc<dyn Invoke>, Arc<AsyncInvoker>)>>;

/// Serves an app's HTTP APIs ([`crate::apigw::LocalApis`] by default): which resource types it serves, and a
/// start that answers with each API's label and local URL.
pub trait ApiServer: Send + Sync {
    /// The CloudFormation types it serves (left out of the not-run list).
    fn served_types(&self) -> Vec<&'static str>;
    /// Starts serving every API of `app`, invoking functions through `invoker`.
    fn start(&self, app: Arc<LocalApp>, invoker: Arc<dyn Invoke>) -> ApisStarting;
}

/// How to run the app.
#[derive(Clone)]
pub struct LocalOptions {
    /// Stacks to run, with the stacks they import from (all when empty).
    pub stacks: Vec<String>,
    /// Parameter values (`KEY` or `STACK:KEY`).
    pub parameters: BTreeMap<String, String>,
    /// The cargo workspace the functions' packages are in.
    pub workspace: PathBuf,
    /// The port of the AWS endpoint (the proxy); a free one when `None`.
    pub port: Option<u16>,
    /// Build the handlers with `--release`.
    pub release: bool,
    /// Print each event's path.
    pub trace: bool,
    /// The region the emulator plays.
    pub region: String,
    /// Processes per function without reserved concurrency.
    pub default_concurrency: usize,
    /// Where the functions' output goes (printed as `<name> | <line>` when `None`).
    pub logs: Option<LogSink>,
    /// Pacing of asynchronous retries.
    pub async_config: AsyncConfig,
    /// Event sources and asynchronous invocations deliver every event twice, concurrently
    /// ([`sources::DeliverTwice`]).
    pub deliver_twice: bool,
    /// Serves the REST and HTTP APIs (they are listed as not run when `None`).
    pub apis: Option<Arc<dyn ApiServer>>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            stacks: Vec::new(),
            parameters: BTreeMap::new(),
            workspace: PathBuf::from("."),
            port: None,
            release: false,
            trace: false,
            region: crate::model::DEFAULT_REGION.to_owned(),
            default_concurrency: 4,
            logs: None,
            async_config: AsyncConfig::default(),
            deliver_twice: false,
            apis: Some(Arc::new(crate::apigw::LocalApis::default())),
        }
    }
}

/// Why the run could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The app could not be loaded or resolved.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// moto could not be found, installed or started.
    #[error(transparent)]
    Moto(#[from] MotoError),
    /// A resource could not be created in moto.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    /// The handlers did not build.
    #[error(transparent)]
    Build(#[from] build::BuildError),
    /// The endpoint's port is taken.
    #[error("port {port} is in use ({message}): stop what listens there (another cargo cfn local?) or choose another with --port")]
    PortBusy {
        /// The port.
        port: u16,
        /// The OS's words.
        message: String,
    },
    /// A handler failed at start.
    #[error("{0}\nfix the handler or its environment (the function's Environment in the stack), then start again")]
    HandlerStart(InvokeError),
    /// The REST and HTTP APIs could not be served.
    #[error("the APIs could not be served: {0}")]
    Apis(ApisError),
    /// The wiring names something the selected stacks do not have.
    #[error("the event sources name what the selected stacks do not run:\n  {}", .0.join("\n  "))]
    Wiring(Vec<String>),
}

/// The app running on this machine. Stop it with [`LocalRun::stop`]; dropping it also kills every process.
pub struct LocalRun {
    /// The resolved app, with the emulator's attributes.
    pub app: Arc<LocalApp>,
    /// What is not run, by logical ID and type.
    pub not_run: Vec<NotRun>,
    /// Where moto came from.
    pub moto_origin: String,
    proxy: Proxy,
    moto: Option<MotoServer>,
    moto_client: MotoClient,
    runner: Arc<FunctionRunner>,
    invoker: Arc<dyn Invoke>,
    async_invoker: Arc<AsyncInvoker>,
    tracer: Arc<Tracer>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    event_sources: usize,
    /// Each REST and HTTP API's label and local URL.
    pub apis: Vec<(String, String)>,
    stop_apis: Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
    /// How long each phase of the start took, in order.
    pub phases: Vec<(&'static str, std::time::Duration)>,
}

/// Times the phases of a start.
struct Phases(
    Vec<(&'static str, std::time::Duration)>,
    Option<std::time::Instant>,
);

impl Default for Phases {
    fn default() -> Self {
        Phases(Vec::new(), Some(std::time::Instant::now()))
    }
}

impl Phases {
    fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        if let Some(t) = self.1.replace(now) {
            self.0.push((name, now - t));
        }
    }
}

/// Kills moto if the start fails half-way.
struct StartGuard(Option<MotoServer>);

impl LocalRun {
    /// Brings the app up: resolves it, builds the handlers, starts moto, creates the resources, starts the
    /// proxy, the functions (each must start cleanly) and the event sources.
    pub async fn start(
        templates: &Templates,
        options: LocalOptions,
    ) -> Result<LocalRun, LocalError> {
        let mut clock = Phases::default();
        let templates = templates.select(&options.stacks)?;
        let mut load = LoadOptions {
            region: options.region.clone(),
            parameters: options.parameters.clone(),
            ..LoadOptions::default()
        };
        let first = templates.resolve(&load)?;
        let port = options.port.unwrap_or(0);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| LocalError::PortBusy {
                port,
                message: e.to_string(),
            })?;

        // The handlers build while moto starts: neither needs the other.
        let mut specs = FunctionSpec::from_app(&first);
        let workspace = options.workspace.clone();
        let release = options.release;
        let building = tokio::task::spawn_blocking(move || {
            if specs.is_empty() {
                return (specs, Ok(BTreeMap::new()));
            }
            let r = build::resolve_packages(&workspace, &mut specs)
                .and_then(|()| build::build(&workspace, &specs, release));
            (specs, r)
        });
        let starting = async {
            let install: MotoInstall = moto::find_or_install().await?;
            let server = MotoServer::start(&install).await?;
            Ok::<_, MotoError>((install, server))
        };
        let (built, started) = tokio::join!(building, starting);
        let (specs_back, built) = built.expect("the build task does not panic");
        specs = specs_back;
        let (install, binaries, server) = match (built, started) {
            (Ok(binaries), Ok((install, server))) => {
                clock.lap("build and moto");
                (install, binaries, server)
            }
            (Err(e), started) => {
                if let Ok((_, server)) = started {
                    server.stop().await;
                }
                return Err(e.into());
            }
            (Ok(_), Err(e)) => return Err(e.into()),
        };
        let mut guard = StartGuard(Some(server));
        let server = guard.0.as_ref().expect("started");
        let moto_log = server.log.clone();
        let moto_client = MotoClient::in_region(&server.endpoint, &options.region);
        load.actual = provision::provision(&first, &moto_client).await?;
        clock.lap("provisioning");
        let app = Arc::new(templates.resolve(&load)?);
        // The specs again, from the final model (environments may name stream or secret ARNs).
        let packages: BTreeMap<FunctionRef, Option<String>> = specs
            .iter()
            .map(|s| (s.function.clone(), s.package.clone()))
            .collect();
        let specs: Vec<FunctionSpec> = FunctionSpec::from_app(&app)
            .into_iter()
            .map(|mut s| {
                s.package = packages.get(&s.function).cloned().flatten();
                s
            })
            .collect();

        let (shutdown, shutdown_rx) = watch::channel(false);
        let tracer = Tracer::new(options.trace);
        let (tap_tx, mut tap_rx) = mpsc::unbounded_channel();
        let lambda_target: LambdaTarget = Arc::new(OnceLock::new());
        let denial_tracer = tracer.clone();
        let proxy = Proxy::start(
            listener,
            ProxyConfig {
                moto: moto_client.clone(),
                account: app.account.clone(),
                roles: Arc::new(FunctionRoles::new(&app)),
                denials: Arc::new(move |f, e| denial_tracer.note(&format!("denied: {f}: {e}"))),
                taps: tap_tx,
                lambda: Some(lambda_api(app.clone(), lambda_target.clone())),
                calls: options.trace.then(|| {
                    let tracer = tracer.clone();
                    let sink: crate::proxy::CallSink = Arc::new(move |caller, service, what| {
                        if let Some(f) = caller {
                            tracer.step(&f.to_string(), service, what);
                        }
                    });
                    sink
                }),
            },
        )
        .map_err(|e| LocalError::PortBusy {
            port,
            message: e.to_string(),
        })?;

        let runner = Arc::new(FunctionRunner::new(
            specs,
            &binaries,
            RunnerConfig {
                endpoint_url: proxy.endpoint.clone(),
                region: options.region.clone(),
                default_concurrency: options.default_concurrency,
                logs: options
                    .logs
                    .clone()
                    .unwrap_or_else(crate::functions::print_logs),
            },
        ));
        if let Err(e) = runner.warm_up().await {
            runner.stop().await;
            if let Some(m) = guard.0.take() {
                m.stop().await;
            }
            return Err(LocalError::HandlerStart(e));
        }
        let invoker: Arc<dyn Invoke> = Arc::new(Counted {
            inner: runner.clone(),
            tracer: tracer.clone(),
        });
        // What event sources invoke through; the APIs and synchronous Invoke calls answer their caller once.
        let delivering: Arc<dyn Invoke> = if options.deliver_twice {
            Arc::new(sources::DeliverTwice(invoker.clone()))
        } else {
            invoker.clone()
        };
        let async_invoker = Arc::new(AsyncInvoker::new(
            app.clone(),
            delivering.clone(),
            moto_client.clone(),
            tracer.clone(),
            options.async_config.clone(),
            shutdown_rx.clone(),
        ));
        let _ = lambda_target.set((invoker.clone(), async_invoker.clone()));

        clock.lap("functions");
        let (sqs_mappings, mut problems) = sqs::mappings(&app);
        let (stream_mappings, stream_problems) = streams::mappings(&app);
        problems.extend(stream_problems);
        if !problems.is_empty() {
            runner.stop().await;
            if let Some(m) = guard.0.take() {
                m.stop().await;
            }
            return Err(LocalError::Wiring(problems));
        }
        let mut tasks = Vec::new();
        let event_sources = sqs_mappings.len() + stream_mappings.len();
        for m in stream_mappings {
            tasks.extend(
                streams::start(
                    m,
                    moto_client.clone(),
                    options.region.clone(),
                    app.clone(),
                    delivering.clone(),
                    tracer.clone(),
                    shutdown_rx.clone(),
                )
                .await,
            );
        }
        for m in sqs_mappings {
            tasks.extend(sqs::start(
                m,
                moto_client.clone(),
                options.region.clone(),
                delivering.clone(),
                tracer.clone(),
                shutdown_rx.clone(),
            ));
        }
        let deliverer = async_invoker.clone();
        let mut stop_taps = shutdown_rx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop_taps.wait_for(|s| *s) => return,
                    tap = tap_rx.recv() => match tap {
                        Some(tap) => deliverer.deliver(tap),
                        None => return,
                    },
                }
            }
        }));

        let (apis, stop_apis, served) = match &options.apis {
            Some(server) => match server.start(app.clone(), invoker.clone()).await {
                Ok(apis) => (apis.urls, Some(apis.stop), server.served_types()),
                Err(e) => {
                    let _ = shutdown.send(true);
                    runner.stop().await;
                    if let Some(m) = guard.0.take() {
                        m.stop().await;
                    }
                    return Err(LocalError::Apis(e));
                }
            },
            None => (Vec::new(), None, Vec::new()),
        };
        clock.lap("event sources and APIs");
        let not_run = provision::not_run(&app, &served);
        Ok(LocalRun {
            app,
            not_run,
            moto_origin: format!("{}, log {}", install.origin, moto_log.display()),
            proxy,
            moto: guard.0.take(),
            moto_client,
            runner,
            invoker,
            async_invoker,
            tracer,
            shutdown,
            tasks,
            event_sources,
            apis,
            stop_apis,
            phases: clock.0,
        })
    }

    /// The AWS endpoint of the run (the proxy in front of moto): `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.proxy.endpoint
    }

    /// Invokes functions synchronously, counted in the summary.
    pub fn invoker(&self) -> Arc<dyn Invoke> {
        self.invoker.clone()
    }

    /// Invokes a function asynchronously (retries, then its dead-letter target), as `InvocationType: Event`.
    pub fn invoke_async(&self, function: &FunctionRef, payload: Value) {
        self.async_invoker
            .invoke_async(function.clone(), payload, "Invoke (Event)".to_owned());
    }

    /// A client for moto itself (behind no IAM check), for tests and tools.
    pub fn moto(&self) -> &MotoClient {
        &self.moto_client
    }

    /// The runner of the functions (to replace a binary after a rebuild).
    pub fn runner(&self) -> &Arc<FunctionRunner> {
        &self.runner
    }

    /// Lines noted so far (denials, dead letters, init errors; and each step with `trace`).
    pub fn notes(&self) -> Vec<String> {
        self.tracer.lines()
    }

    /// The one-line report that the run is up, then the resources it does not run.
    pub fn ready_report(&self) -> String {
        let mut s = format!(
            "ready: AWS endpoint {} ({} behind it, IAM checked per function); {} function(s), {} event source mapping(s)",
            self.endpoint(),
            self.moto_origin,
            self.runner.functions().count(),
            self.event_sources
        );
        for (label, url) in &self.apis {
            s.push_str(&format!("\n  API {label}: {url}"));
        }
        if self.not_run.is_empty() {
            s.push_str("\neverything the templates declare runs locally");
        } else {
            s.push_str("\nnot run locally:");
            for n in &self.not_run {
                s.push_str(&format!("\n  {n}"));
            }
        }
        s
    }

    /// Counts so far, with the messages now in dead-letter queues.
    pub async fn summary(&self) -> Summary {
        let mut dlqs: BTreeSet<String> = BTreeSet::new();
        for (_, q) in self.app.of_type("AWS::SQS::Queue") {
            if let Some(arn) = q.properties["RedrivePolicy"]["deadLetterTargetArn"].as_str() {
                dlqs.insert(arn.to_owned());
            }
        }
        for (_, f) in self.app.of_type("AWS::Lambda::Function") {
            if let Some(arn) = f.properties["DeadLetterConfig"]["TargetArn"].as_str() {
                dlqs.insert(arn.to_owned());
            }
        }
        for (_, r) in self.app.of_type("AWS::Events::Rule") {
            for t in r.properties["Targets"].as_array().into_iter().flatten() {
                if let Some(arn) = t["DeadLetterConfig"]["Arn"].as_str() {
                    dlqs.insert(arn.to_owned());
                }
            }
        }
        for (_, m) in self.app.of_type("AWS::Lambda::EventSourceMapping") {
            if let Some(arn) =
                m.properties["DestinationConfig"]["OnFailure"]["Destination"].as_str()
            {
                dlqs.insert(arn.to_owned());
            }
        }
        let mut dead_letters = BTreeMap::new();
        for arn in dlqs {
            let Some((stack, q)) = self.app.find("AWS::SQS::Queue", &arn) else {
                continue;
            };
            let out = self
                .moto_client
                .json(
                    "sqs",
                    "AmazonSQS.GetQueueAttributes",
                    &json!({"QueueUrl": q.physical_id, "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]}),
                )
                .await;
            if let Ok(out) = out {
                let n = |k: &str| {
                    out["Attributes"][k]
                        .as_str()
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                let total =
                    n("ApproximateNumberOfMessages") + n("ApproximateNumberOfMessagesNotVisible");
                if total > 0 {
                    dead_letters.insert(format!("{stack}/{}", q.logical_id), total);
                }
            }
        }
        Summary {
            functions: self.tracer.counts(),
            dead_letters,
        }
    }

    /// Stops the event sources, every function process and moto, and returns the summary.
    pub async fn stop(mut self) -> Summary {
        let summary = self.summary().await;
        if let Some(stop) = self.stop_apis.take() {
            stop.await;
        }
        let _ = self.shutdown.send(true);
        for t in std::mem::take(&mut self.tasks) {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
        self.runner.stop().await;
        if let Some(m) = self.moto.take() {
            m.stop().await;
        }
        summary
    }
}

/// The Lambda Invoke API the proxy serves to handlers (moto cannot run functions).
fn lambda_api(app: Arc<LocalApp>, target: LambdaTarget) -> LambdaApi {
    Arc::new(move |name: String, invocation_type: String, body: Bytes| {
        let app = app.clone();
        let target = target.clone();
        Box::pin(async move {
            let not_found = |m: String| {
                (
                    StatusCode::NOT_FOUND,
                    None,
                    Bytes::from(
                        json!({"__type": "ResourceNotFoundException", "Message": m}).to_string(),
                    ),
                )
            };
            let Some(function) = sources::function_named(&app, &name) else {
                return not_found(format!("Function not found: {name}"));
            };
            let Some((invoker, async_invoker)) = target.get() else {
                return not_found("the local run is still starting".into());
            };
            let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if invocation_type == "Event" {
                async_invoker.invoke_async(function, payload, "Invoke (Event)".into());
                return (StatusCode::ACCEPTED, None, Bytes::new());
            }
            match invoker.invoke(&function, payload).await {
                Ok(v) => (StatusCode::OK, None, Bytes::from(v.to_string())),
                Err(InvokeError::Function { error_type, error_message, .. }) => (
                    StatusCode::OK,
                    Some("Unhandled".to_owned()),
                    Bytes::from(json!({"errorType": error_type, "errorMessage": error_message}).to_string()),
                ),
                Err(InvokeError::Timeout { seconds, .. }) => (
                    StatusCode::OK,
                    Some("Unhandled".to_owned()),
                    Bytes::from(
                        json!({"errorType": "Sandbox.Timedout", "errorMessage": format!("Task timed out after {seconds}.00 seconds")})
                            .to_string(),
                    ),
                ),
                Err(e) => (
                    StatusCode::BAD_GATEWAY,
                    None,
                    Bytes::from(json!({"__type": "ServiceException", "Message": e.to_string()}).to_string()),
                ),
            }
        })
    })
}
