//! What the local run's tests share: the fixture handlers' package, starting a run of a fixture app with its
//! output captured, and waiting for a condition.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cfnkit::constructs::lambda::Code;
use cfnkit::App;
use cfnkit_local::model::Templates;
use cfnkit_local::run::{LocalError, LocalOptions, LocalRun};

/// The package of the fixture handlers (`local/tests/fixtures/handlers`).
pub const PACKAGE: &str = "local-fixture-handlers";

/// The code of one fixture binary.
pub fn code(bin: &str) -> Code {
    Code::cargo_bin(PACKAGE, bin)
}

/// The workspace the fixture package is in.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Captured function output, as `<name> | <line>`.
#[derive(Clone, Default)]
pub struct Logs(pub Arc<Mutex<Vec<String>>>);

impl Logs {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Starts `app` locally with `options` (workspace, captured logs, fast retries filled in).
pub async fn start_with(
    app: &App,
    mut options: LocalOptions,
) -> Result<(LocalRun, Logs), LocalError> {
    let logs = Logs::default();
    let sink = logs.0.clone();
    options.workspace = workspace();
    options.logs = Some(Arc::new(move |name: &str, line: &str| {
        sink.lock().unwrap().push(format!("{name} | {line}"));
    }));
    options.async_config.retry_delays = vec![Duration::from_millis(200)];
    let templates = Templates::from_app(app).expect("the fixture app synthesizes");
    LocalRun::start(&templates, options)
        .await
        .map(|run| (run, logs))
}

pub async fn start(app: &App) -> (LocalRun, Logs) {
    start_with(app, LocalOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `seconds`.
pub async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {seconds} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
