//! Benchmark: `deploy --hotswap` of one function's new code and environment against a change-set deploy of the
//! same change, on moto's server (started here on a free port, stopped by its PID). Run through
//! `deploy/bench-hotswap.sh`, which builds `cargo-cfn` next to this example.
//!
//! Two parts:
//! 1. whole `cargo cfn` processes (start-up, credentials, every call and every wait), ROUNDS times each way: the
//!    change A -> B and back B -> A, so each deploy makes the same change from the same state;
//! 2. the same two deploys as the tool's own steps, called in process, for where the time goes (synth,
//!    upload, planning, creating the change set, executing it and polling its events).
//!
//! moto completes every operation at once and runs no function, so what is measured is the tool's own time
//! (requests, and the waits between polls) and not CloudFormation's or Lambda's. On AWS a change set for a
//! function's code takes tens of seconds more; a hotswap about as long as Lambda's update.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cfnkit::{App, RawResource};
use cfnkit_deploy::assembly::{sha256_hex, Assembly};
use cfnkit_deploy::aws::Clients;
use cfnkit_deploy::cfn::{self, ChangeSet, ChangeSetKind, TemplateSource};
use cfnkit_deploy::hotswap;
use clap::Parser;
use serde_json::json;

const REGION: &str = "us-east-1";

struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Moto {
    let bin = std::env::var_os("MOTO_SERVER").unwrap_or_else(|| "moto_server".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.to_string_lossy()));
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

/// One function (its code `code`, `MODE` in its environment) and its role, synthesized into `dir` with the
/// asset in the manifest as `package` writes it.
fn synth(dir: &Path, code: &[u8], mode: &str) -> Duration {
    let sha = sha256_hex(code);
    let key = format!("assets/probe/{sha}.zip");
    let started = Instant::now();
    let app = App::new();
    let stack = app.stack("Bench");
    stack.add_raw(
        "Role",
        RawResource::new("AWS::IAM::Role").prop(
            "AssumeRolePolicyDocument",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                   "Principal": {"Service": "lambda.amazonaws.com"}}]}),
        ),
    );
    stack.add_raw(
        "Probe",
        RawResource::new("AWS::Lambda::Function")
            .prop(
                "Code",
                json!({"S3Bucket": {"Fn::Sub": cfnkit::constructs::lambda::ASSET_BUCKET}, "S3Key": key}),
            )
            .prop("Handler", "bootstrap")
            .prop("Runtime", "provided.al2023")
            .prop("Role", json!({"Fn::GetAtt": ["Role", "Arn"]}))
            .prop("Environment", json!({"Variables": {"MODE": mode}})),
    );
    let cli =
        cfnkit::cli::Cli::try_parse_from(["app", "synth", "--out", dir.to_str().unwrap()]).unwrap();
    cfnkit::cli::run(cli, || Ok::<_, String>(app)).expect("the bench app synthesizes");
    let took = started.elapsed();
    std::fs::create_dir_all(dir.join("assets/probe")).unwrap();
    std::fs::write(dir.join(&key), code).unwrap();
    let path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["assets"] = json!([{
        "name": "probe", "packaged": true, "path": key, "sha256": sha,
        "bucket": cfnkit::constructs::lambda::ASSET_BUCKET, "key": key, "usedBy": ["Bench/Probe"],
    }]);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    took
}

/// `cargo-cfn`, built next to this example (target/<profile>/cargo-cfn).
fn cargo_cfn() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("cargo-cfn");
    assert!(
        bin.is_file(),
        "{} is missing: run deploy/bench-hotswap.sh, which builds it",
        bin.display()
    );
    bin
}

