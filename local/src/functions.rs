//! The functions: their binaries built for this machine, run as processes behind a local Lambda Runtime API.
//!
//! Each function has a pool of execution environments (processes), at most its reserved concurrency (or
//! [`RunnerConfig::default_concurrency`]). An invocation takes an idle process or starts one, hands it the
//! event through the Runtime API's `next`, and waits for `response` or `error` within the function's timeout;
//! a process that times out or dies is killed and replaced by the next invocation, as Lambda does.

pub mod build;
pub mod runtime_api;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::{oneshot, watch, Mutex, Semaphore};

use crate::invoke::{FunctionRef, Invoke, InvokeError, InvokeFuture};
use crate::model::LocalApp;
use runtime_api::{Invocation, Outcome, RuntimeApi};

/// How long a new process may take to ask for its first event (Lambda's init phase limit).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the local run needs to know to run one function.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    /// The function.
    pub function: FunctionRef,
    /// Its physical name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The cargo package of its binary; `None` until resolved in the workspace.
    pub package: Option<String>,
    /// The binary.
    pub bin: String,
    /// The template's environment, resolved.
    pub environment: BTreeMap<String, String>,
    /// `Timeout` (3 s when absent).
    pub timeout: Duration,
    /// `MemorySize` in MB (128 when absent).
    pub memory_mb: u64,
    /// `ReservedConcurrentExecutions`, when set.
    pub reserved_concurrency: Option<usize>,
    /// The execution role's ARN.
    pub role_arn: Option<String>,
    /// `DeadLetterConfig.TargetArn`: where failed asynchronous invocations go.
    pub dead_letter_arn: Option<String>,
    /// The log group it writes to.
    pub log_group: String,
}

impl FunctionSpec {
    /// Every function of `app` whose code is a cfnkit asset (the others are listed as not run).
    pub fn from_app(app: &LocalApp) -> Vec<FunctionSpec> {
        let mut out = Vec::new();
        for (stack, r) in app.of_type("AWS::Lambda::Function") {
            let asset = &r.metadata["cfnkit:asset"];
            let Some(bin) = asset.as_str().or(asset["bin"].as_str()) else {
                continue;
            };
            let p = &r.properties;
            let number = |v: &serde_json::Value| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            };
            let environment = p["Environment"]["Variables"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect();
            out.push(FunctionSpec {
                function: FunctionRef {
                    stack: stack.to_owned(),
                    logical_id: r.logical_id.clone(),
                },
                name: r.physical_id.clone(),
                arn: r.arn.clone().unwrap_or_default(),
                package: asset["package"].as_str().map(str::to_owned),
                bin: bin.to_owned(),
                environment,
                timeout: Duration::from_secs(number(&p["Timeout"]).unwrap_or(3)),
                memory_mb: number(&p["MemorySize"]).unwrap_or(128),
                reserved_concurrency: number(&p["ReservedConcurrentExecutions"])
                    .map(|n| n as usize),
                role_arn: p["Role"].as_str().map(str::to_owned),
                dead_letter_arn: p["DeadLetterConfig"]["TargetArn"]
                    .as_str()
                    .map(str::to_owned),
                log_group: p["LoggingConfig"]["LogGroup"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("/aws/lambda/{}", r.physical_id)),
            });
        }
        out
    }
}

/// The access key id a function's process signs with, which tells the proxy who is calling.
pub fn access_key(function: &FunctionRef) -> String {
    format!("LOCAL.{}.{}", function.stack, function.logical_id)
}

/// The function an access key id from [`access_key`] names.
pub fn function_of_access_key(key: &str) -> Option<FunctionRef> {
    let rest = key.strip_prefix("LOCAL.")?;
    let (stack, logical_id) = rest.split_once('.')?;
    Some(FunctionRef {
        stack: stack.to_owned(),
        logical_id: logical_id.to_owned(),
    })
}

/// Where a function's output lines go: the function's name and one line.
pub type LogSink = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// Prints each line as `<function name> | <line>` on stdout.
pub fn print_logs() -> LogSink {
    Arc::new(|name, line| println!("{name} | {line}"))
}

