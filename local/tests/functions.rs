//! The function runner: the real binaries behind the Runtime API, their environment, errors, timeouts,
//! crashes, reserved concurrency, and a handler that fails at start.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cfnkit::constructs::lambda::{Function, FunctionProps};
use cfnkit::App;
use cfnkit_local::invoke::{FunctionRef, InvokeError};
use cfnkit_local::run::{LocalError, LocalOptions};
use serde_json::json;

fn echo_app(reserved: Option<u32>) -> App {
    let app = App::new();
    let s = app.stack("Fns");
    Function::new(
        &s.scope(),
        "Echo",
        support::code("echo"),
        FunctionProps {
            environment: BTreeMap::from([("GREETING".to_owned(), "hello".into())]),
            timeout: Some(Duration::from_secs(1)),
            memory_size: Some(256),
            reserved_concurrency: reserved,
            ..FunctionProps::default()
        },
    )
    .unwrap();
    app
}

fn echo() -> FunctionRef {
    FunctionRef {
        stack: "Fns".into(),
        logical_id: "Echo".into(),
    }
}

#[tokio::test]
async fn a_function_runs_its_binary_with_the_template_environment_and_reports_errors_timeouts_and_crashes(
) {
    let (run, logs) = support::start(&echo_app(None)).await;
    let invoker = run.invoker();
    let f = echo();

    let out = invoker.invoke(&f, json!({"n": 1})).await.unwrap();
    assert_eq!(out["echo"], json!({"n": 1}));
    assert_eq!(out["greeting"], "hello");
    assert_eq!(out["memory"], "256");
    assert_eq!(out["endpoint"], run.endpoint());
    let name = out["function"].as_str().unwrap().to_owned();
    assert!(name.starts_with("Fns-Echo-"), "{name}");
    assert!(
        logs.lines().contains(&format!("{name} | got {{\"n\":1}}")),
        "{:?}",
        logs.lines()
    );

    let e = invoker
        .invoke(&f, json!({"fail": "bad order"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, InvokeError::Function { error_message, .. } if error_message == "bad order"),
        "{e:?}"
    );

    let first_pid = invoker.invoke(&f, json!({})).await.unwrap()["pid"].clone();
    let e = invoker
        .invoke(&f, json!({"sleep_ms": 3000}))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        InvokeError::Timeout {
            function: f.clone(),
            seconds: 1
        }
    );
    // The timed-out process was stopped: the next invocation gets a new one.
    let next_pid = invoker.invoke(&f, json!({})).await.unwrap()["pid"].clone();
    assert_ne!(first_pid, next_pid);

    let e = invoker.invoke(&f, json!({"exit": true})).await.unwrap_err();
    assert!(
        matches!(&e, InvokeError::Function { error_type, .. } if error_type == "Runtime.ExitError"),
        "{e:?}"
    );
    assert!(invoker.invoke(&f, json!({})).await.is_ok());

    let summary = run.stop().await;
    assert_eq!(summary.functions[&f].invocations, 7);
    assert_eq!(summary.functions[&f].failures, 3);
}

#[tokio::test]
async fn reserved_concurrency_bounds_the_processes_of_a_function() {
    let (run, _) = support::start(&echo_app(Some(1))).await;
    let invoker = run.invoker();
    let f = echo();
    let started = Instant::now();
    let (a, b) = tokio::join!(
        invoker.invoke(&f, json!({"sleep_ms": 400})),
        invoker.invoke(&f, json!({"sleep_ms": 400}))
    );
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(a.unwrap()["pid"], b.unwrap()["pid"]);
    run.stop().await;
}

#[tokio::test]
async fn a_handler_that_fails_at_start_stops_the_run_with_its_output() {
    let app = App::new();
    Function::new(
        &app.stack("Bad").scope(),
        "Broken",
        support::code("crash_at_start"),
        FunctionProps::default(),
    )
    .unwrap();
    let Err(e) = support::start_with(&app, LocalOptions::default()).await else {
        panic!("the run started");
    };
    assert!(matches!(e, LocalError::HandlerStart(_)), "{e:?}");
    let text = e.to_string();
    assert!(text.starts_with("Bad/Broken could not start: its process exited before asking for an event (exit status: 2)"), "{text}");
    assert!(text.contains("FIXTURE_SETTING is not set"), "{text}");
    assert!(
        text.contains("fix the handler or its environment"),
        "{text}"
    );
}

#[tokio::test]
async fn a_busy_port_and_an_unknown_stack_are_refused_with_the_fix() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let Err(e) = support::start_with(
        &echo_app(None),
        LocalOptions {
            port: Some(port),
            ..LocalOptions::default()
        },
    )
    .await
    else {
        panic!("the run started on a taken port");
    };
    assert!(
        e.to_string()
            .starts_with(&format!("port {port} is in use (")),
        "{e}"
    );
    assert!(
        e.to_string().ends_with("or choose another with --port"),
        "{e}"
    );

    let Err(e) = support::start_with(
        &echo_app(None),
        LocalOptions {
            stacks: vec!["Nope".into()],
            ..LocalOptions::default()
        },
    )
    .await
    else {
        panic!("the run started an unknown stack");
    };
    assert_eq!(
        e.to_string(),
        "no stack Nope in the app; its stacks are: Fns"
    );
}

#[tokio::test]
async fn a_replaced_binary_serves_the_next_invocation_while_a_busy_one_finishes_on_the_old() {
    let (run, _) = support::start(&echo_app(Some(2))).await;
    let invoker = run.invoker();
    let f = echo();
    // The recorder binary stands in for an edited handler: it answers `null` where echo answers its event.
    let mut spec = run.runner().spec(&f).unwrap().clone();
    spec.bin = "recorder".into();
    let built =
        cfnkit_local::functions::build::build(&support::workspace(), &[spec], false).unwrap();
    let recorder = built.values().next().unwrap().clone();

    let busy = {
        let invoker = invoker.clone();
        let f = f.clone();
        tokio::spawn(async move { invoker.invoke(&f, json!({"sleep_ms": 500})).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    run.runner().replace_binary(&f, recorder).await;
    let after = invoker.invoke(&f, json!({"n": 2})).await.unwrap();
    assert_eq!(after, serde_json::Value::Null, "the new binary answers");
    let before = busy.await.unwrap().unwrap();
    assert_eq!(
        before["echo"],
        json!({"sleep_ms": 500}),
        "the busy invocation finished on the old binary"
    );
    run.stop().await;
}
