//! The Lambda Runtime API one execution environment talks to: `next`, `response`, `error`, `init/error`.
//!
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>. Each process gets a listener of its
//! own, so every call is known to come from that process without parsing anything but the path.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Mutex};

/// One invocation handed to the process.
#[derive(Debug)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The event.
    pub payload: serde_json::Value,
    /// `Lambda-Runtime-Deadline-Ms`: milliseconds since the epoch.
    pub deadline_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// Told when the process took the invocation (its init is over).
    pub started: oneshot::Sender<()>,
    /// The outcome.
    pub reply: oneshot::Sender<Outcome>,
}

/// What the process answered.
#[derive(Debug)]
pub enum Outcome {
    /// `POST /runtime/invocation/{id}/response`.
    Response(Bytes),
    /// `POST /runtime/invocation/{id}/error`.
    Error {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        error_message: String,
    },
}

/// What the Runtime API tells its owner besides outcomes.
#[derive(Debug)]
pub struct InitError {
    /// `errorType`.
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
}

struct State {
    queue: Mutex<mpsc::Receiver<Invocation>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<oneshot::Sender<InitError>>>,
    ready: Mutex<Option<oneshot::Sender<()>>>,
}

/// A Runtime API listener for one process.
pub struct RuntimeApi {
    /// `127.0.0.1:<port>`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    /// Where invocations are queued for the process.
    pub invocations: mpsc::Sender<Invocation>,
    /// Fires once if the process reports an init error.
    pub init_error: oneshot::Receiver<InitError>,
    /// Fires when the process first asks for an event: its init is over.
    pub ready: oneshot::Receiver<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Binds a listener on a free port and serves the Runtime API on it.
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let (tx, rx) = mpsc::channel(1);
        let (init_tx, init_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let state = Arc::new(State {
            queue: Mutex::new(rx),
            in_flight: Mutex::default(),
            init_error: Mutex::new(Some(init_tx)),
            ready: Mutex::new(Some(ready_tx)),
        });
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(&state, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(RuntimeApi {
            address,
            invocations: tx,
            init_error: init_rx,
            ready: ready_rx,
            server,
        })
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

fn accepted() -> Response<Full<Bytes>> {
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

/// `errorType` and `errorMessage` of an error body (the runtime's JSON, or the `Lambda-Runtime-Function-Error-Type`
/// header with a raw body).
fn error_of(headers: &hyper::HeaderMap, body: &[u8]) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    let error_type = v["errorType"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Unhandled".to_owned());
    let error_message = v["errorMessage"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (error_type, error_message)
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let headers = req.headers().clone();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return reply(StatusCode::NOT_FOUND, "unknown Runtime API path");
    };
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return reply(StatusCode::BAD_REQUEST, "unreadable body"),
    };
    match (method, rest.split('/').collect::<Vec<_>>().as_slice()) {
        (Method::GET, ["invocation", "next"]) => {
            if let Some(ready) = state.ready.lock().await.take() {
                let _ = ready.send(());
            }
            let Some(inv) = state.queue.lock().await.recv().await else {
                // The owner is gone: the process is about to be stopped.
                return reply(StatusCode::GONE, "shutting down");
            };
            let _ = inv.started.send(());
            state
                .in_flight
                .lock()
                .await
                .insert(inv.request_id.clone(), inv.reply);
            let mut r = reply(StatusCode::OK, inv.payload.to_string());
            let h = r.headers_mut();
            let set = |h: &mut hyper::HeaderMap, k: &'static str, v: String| {
                if let Ok(v) = v.parse() {
                    h.insert(k, v);
                }
            };
            set(h, "lambda-runtime-aws-request-id", inv.request_id.clone());
            set(h, "lambda-runtime-deadline-ms", inv.deadline_ms.to_string());
            set(h, "lambda-runtime-invoked-function-arn", inv.function_arn);
            set(
                h,
                "lambda-runtime-trace-id",
                format!(
                    "Root=1-00000000-{};Sampled=0",
                    &inv.request_id.replace('-', "")[..24]
                ),
            );
            set(h, "content-type", "application/json".to_owned());
            r
        }
        (Method::POST, ["invocation", id, "response"]) => {
            match state.in_flight.lock().await.remove(*id) {
                Some(tx) => {
                    let _ = tx.send(Outcome::Response(body));
                    accepted()
                }
                None => reply(StatusCode::BAD_REQUEST, "unknown request id"),
            }
        }
        (Method::POST, ["invocation", id, "error"]) => {
            match state.in_flight.lock().await.remove(*id) {
                Some(tx) => {
                    let (error_type, error_message) = error_of(&headers, &body);
                    let _ = tx.send(Outcome::Error {
                        error_type,
                        error_message,
                    });
                    accepted()
                }
                None => reply(StatusCode::BAD_REQUEST, "unknown request id"),
            }
        }
        (Method::POST, ["init", "error"]) => {
            let (error_type, error_message) = error_of(&headers, &body);
            if let Some(tx) = state.init_error.lock().await.take() {
                let _ = tx.send(InitError {
                    error_type,
                    error_message,
                });
            }
            accepted()
        }
        _ => reply(StatusCode::NOT_FOUND, "unknown Runtime API path"),
    }
}