/// How the runner runs processes.
#[derive(Clone)]
pub struct RunnerConfig {
    /// `AWS_ENDPOINT_URL` of every process: the proxy in front of moto.
    pub endpoint_url: String,
    /// `AWS_REGION`.
    pub region: String,
    /// Processes per function when it has no reserved concurrency.
    pub default_concurrency: usize,
    /// Where output lines go.
    pub logs: LogSink,
}

/// Runs the functions of an app: implements [`Invoke`].
pub struct FunctionRunner {
    pools: BTreeMap<FunctionRef, Arc<Pool>>,
    shutdown: watch::Sender<bool>,
    watchers: Arc<StdMutex<Vec<tokio::task::JoinHandle<()>>>>,
}

struct Pool {
    spec: FunctionSpec,
    binary: StdMutex<PathBuf>,
    generation: AtomicU64,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Instance>>,
    config: RunnerConfig,
    shutdown: watch::Receiver<bool>,
    watchers: Arc<StdMutex<Vec<tokio::task::JoinHandle<()>>>>,
}

/// One process and its Runtime API.
struct Instance {
    api: RuntimeApi,
    exited: watch::Receiver<Option<String>>,
    /// Dropping it kills the process.
    _kill: oneshot::Sender<()>,
    stderr_tail: Arc<StdMutex<VecDeque<String>>>,
    generation: u64,
    warm: bool,
}

impl Instance {
    fn alive(&self) -> bool {
        self.exited.borrow().is_none()
    }