fn run(moto: &Moto, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = Command::new(cargo_cfn())
        .args(args)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo cfn {}: {stdout}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// Best and median, in ms.
fn summary(label: &str, samples: &[Duration]) {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "  {label:<44} best {:8.1} ms  median {:8.1} ms  ({} runs)",
        ms[0],
        ms[ms.len() / 2],
        ms.len()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let moto = start_moto();
    let work = tempfile::tempdir().unwrap();
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    // A zip's size for the upload: a Rust handler's is a few MB; 2 MB of noise does not compress either.
    let noise = |seed: u8| -> Vec<u8> {
        let mut x = u32::from(seed) + 1;
        (0..2_000_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    };
    let synth_a = synth(&a, &noise(1), "a");
    let synth_b = synth(&b, &noise(2), "b");
    let (asm_a, asm_b) = (a.to_str().unwrap(), b.to_str().unwrap());
    run(&moto, &["bootstrap"]);
    run(
        &moto,
        &["deploy", "--require-approval", "never", "--assembly", asm_a],
    );

    // 1. Whole processes. Each deploy starts from the state the previous one of its kind left.
    let mut hot = Vec::new();
    let mut full = Vec::new();
    for _ in 0..rounds {
        for asm in [asm_b, asm_a] {
            hot.push(run(&moto, &["deploy", "--hotswap", "--assembly", asm]));
        }
        for asm in [asm_b, asm_a] {
            full.push(run(
                &moto,
                &["deploy", "--require-approval", "never", "--assembly", asm],
            ));
        }
    }
    println!(
        "One function's code (2 MB zip, uploaded before) and one environment variable, against moto ({} each way):",
        2 * rounds
    );
    summary("cargo cfn deploy --hotswap", &hot);
    summary("cargo cfn deploy (change set)", &full);

    // 2. The same two deploys, step by step, in process.
    let config = cfnkit_deploy::aws::config_loader()
        .endpoint_url(&moto.url)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
            "testing", "testing", None, None, "bench",
        ))
        .load()
        .await;
    let clients = Clients::new(&config).unwrap();
    clients.account().await.unwrap();
    let mut steps: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut time = |step: &'static str, d: Duration| steps.entry(step).or_default().push(d);
    time("0 synth of the app (in process)", synth_a);
    time("0 synth of the app (in process)", synth_b);
    for round in 0..rounds {
        // A fresh key each round, so the upload is measured and not skipped.
        let fresh = work.path().join(format!("fresh{round}"));
        synth(&fresh, &noise(10 + round as u8), "fresh");
        let assembly = Assembly::load(&fresh).unwrap();
        let assets: Vec<_> = assembly.manifest.assets.iter().collect();
        let t = Instant::now();
        cfnkit_deploy::assets::upload(&clients, &assembly, &assets)
            .await
            .unwrap();
        time("1 upload of a new 2 MB zip (Head+PutObject)", t.elapsed());

        for dir in [&b, &a] {
            let assembly = Assembly::load(dir).unwrap();
            let body = assembly
                .template(assembly.manifest.stack("Bench").unwrap())
                .unwrap();
            let new = cfnkit_deploy::template::parse(&body).unwrap();

            let t = Instant::now();
            let deployed = cfn::describe(&clients.cfn, "Bench").await.unwrap().unwrap();
            let old = cfnkit_deploy::template::parse(
                &cfn::template(&clients.cfn, "Bench").await.unwrap(),
            )
            .unwrap();
            time("2 read the deployed stack and template", t.elapsed());

            let t = Instant::now();
            let plan = hotswap::plan(
                &clients,
                "Bench",
                Some((&deployed, &old)),
                &new,
                &BTreeMap::new(),
                &deployed.tags,
            )
            .await
            .unwrap();
            time("3 hotswap: plan (resources, function config)", t.elapsed());
            let hotswap::Plan::Hotswap(updates) = plan else {
                panic!("not hotswappable: {plan:?}")
            };
            let t = Instant::now();
            for u in &updates {
                hotswap::apply(&clients, "Bench", u).await.unwrap();
            }
            time("4 hotswap: update code + environment, wait", t.elapsed());

            // Put the function back as deployed, then make the same change through a change set.
            let back = hotswap::plan(
                &clients,
                "Bench",
                Some((&deployed, &old)),
                &old,
                &BTreeMap::new(),
                &deployed.tags,
            )
            .await
            .unwrap();
            if let hotswap::Plan::Hotswap(updates) = back {
                for u in &updates {
                    hotswap::apply(&clients, "Bench", u).await.unwrap();
                }
            }
            let t = Instant::now();
            let created = cfn::create_change_set(
                &clients.cfn,
                "Bench",
                ChangeSetKind::Update,
                &TemplateSource::Body(body.clone()),
                &BTreeMap::new(),
                &[],
                false,
            )
            .await
            .unwrap();
            time("5 change set: create, poll until computed", t.elapsed());
            let ChangeSet::Ready {
                id,
                stack_id,
                changes,
            } = created
            else {
                panic!("the change set has no changes")
            };
            let t = Instant::now();
            let marker = cfn::latest_event(&clients.cfn, &stack_id).await.unwrap();
            cfn::execute_change_set(&clients.cfn, "Bench", &id, &cfn::request_token())
                .await
                .unwrap();
            let (status, _) = cfn::watch(
                &clients.cfn,
                "Bench",
                &stack_id,
                marker.as_deref(),
                changes.len(),
                true,
                cfn::Operation::Started,
            )
            .await
            .unwrap();
            assert_eq!(status, "UPDATE_COMPLETE");
            time("6 change set: execute, poll events to the end", t.elapsed());
        }
    }
    println!("Where the time goes, step by step in process (moto answers at once: this is the tool's own time):");
    for (step, samples) in &steps {
        summary(&step[2..], samples);
    }
    println!(
        "A deploy with --hotswap is steps 2+3+4 (+1 for new code); through a change set 2+5+6 (+1); the rest of a \
         whole process is start-up, credentials (STS), the bootstrap check, the guard's and approval's reads and \
         the stack policy. On AWS the waits dominate instead: a change set is polled every 0.5 s until computed and \
         the stack every 1.5 s until CloudFormation has updated the function (cfn.rs), a hotswapped function every \
         0.5 s until its LastUpdateStatus is Successful (hotswap.rs). The synth `cargo cfn` runs first (`cargo run` \
         of the app, and `package`'s cross-build of the handlers) is the app's build time, not measured here."
    );
}
