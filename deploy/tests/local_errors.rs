//! `cargo cfn local` refusing bad input as a person meets it: an unknown stack, a busy port, a handler that
//! crashes at start, an emulator that is not there. Each is a clear error with the fix, a failed exit, and
//! nothing left running (no moto, no handler process).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cfnkit::constructs::lambda::{Code, Function, FunctionProps, Tracing};
use cfnkit::App;
use clap::Parser;

/// An app of one stack named `stack` whose function runs the fixture binary `bin`, synthesized into `dir`.
fn synth(stack: &str, bin: &str, dir: &Path) {
    let app = App::new();
    let s = app.stack(stack);
    // Without tracing (X-Ray's Resource `*` is a rule pack error), as the CLI's synth runs the rule pack.
    let props = FunctionProps {
        tracing: Tracing::Disabled,
        ..FunctionProps::default()
    };
    Function::new(
        &s.scope(),
        "Handler",
        Code::cargo_bin("local-fixture-handlers", bin),
        props,
    )
    .unwrap();
    let cli = cfnkit::cli::Cli::try_parse_from(["cfnkit", "synth", "--out", dir.to_str().unwrap()])
        .unwrap();
    cfnkit::cli::run(cli, || Ok::<_, String>(app)).expect("the test app synthesizes");
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Processes whose environment carries `mark` (moto inherits the tool's environment) or names a function of
/// `stack` (handlers get the function's environment only): what a failed start must not leave behind.
fn left_running(mark: &str, stack: &str) -> Vec<String> {
    let function = format!("AWS_LAMBDA_FUNCTION_NAME={stack}-");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let environ = String::from_utf8_lossy(&environ);
        if environ
            .split('\0')
            .any(|v| v == mark || v.starts_with(&function))
        {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            found.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
        }
    }
    found
}

/// Runs `cargo cfn local` on an app of `bin` with `args` (and `env`) to its exit; returns its stderr.
fn refused(case: &str, bin: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let stack = format!("{case}{}", std::process::id());
    let mark = format!("CFNKIT_LOCAL_TEST_MARK={stack}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cfnkit.out");
    synth(&stack, bin, &out);
    // The tests run at once: each takes a free endpoint port unless it is about the port.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
        .to_string();
    let port = if args.contains(&"--port") {
        Vec::new()
    } else {
        vec!["--port", free.as_str()]
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-cfn"))
        .args([
            "local",
            "--assembly",
            out.to_str().unwrap(),
            "--api-port",
            "0",
        ])
        .args(port)
        .args(args)
        .env("CFNKIT_LOCAL_TEST_MARK", &stack)
        .envs(env.iter().copied())
        .current_dir(workspace())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{case}: cargo cfn local did not stop on its own");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{case}: it started: {stderr}");
    assert_eq!(
        left_running(&mark, &stack),
        Vec::<String>::new(),
        "{case}: left running after: {stderr}"
    );
    stderr
}

#[test]
fn an_unknown_stack_names_the_stacks_there_are() {
    let e = refused("Unknown", "echo", &["Nope"], &[]);
    assert!(
        e.contains("no stack Nope in the app; its stacks are: Unknown"),
        "{e}"
    );
}

#[test]
fn a_busy_port_names_the_option_that_moves_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let e = refused("Busy", "echo", &["--port", &port], &[]);
    assert!(e.contains(&format!("port {port} is in use (")), "{e}");
    assert!(e.contains("or choose another with --port"), "{e}");
}

#[test]
fn a_handler_that_crashes_at_start_shows_its_output_and_the_fix() {
    let e = refused("Crash", "crash_at_start", &[], &[]);
    assert!(
        e.contains("Handler could not start: its process exited before asking for an event"),
        "{e}"
    );
    assert!(e.contains("FIXTURE_SETTING is not set"), "{e}");
    assert!(e.contains("fix the handler or its environment"), "{e}");
}

#[test]
fn a_missing_emulator_names_the_variable_to_fix() {
    let e = refused(
        "NoMoto",
        "echo",
        &[],
        &[("CFNKIT_MOTO_SERVER", "/nonexistent/moto_server")],
    );
    assert!(
        e.contains("CFNKIT_MOTO_SERVER=/nonexistent/moto_server is not a file; point it at a moto_server executable or unset it"),
        "{e}"
    );
}
