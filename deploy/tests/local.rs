//! `cargo cfn local` as a person runs it: the ready line with the endpoint and what is not run, a function
//! invoked through the endpoint's Lambda API, then Ctrl-C: the summary, and nothing left running.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cfnkit::constructs::lambda::{Code, Function, FunctionProps, Tracing};
use cfnkit::{App, RawResource};
use clap::Parser;

fn synth(app: App, dir: &Path) {
    let cli = cfnkit::cli::Cli::try_parse_from(["cfnkit", "synth", "--out", dir.to_str().unwrap()])
        .unwrap();
    cfnkit::cli::run(cli, || Ok::<_, String>(app)).expect("the test app synthesizes");
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One HTTP/1.1 request to the local endpoint, as an SDK signs it (moto and the proxy read the scope only).
fn invoke(port: u16, function: &str, payload: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /2015-03-31/functions/{function}/invocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn local_runs_until_ctrl_c_then_stops_everything_and_prints_the_summary() {
    let app = App::new();
    let s = app.stack("Fns");
    // Without tracing (X-Ray's Resource `*` is a rule pack error), as the CLI's synth runs the rule pack.
    let props = FunctionProps {
        tracing: Tracing::Disabled,
        ..FunctionProps::default()
    };
    Function::new(
        &s.scope(),
        "Echo",
        Code::cargo_bin("local-fixture-handlers", "echo"),
        props,
    )
    .unwrap();
    s.add_raw(
        "Key",
        RawResource::new("AWS::KMS::Key").prop("EnableKeyRotation", true),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cfnkit.out");
    synth(app, &out);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-cfn"))
        .args([
            "local",
            "--assembly",
            out.to_str().unwrap(),
            "--port",
            &port.to_string(),
        ])
        .current_dir(workspace())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while !seen.iter().any(|l: &String| l.starts_with("started in")) {
        assert!(Instant::now() < deadline, "not ready: {seen:?}");
        match lines.next() {
            Some(Ok(l)) => seen.push(l),
            _ => panic!("cargo cfn local ended before ready: {seen:?}"),
        }
    }
    let text = seen.join("\n");
    assert!(
        text.contains(&format!(
            "ready: AWS endpoint http://127.0.0.1:{port} (moto "
        )),
        "{text}"
    );
    assert!(
        text.contains("not run locally:\n  Fns/Key (AWS::KMS::Key): encryption is not emulated"),
        "{text}"
    );

    let answer = invoke(port, "NoSuchFunction", "{}");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let function_name = cfnkit_local_name(&out);
    let answer = invoke(port, &function_name, r#"{"n": 1}"#);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    let pid = serde_json::from_str::<serde_json::Value>(body).unwrap()["pid"]
        .as_u64()
        .unwrap();
    assert!(Path::new(&format!("/proc/{pid}")).exists());

    // Ctrl-C as a terminal sends it.
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {rest:?}");
    let rest = rest.join("\n");
    assert!(
        rest.contains("summary:\n  Fns/Echo: 1 invocation, 0 failed"),
        "{rest}"
    );
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the function's process {pid} outlived the run"
    );
    TcpListener::bind(("127.0.0.1", port)).expect("the endpoint's port is free again");
}

/// The local name of Fns/Echo, read from the synthesized template the way the run resolves it.
fn cfnkit_local_name(out: &Path) -> String {
    let templates = cfnkit_local::model::Templates::from_dir(out).unwrap();
    let app = templates.resolve(&Default::default()).unwrap();
    app.resource("Fns", "Echo").unwrap().physical_id.clone()
}