    fn tail(&self) -> String {
        let tail = self.stderr_tail.lock().expect("tail lock");
        if tail.is_empty() {
            String::new()
        } else {
            format!(
                "; its last output:\n    {}",
                tail.iter().cloned().collect::<Vec<_>>().join("\n    ")
            )
        }
    }
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// A fresh UUID-shaped request id.
pub fn request_id() -> String {
    let n = REQUESTS.fetch_add(1, Ordering::Relaxed);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let h = Sha256::digest(format!("{n}\0{now}\0{}", std::process::id()).as_bytes());
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

impl FunctionRunner {
    /// A runner for `specs`, whose binaries are at `binaries` (by `(package, bin)`).
    pub fn new(
        specs: Vec<FunctionSpec>,
        binaries: &BTreeMap<build::BinKey, PathBuf>,
        config: RunnerConfig,
    ) -> FunctionRunner {
        let (shutdown, rx) = watch::channel(false);
        let watchers = Arc::new(StdMutex::new(Vec::new()));
        let pools = specs
            .into_iter()
            .filter_map(|spec| {
                let key = (spec.package.clone().unwrap_or_default(), spec.bin.clone());
                let binary = binaries.get(&key)?.clone();
                let concurrency = spec
                    .reserved_concurrency
                    .unwrap_or(config.default_concurrency)
                    .max(1);
                Some((
                    spec.function.clone(),
                    Arc::new(Pool {
                        spec,
                        binary: StdMutex::new(binary),
                        generation: AtomicU64::new(0),
                        permits: Arc::new(Semaphore::new(concurrency)),
                        idle: Mutex::new(Vec::new()),
                        config: config.clone(),
                        shutdown: rx.clone(),
                        watchers: watchers.clone(),
                    }),
                ))
            })
            .collect();
        FunctionRunner {
            pools,
            shutdown,
            watchers,
        }
    }

    /// The functions it runs.
    pub fn functions(&self) -> impl Iterator<Item = &FunctionSpec> {
        self.pools.values().map(|p| &p.spec)
    }

    /// One function's spec.
    pub fn spec(&self, function: &FunctionRef) -> Option<&FunctionSpec> {
        self.pools.get(function).map(|p| &p.spec)
    }

    /// Starts one process per function and waits until each asks for its first event, so a handler that
    /// fails at start is reported before the run is declared ready.
    pub async fn warm_up(&self) -> Result<(), InvokeError> {
        // All at once: each process's init is mostly waiting (SDK configuration, connections).
        let mut starts = tokio::task::JoinSet::new();
        for pool in self.pools.values() {
            let pool = pool.clone();
            starts.spawn(async move {
                let mut instance = pool.spawn().await?;
                pool.await_ready(&mut instance).await?;
                pool.idle.lock().await.push(instance);
                Ok::<(), InvokeError>(())
            });
        }
        let mut first_error = None;
        while let Some(done) = starts.join_next().await {
            if let Ok(Err(e)) = done {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The executable a function's new processes run.
    pub fn binary(&self, function: &FunctionRef) -> Option<PathBuf> {
        self.pools
            .get(function)
            .map(|p| p.binary.lock().expect("binary lock").clone())
    }

    /// Uses `binary` for new processes of `function` from now on; idle processes are stopped, busy ones finish
    /// their invocation first. Queued events wait in their queues meanwhile.
    pub async fn replace_binary(&self, function: &FunctionRef, binary: PathBuf) {
        if let Some(pool) = self.pools.get(function) {
            *pool.binary.lock().expect("binary lock") = binary;
            pool.generation.fetch_add(1, Ordering::SeqCst);
            pool.idle.lock().await.clear();
        }
    }

    /// Stops every process and waits until each is gone.
    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
        for pool in self.pools.values() {
            pool.idle.lock().await.clear();
        }
        let handles: Vec<_> = std::mem::take(&mut *self.watchers.lock().expect("watchers lock"));
        for h in handles {
            let _ = h.await;
        }
    }
}

impl Pool {
    async fn spawn(&self) -> Result<Instance, InvokeError> {
        let f = &self.spec.function;
        let init = |message: String| InvokeError::Init {
            function: f.clone(),
            message,
        };
        let api = RuntimeApi::start()
            .await
            .map_err(|e| init(format!("cannot listen for its Runtime API: {e}")))?;
        let binary = self.binary.lock().expect("binary lock").clone();
        let s = &self.spec;
        let mut cmd = Command::new(&binary);
        // A clean environment, as Lambda's: the user's own AWS settings must not leak into handlers.
        cmd.env_clear();
        for var in ["PATH", "RUST_LOG", "RUST_BACKTRACE", "TMPDIR"] {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        cmd.envs(&s.environment)
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", &s.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", s.memory_mb.to_string())
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &s.log_group)
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local/[$LATEST]local")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_REGION", &self.config.region)
            .env("AWS_DEFAULT_REGION", &self.config.region)
            .env("AWS_ENDPOINT_URL", &self.config.endpoint_url)
            .env("AWS_ACCESS_KEY_ID", access_key(f))
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .env("_HANDLER", "bootstrap")
            .env("TZ", ":UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| init(format!("cannot start {}: {e}", binary.display())))?;
        let tail = Arc::new(StdMutex::new(VecDeque::new()));
        let name = s.name.clone();
        for (stream, keep) in [
            (
                child
                    .stdout
                    .take()
                    .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
                false,
            ),
            (
                child
                    .stderr
                    .take()
                    .map(|e| Box::new(e) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
                true,
            ),
        ] {
            let Some(stream) = stream else { continue };
            let logs = self.config.logs.clone();
            let name = name.clone();
            let tail = tail.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    logs(&name, &line);
                    if keep {
                        let mut t = tail.lock().expect("tail lock");
                        t.push_back(line);
                        if t.len() > 10 {
                            t.pop_front();
                        }
                    }
                }
            });
        }
        let (exit_tx, exit_rx) = watch::channel(None);
        let (kill_tx, kill_rx) = oneshot::channel::<()>();
        let mut shutdown = self.shutdown.clone();
        let watcher = tokio::spawn(async move {
            tokio::select! {
                status = child.wait() => {
                    let _ = exit_tx.send(Some(status.map_or_else(|e| e.to_string(), |s| s.to_string())));
                    return;
                }
                _ = kill_rx => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
            let _ = child.start_kill();
            let status = child.wait().await;
            let _ = exit_tx.send(Some(
                status.map_or_else(|e| e.to_string(), |s| s.to_string()),
            ));
        });
        {
            let mut w = self.watchers.lock().expect("watchers lock");
            w.retain(|h| !h.is_finished());
            w.push(watcher);
        }
        Ok(Instance {
            api,
            exited: exit_rx,
            _kill: kill_tx,
            stderr_tail: tail,
            generation: self.generation.load(Ordering::SeqCst),
            warm: false,
        })
    }

    /// Waits until a new process asks for its first event (its init is over), reporting an init error, an
    /// exit or [`INIT_TIMEOUT`] as Lambda reports a failed init.
    async fn await_ready(&self, instance: &mut Instance) -> Result<(), InvokeError> {
        let f = &self.spec.function;
        let mut exited = instance.exited.clone();
        let failure = tokio::select! {
            r = &mut instance.api.ready => match r {
                Ok(()) => {
                    instance.warm = true;
                    return Ok(());
                }
                Err(_) => "its Runtime API stopped".to_owned(),
            },
            e = &mut instance.api.init_error => match e {
                Ok(e) => format!("init error {}: {}", e.error_type, e.error_message),
                Err(_) => "its Runtime API stopped".into(),
            },
            status = exited.wait_for(Option::is_some) => {
                let status = status.ok().and_then(|s| s.clone()).unwrap_or_default();
                format!("its process exited before asking for an event ({status})")
            }
            _ = tokio::time::sleep(INIT_TIMEOUT) => {
                format!("it did not ask for an event within {} s of starting", INIT_TIMEOUT.as_secs())
            }
        };
        // The pipes may still hold the last lines: give the readers a moment.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(InvokeError::Init {
            function: f.clone(),
            message: format!("{failure}{}", instance.tail()),
        })
    }

