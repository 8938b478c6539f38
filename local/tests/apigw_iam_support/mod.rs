//! What the iam and apigw tests share: a cfnkit app synthesized in-process and resolved into a [`LocalApp`]
//! exactly as the local run resolves it (moto's account and region, names derived from the stack and logical ID),
//! so the tests read the platform's real policies and APIs.
#![allow(dead_code)]

use cfnkit::App;
use cfnkit_local::model::{LoadOptions, LocalApp, Templates};
use serde_json::Value;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// Every stack of `app`, synthesized and resolved.
pub fn local_app(app: &App) -> LocalApp {
    let options = LoadOptions::default();
    assert_eq!(
        (options.account.as_str(), options.region.as_str()),
        (ACCOUNT, REGION)
    );
    Templates::from_app(app)
        .and_then(|t| t.resolve(&options))
        .unwrap_or_else(|e| panic!("resolving the app failed: {e}"))
}

/// An [`Invoke`](cfnkit_local::invoke::Invoke) that records every event and answers with `answer`.
pub struct FakeInvoke {
    pub calls: std::sync::Mutex<Vec<(cfnkit_local::invoke::FunctionRef, Value)>>,
    #[allow(clippy::type_complexity)]
    answer: Box<
        dyn Fn(
                &cfnkit_local::invoke::FunctionRef,
                &Value,
            ) -> Result<Value, cfnkit_local::invoke::InvokeError>
            + Send
            + Sync,
    >,
}

impl FakeInvoke {
    pub fn new(
        answer: impl Fn(
                &cfnkit_local::invoke::FunctionRef,
                &Value,
            ) -> Result<Value, cfnkit_local::invoke::InvokeError>
            + Send
            + Sync
            + 'static,
    ) -> std::sync::Arc<FakeInvoke> {
        std::sync::Arc::new(FakeInvoke {
            calls: Default::default(),
            answer: Box::new(answer),
        })
    }

    /// The events `logical_id` was invoked with.
    pub fn events_of(&self, logical_id: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(f, _)| f.logical_id == logical_id)
            .map(|(_, e)| e.clone())
            .collect()
    }
}

impl cfnkit_local::invoke::Invoke for FakeInvoke {
    fn invoke<'a>(
        &'a self,
        function: &'a cfnkit_local::invoke::FunctionRef,
        payload: Value,
    ) -> cfnkit_local::invoke::InvokeFuture<'a> {
        let answer = (self.answer)(function, &payload);
        self.calls.lock().unwrap().push((function.clone(), payload));
        Box::pin(async move { answer })
    }
}

/// A response as a test reads it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request over a real connection.
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut request = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_owned(),
        )))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