    async fn take_instance(&self) -> Result<Instance, InvokeError> {
        let current = self.generation.load(Ordering::SeqCst);
        let mut idle = self.idle.lock().await;
        while let Some(i) = idle.pop() {
            if i.alive() && i.generation == current {
                return Ok(i);
            }
        }
        drop(idle);
        self.spawn().await
    }

    async fn invoke(&self, payload: serde_json::Value) -> Result<serde_json::Value, InvokeError> {
        let f = &self.spec.function;
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| InvokeError::Unknown(f.clone()))?;
        let mut instance = self.take_instance().await?;
        if !instance.warm {
            self.await_ready(&mut instance).await?;
        }
        let (started_tx, _started_rx) = oneshot::channel();
        let (reply_tx, reply_rx) = oneshot::channel();
        let deadline = SystemTime::now() + self.spec.timeout;
        let invocation = Invocation {
            request_id: request_id(),
            payload,
            deadline_ms: deadline
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64,
            function_arn: self.spec.arn.clone(),
            started: started_tx,
            reply: reply_tx,
        };
        let mut exited = instance.exited.clone();
        if instance.api.invocations.send(invocation).await.is_err() {
            return Err(InvokeError::Init {
                function: f.clone(),
                message: "its Runtime API stopped".into(),
            });
        }
        let outcome = tokio::select! {
            r = reply_rx => r,
            status = exited.wait_for(Option::is_some) => {
                let status = status.ok().and_then(|s| s.clone()).unwrap_or_default();
                return Err(InvokeError::Function {
                    function: f.clone(),
                    error_type: "Runtime.ExitError".into(),
                    error_message: format!("RequestId: the process exited during the invocation ({status}){}", instance.tail()),
                });
            }
            _ = tokio::time::sleep(self.spec.timeout) => {
                // `instance` is dropped here, which kills the process, as Lambda stops a timed-out environment.
                return Err(InvokeError::Timeout { function: f.clone(), seconds: self.spec.timeout.as_secs() });
            }
        };
        let result = match outcome {
            Ok(Outcome::Response(body)) => Ok(serde_json::from_slice(&body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&body).into_owned())
            })),
            Ok(Outcome::Error {
                error_type,
                error_message,
            }) => Err(InvokeError::Function {
                function: f.clone(),
                error_type,
                error_message,
            }),
            Err(_) => Err(InvokeError::Init {
                function: f.clone(),
                message: "its Runtime API stopped".into(),
            }),
        };
        if instance.alive() && instance.generation == self.generation.load(Ordering::SeqCst) {
            self.idle.lock().await.push(instance);
        }
        result
    }
}

impl Invoke for FunctionRunner {
    fn invoke<'a>(
        &'a self,
        function: &'a FunctionRef,
        payload: serde_json::Value,
    ) -> InvokeFuture<'a> {
        Box::pin(async move {
            let pool = self
                .pools
                .get(function)
                .ok_or_else(|| InvokeError::Unknown(function.clone()))?;
            pool.invoke(payload).await
        })
    }
}
