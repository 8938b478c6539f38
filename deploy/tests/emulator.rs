//! The deploy tool end to end against a local CloudFormation endpoint: moto's server, started here on a free
//! port and stopped by its PID.
//!
//! Where moto falls short of AWS, and what these tests do about it:
//! - Its change-set path neither registers a stack's exports nor resolves `Fn::ImportValue` on create, so the
//!   first deployment of the exporting and importing stacks uses `--method direct` (CreateStack); every later
//!   deployment (no change, update, --no-execute) goes through change sets, as by default.
//! - It emits only stack-level events (no per-resource CREATE_IN_PROGRESS/COMPLETE), so the progress bar and
//!   resource event lines are exercised by the unit tests of `events` on AWS's event sequences, not here.
//! - It has no rollback: a resource that fails makes the API call fail with the reason, and the stack stays
//!   where it was. The failure test checks that this is reported as an error naming the stack and the reason;
//!   reporting CREATE_FAILED events and ROLLBACK_COMPLETE is covered by the unit tests on AWS's sequences.
//! - It does not emit DELETE_SKIPPED for retained resources; the retained list comes from the template's
//!   DeletionPolicy, which is also what AWS acts on.
//! - It skips resource types it does not know (the bucket policy of the bootstrap stack, for one), so only
//!   the bucket's own settings are checked here.
//! - After an update through a change set it still reports the outputs from before; the deploy tool reads the
//!   bootstrap version from the deployed template first (see `bootstrap::deployed_version`), which is exact on
//!   AWS too, so the outdated-bootstrap test passes on moto without bending anything.
//! - It completes a stack at once, so `--concurrency` shows in the order of the output lines, not in time, and a
//!   stack is never caught in progress (waiting for one is tested in tests/recorded.rs).
//! - It keeps a stack policy without enforcing it: the guard tests check the policy each deploy sets (and that
//!   the tool itself refuses), not that CloudFormation refuses an update by other means.
//! - Its change sets say Add, Modify or Remove without `Replacement` or details, and it has no stack refactoring,
//!   drift detection, DescribeEvents or ContinueUpdateRollback: those are tested on recorded responses in
//!   tests/recorded.rs.
//!
//! Skipped, loudly, only when moto_server is not found and CFNKIT_REQUIRE_EMULATOR is unset; CI sets it.
//!
//! `CFNKIT_TEST_ENDPOINT=http://127.0.0.1:4566` runs the same tests against an endpoint started elsewhere, meant
//! for LocalStack in host mode (`../shared/localstack/run.sh`), whose CloudFormation engine is faithful where
//! moto is not: there the first deploy goes through change sets too, outputs are checked, and the failure is a
//! CREATE_FAILED event with a rollback. CI cannot install LocalStack (it needs Python 3.13), so CI runs moto.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_config::Region;
use cfnkit::{fns, App, Output as CfnOutput, RawResource, RemovalPolicy};
use clap::Parser;
use serde_json::json;

const REGION: &str = "us-east-1";

struct Moto {
    /// None for an endpoint started elsewhere (CFNKIT_TEST_ENDPOINT).
    child: Option<Child>,
    url: String,
    /// An endpoint started elsewhere is one account shared by all tests, and they use the same stacks
    /// (CfnkitBootstrap, Producer...): one test at a time there. Each test has a moto of its own.
    _exclusive: Option<std::sync::MutexGuard<'static, ()>>,
}

static SHARED_ENDPOINT: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Moto {
    /// An endpoint with a faithful CloudFormation engine (LocalStack), rather than moto.
    fn faithful(&self) -> bool {
        self.child.is_none()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn moto_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return Some(p.into());
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/venv/bin/moto_server");
    on_path.or_else(|| workspace.is_file().then_some(workspace))
}

/// A fresh moto server, or `None` (after a loud message) when there is none and none is required.
fn start_moto() -> Option<Moto> {
    if let Ok(url) = std::env::var("CFNKIT_TEST_ENDPOINT") {
        // A test that failed poisoned the lock; the next one still runs.
        let exclusive = SHARED_ENDPOINT.lock().unwrap_or_else(|e| e.into_inner());
        return Some(Moto {
            child: None,
            url,
            _exclusive: Some(exclusive),
        });
    }
    let Some(bin) = moto_server() else {
        if std::env::var_os("CFNKIT_REQUIRE_EMULATOR").is_some() {
            panic!("moto_server not found (PATH, MOTO_SERVER, .ci/venv/bin) and CFNKIT_REQUIRE_EMULATOR is set");
        }
        eprintln!("\n!!!! SKIPPED: moto_server not found; the deploy tool's emulator tests did not run. Install moto[server] (bash .ci/run does) or set MOTO_SERVER. !!!!\n");
        return None;
    };
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
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let moto = Moto {
        child: Some(child),
        url: format!("http://127.0.0.1:{port}"),
        _exclusive: None,
    };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto_server did not listen on {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

/// Runs the deploy tool against moto, with nothing read from this machine's AWS configuration.
fn cfnkit(moto: &Moto, args: &[&str]) -> Output {
    with_moto_env(
        Command::new(env!("CARGO_BIN_EXE_cargo-cfn")).args(args),
        moto,
    )
    .stdin(Stdio::null())
    .output()
    .unwrap()
}

fn with_moto_env<'c>(command: &'c mut Command, moto: &Moto) -> &'c mut Command {
    command
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1")
}

/// Runs the tool on a terminal (a pseudo-terminal from Python's `pty`, which CI has), typing `input`. The
/// terminal merges stdout and stderr (and echoes the input) into `stdout`.
fn run_on_terminal(moto: &Moto, args: &[&str], input: &str) -> Run {
    use std::io::Write as _;
    const SPAWN: &str =
        "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))";
    let mut child = with_moto_env(
        Command::new("python3")
            .args(["-c", SPAWN, env!("CARGO_BIN_EXE_cargo-cfn")])
            .args(args),
        moto,
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ cfnkit {} (on a terminal)\n[exit {}]\n{}{}",
        args.join(" "),
        r.code,
        r.stdout,
        r.stderr
    );
    r
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(moto: &Moto, args: &[&str]) -> Run {
    let out = cfnkit(moto, args);
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ cfnkit {}\n[exit {}]\n{}{}",
        args.join(" "),
        r.code,
        r.stdout,
        r.stderr
    );
    r
}

async fn clients(moto: &Moto) -> cfnkit_deploy::aws::Clients {
    let config = cfnkit_deploy::aws::config_loader()
        .endpoint_url(&moto.url)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    cfnkit_deploy::aws::Clients::new(&config).unwrap()
}

/// Synthesizes `app` into `dir` with the cfnkit library, as `cargo run -- synth --out dir` would.
fn synth(app: App, dir: &Path) {
    let cli = cfnkit::cli::Cli::try_parse_from(["cfnkit", "synth", "--out", dir.to_str().unwrap()])
        .unwrap();
    cfnkit::cli::run(cli, || Ok::<_, String>(app)).expect("the test app synthesizes");
}

/// Parameters are named because moto cannot generate SSM parameter names (AWS can).
///
/// Two stacks and an export: Producer has a log group (kept on delete) whose name Consumer imports into a
/// parameter; `setting` is the value an update changes. Big is over CloudFormation's 51,200 byte body limit,
/// so it deploys through the assets bucket.
fn app(setting: &str) -> App {
    let app = App::new();
    let producer = app.stack("Producer");
    let logs = producer.add_raw(
        "AppLogs",
        RawResource::new("AWS::Logs::LogGroup").prop("RetentionInDays", 7),
    );
    logs.apply_removal_policy(RemovalPolicy::Retain);
    producer.add_raw(
        "Setting",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Name", "/cfnkit-test/setting")
            .prop("Type", "String")
            .prop("Value", setting),
    );
    let consumer = app.stack("Consumer");
    consumer.add_raw(
        "LogsName",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Name", "/cfnkit-test/logs")
            .prop("Type", "String")
            .prop("Value", logs.ref_()),
    );
    consumer.add_output("Region", CfnOutput::new(fns::region()));
    add_big(&app, "x");
    app
}

/// Big, a stack over CloudFormation's 51,200 byte body limit; `value` is the first parameter's.
fn add_big(app: &App, value: &str) {
    let big = app.stack("Big");
    for i in 0..40 {
        big.add_raw(
            &format!("Padding{i}"),
            RawResource::new("AWS::SSM::Parameter")
                .prop("Name", format!("/cfnkit-test/padding-{i}"))
                .prop("Type", "String")
                .prop("Value", if i == 0 { value } else { "x" })
                .prop(
                    "Description",
                    "cfnkit deploys templates over 51,200 bytes through S3; this one pads it. "
                        .repeat(15),
                ),
        );
    }
}

/// Adds a packaged asset to the manifest, as `package` writes it, with its zip.
fn add_asset(dir: &Path) -> String {
    let zip = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    let sha = cfnkit_deploy::assembly::sha256_hex(zip);
    let key = format!("assets/probe/{sha}.zip");
    std::fs::create_dir_all(dir.join("assets/probe")).unwrap();
    std::fs::write(dir.join(&key), zip).unwrap();
    let path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["assets"] = json!([{
        "name": "probe", "package": null, "bin": "probe", "architecture": "arm64",
        "target": "aarch64-unknown-linux-gnu.2.34", "packaged": true, "path": key, "sha256": sha,
        "bytes": zip.len(), "bucket": cfnkit::constructs::lambda::ASSET_BUCKET, "key": key,
        "usedBy": ["Producer/Probe"],
    }]);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    key
}

/// The stacks that exist (not deleted), by name.
async fn stack_names(aws: &cfnkit_deploy::aws::Clients) -> Vec<String> {
    let listed = aws.cfn.describe_stacks().send().await.unwrap();
    listed
        .stacks()
        .iter()
        .filter(|s| s.stack_status().map(|s| s.as_str()) != Some("DELETE_COMPLETE"))
        .filter_map(|s| s.stack_name().map(str::to_owned))
        .collect()
}

fn position(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in:\n{haystack}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn bootstrap_deploy_no_change_update_diff_destroy() {
    let Some(moto) = start_moto() else { return };
    let aws = clients(&moto).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let asm = dir.to_str().unwrap();
    synth(app("v1"), &dir);
    let key = add_asset(&dir);
    let bucket = aws.assets_bucket().await.unwrap();
    // moto needs CreateStack for the first deploy of an export and its import (see the top of this file).
    let first: &[&str] = if moto.faithful() {
        &[]
    } else {
        &["--method", "direct"]
    };

    // Before bootstrap, assets and Big's template have nowhere to go: the error names the bootstrap stack, why
    // it is needed and what to run, and nothing is deployed (not even Producer and Consumer, which need no
    // bucket themselves).
    let r = run(&moto, &[&["deploy", "--assembly", asm], first].concat());
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!(
            "error: this deploy needs the bootstrap stack CfnkitBootstrap (to upload 1 asset and for the template \
             of Big, {} bytes, over CloudFormation's 51200 byte limit), but it does not exist in {REGION}; run \
             `cargo cfn bootstrap` once for this account and region",
            cfnkit_deploy::assembly::Assembly::load(&dir)
                .unwrap()
                .manifest
                .stack("Big")
                .unwrap()
                .bytes
        )),
        "{}",
        r.stderr
    );
    assert_eq!(stack_names(&aws).await, Vec::<String>::new());

    // Bootstrap, twice: the second is no change.
    let r = run(&moto, &["bootstrap"]);
    assert_eq!(r.code, 0);
    // The outputs (BucketName, BootstrapVersion) follow the status line; moto's change-set path has none.
    let outputs = if moto.faithful() {
        format!("  CfnkitBootstrap.BootstrapVersion = 1\n  CfnkitBootstrap.BucketName = {bucket}\n")
    } else {
        String::new()
    };
    assert_eq!(
        r.stdout,
        format!("✓ CfnkitBootstrap: CREATE_COMPLETE\n{outputs}assets bucket: {bucket}\n")
    );
    // LocalStack (2026.3) reports every bucket as AES256 whatever its BucketEncryption; moto applies it.
    if !moto.faithful() {
        let enc = aws
            .s3
            .get_bucket_encryption()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
        assert_eq!(
            rule.apply_server_side_encryption_by_default()
                .unwrap()
                .sse_algorithm()
                .as_str(),
            "aws:kms"
        );
    }
    // moto's CloudFormation ignores versioning and the public access block on buckets (the unit test of
    // `bootstrap` checks the template); LocalStack applies them.
    if moto.faithful() {
        let versioning = aws
            .s3
            .get_bucket_versioning()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));
    }
    let r = run(&moto, &["bootstrap"]);
    assert_eq!(
        (r.code, r.stdout.lines().next()),
        (0, Some("= CfnkitBootstrap: no changes"))
    );

    // First deploy: the asset is uploaded, then Producer before Consumer (it imports from Producer), and Big
    // through S3.
    let r = run(&moto, &[&["deploy", "--assembly", asm], first].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("assets: 1 uploaded, 0 already in the bucket\n"),
        "{}",
        r.stdout
    );
    assert!(
        position(&r.stdout, "✓ Producer: CREATE_COMPLETE")
            < position(&r.stdout, "✓ Consumer: CREATE_COMPLETE")
    );
    assert!(r.stdout.contains("✓ Big: CREATE_COMPLETE"));
    assert!(
        r.stdout.contains(&format!("  Consumer.Region = {REGION}")),
        "{}",
        r.stdout
    );
    aws.s3
        .head_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .expect("the asset is in the bucket");
    let templates = aws
        .s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("templates/Big/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        templates.contents().len(),
        1,
        "Big's template went through S3"
    );
    let producer = aws
        .cfn
        .describe_stacks()
        .stack_name("Producer")
        .send()
        .await
        .unwrap();
    assert_eq!(
        producer.stacks()[0].stack_status().unwrap().as_str(),
        "CREATE_COMPLETE"
    );

    // Deploying again changes nothing: reported as such, exit 0, and no change set is left behind.
    let r = run(&moto, &["deploy", "--assembly", asm]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "assets: 0 uploaded, 1 already in the bucket\n= Producer: no changes\n= Consumer: no changes\n= Big: no changes\n"
    );
    for stack in ["Producer", "Consumer", "Big"] {
        assert_no_pending_change_set(&aws, stack).await;
    }
    let r = run(&moto, &["diff", "--assembly", asm]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "Stack Producer\n  no differences\nStack Consumer\n  no differences\nStack Big\n  no differences\n");

    // An update: diff shows exactly the change, and exits 1.
    synth(app("v2"), &dir);
    add_asset(&dir);
    let r = run(&moto, &["diff", "--assembly", asm, "Producer", "Consumer"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "Stack Producer\n  Resources\n  [~] AWS::SSM::Parameter Setting\n      ~ Properties.Value \"v1\" -> \"v2\"\nStack Consumer\n  no differences\n"
    );

    // With --change-set the diff also asks CloudFormation about replacements (moto's change sets carry none, so
    // the output is the same here; on AWS an in-place update says "updated in place").
    let r = run(
        &moto,
        &["diff", "--assembly", asm, "--change-set", "Producer"],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("      ~ Properties.Value \"v1\" -> \"v2\"\n"),
        "{}",
        r.stdout
    );

    // Without --assembly the app is synthesized first: here an "app" that copies the synth output.
    let out = work.path().join("fresh.out");
    let app = format!("f() {{ mkdir -p \"$3\" && cp -r '{asm}'/. \"$3\"; }}; f");
    let r = run(
        &moto,
        &[
            "diff",
            "--app",
            &app,
            "--out",
            out.to_str().unwrap(),
            "Consumer",
        ],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Stack Consumer\n  no differences\n")
    );
    assert!(out.join("manifest.json").is_file());

    // --no-execute leaves a change set to review and the stack as it was.
    let r = run(
        &moto,
        &["deploy", "--assembly", asm, "--no-execute", "Producer"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("? Producer: change set created, not executed (1 change(s))\n  Modify  AWS::SSM::Parameter Setting\n"), "{}", r.stdout);
    let r = run(&moto, &["diff", "--assembly", asm, "Producer"]);
    assert_eq!(r.code, 1, "still not deployed");

    // Deploying Consumer deploys Producer first (its dependency) through a change set.
    let r = run(&moto, &["deploy", "--assembly", asm, "Consumer"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("✓ Producer: UPDATE_COMPLETE\n")
            && r.stdout.contains("= Consumer: no changes\n"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("Big"),
        "Big is neither named nor a dependency"
    );
    let r = run(&moto, &["diff", "--assembly", asm]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    // Destroy asks first and refuses without a terminal; with --force it goes dependents first and lists what
    // it keeps.
    let r = run(&moto, &["destroy", "--assembly", asm, "Producer"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("refusing to destroy Consumer, Producer without confirmation"),
        "{}",
        r.stderr
    );
    let r = run(
        &moto,
        &["destroy", "--assembly", asm, "--force", "Producer"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "✓ Consumer: destroyed\n✓ Producer: destroyed\n  kept: AppLogs (DeletionPolicy Retain); delete it by hand when it is no longer needed\n"
    );
    let r = run(&moto, &["destroy", "--assembly", asm, "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "= Consumer: not deployed\n= Producer: not deployed\n✓ Big: destroyed\n"
    );
    assert_eq!(stack_names(&aws).await, ["CfnkitBootstrap"]);
    if moto.faithful() {
        remove_bootstrap(&aws, &bucket).await;
    }
}

/// Deletes the stacks, in this order, each waited for (a long-lived endpoint deletes in the background, and the
/// next test must not find them).
async fn delete_stacks(aws: &cfnkit_deploy::aws::Clients, stacks: &[&str]) {
    for stack in stacks {
        aws.cfn
            .delete_stack()
            .stack_name(*stack)
            .send()
            .await
            .unwrap();
        let started = Instant::now();
        while cfnkit_deploy::cfn::describe(&aws.cfn, stack)
            .await
            .unwrap()
            .is_some()
        {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{stack} was not deleted"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Leaves a long-lived endpoint as the test found it: no bootstrap stack, and no bucket (which its
/// DeletionPolicy keeps) nor any object version in it.
async fn remove_bootstrap(aws: &cfnkit_deploy::aws::Clients, bucket: &str) {
    delete_stacks(aws, &["CfnkitBootstrap"]).await;
    let listed = aws
        .s3
        .list_object_versions()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let versions = listed.versions().iter().map(|v| (v.key(), v.version_id()));
    let markers = listed
        .delete_markers()
        .iter()
        .map(|m| (m.key(), m.version_id()));
    for (key, version) in versions.chain(markers) {
        aws.s3
            .delete_object()
            .bucket(bucket)
            .key(key.unwrap())
            .set_version_id(version.map(str::to_owned))
            .send()
            .await
            .unwrap();
    }
    aws.s3.delete_bucket().bucket(bucket).send().await.unwrap();
}

/// A resource the endpoint rejects: the deploy fails with exit 1, naming the stack and the endpoint's reason.
/// On AWS the reason arrives as a CREATE_FAILED event and the stack rolls back (covered by the `events` unit
/// tests); moto rejects the call itself.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_resource_is_reported_with_its_reason() {
    let Some(moto) = start_moto() else { return };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let app = App::new();
    let broken = app.stack("Broken");
    broken.add_raw(
        "Good",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Name", "good")
            .prop("Type", "String")
            .prop("Value", "ok"),
    );
    // AWS refuses parameter names that start with "aws" or "ssm", and so does moto.
    broken.add_raw(
        "Bad",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Type", "String")
            .prop("Value", "x")
            .prop("Name", "aws-reserved"),
    );
    synth(app, &dir);
    let r = run(&moto, &["deploy", "--assembly", dir.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        !r.stdout.contains('✓'),
        "no success is reported: {}",
        r.stdout
    );
    if moto.faithful() {
        // As on AWS: the resource's CREATE_FAILED event with its reason, and the rollback.
        let failed = "error: stack Broken did not reach a complete state: it ended in ROLLBACK_COMPLETE (creation";
        assert!(r.stderr.contains(failed), "{}", r.stderr);
        let reason = "\n  Bad (AWS::SSM::Parameter) CREATE_FAILED: ";
        assert!(
            r.stderr.contains(reason) && r.stderr.contains("can't be prefixed with \"aws\""),
            "{}",
            r.stderr
        );
        delete_stacks(&clients(&moto).await, &["Broken"]).await;
        return;
    }
    assert!(
        r.stderr.contains("error: cloudformation:ExecuteChangeSet failed for Broken: ValidationException: Parameter name: can't be prefixed with \"aws\" or \"ssm\""),
        "{}",
        r.stderr
    );
}

/// Runs the tool, expecting success and `line` in its output.
fn deploys(moto: &Moto, args: &[&str], line: &str) -> Run {
    let r = run(moto, args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(line), "`{line}` not in:\n{}", r.stdout);
    r
}

/// No change set of `stack` is left waiting to be executed. moto lists every stack's change sets, executed
/// ones included; AWS lists only the stack's pending ones.
async fn assert_no_pending_change_set(aws: &cfnkit_deploy::aws::Clients, stack: &str) {
    let sets = aws
        .cfn
        .list_change_sets()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    let pending: Vec<_> = sets
        .summaries()
        .iter()
        .filter(|c| {
            c.stack_name() == Some(stack)
                && c.execution_status().map(|e| e.as_str()) != Some("EXECUTE_COMPLETE")
        })
        .collect();
    assert!(
        pending.is_empty(),
        "{stack} has change sets left: {pending:?}"
    );
}

/// Waits until a stack created or updated through the SDK settles (moto settles at once; LocalStack does not).
async fn settled(aws: &cfnkit_deploy::aws::Clients, stack: &str) -> String {
    let started = Instant::now();
    loop {
        let d = cfnkit_deploy::cfn::describe(&aws.cfn, stack)
            .await
            .unwrap()
            .expect("the stack exists");
        if cfnkit_deploy::events::is_settled(&d.status) {
            return d.status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{stack} did not settle"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A bootstrap stack older than this cfnkit needs (made by hand here: version 0 and no bucket) is refused
/// before anything is deployed, with the versions and the fix; `cargo cfn bootstrap` updates it, and then the
/// deploy goes through.
#[tokio::test(flavor = "multi_thread")]
async fn an_outdated_bootstrap_is_refused_until_bootstrap_updates_it() {
    let Some(moto) = start_moto() else { return };
    let aws = clients(&moto).await;
    let old = json!({
        "Resources": {"Marker": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "/cfnkit-test/old-bootstrap", "Type": "String", "Value": "0"}}},
        "Outputs": {"BootstrapVersion": {"Value": "0"}},
    });
    aws.cfn
        .create_stack()
        .stack_name("CfnkitBootstrap")
        .template_body(old.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(settled(&aws, "CfnkitBootstrap").await, "CREATE_COMPLETE");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let asm = dir.to_str().unwrap();
    synth(app("v1"), &dir);
    let bytes = cfnkit_deploy::assembly::Assembly::load(&dir)
        .unwrap()
        .manifest
        .stack("Big")
        .unwrap()
        .bytes;

    let r = run(&moto, &["deploy", "--assembly", asm, "Big"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!(
            "error: the bootstrap stack CfnkitBootstrap has version 0, but this cfnkit needs version 1 or newer (for \
             the template of Big, {bytes} bytes, over CloudFormation's 51200 byte limit); run `cargo cfn bootstrap` \
             to update it"
        )),
        "{}",
        r.stderr
    );
    assert_eq!(stack_names(&aws).await, ["CfnkitBootstrap"]);
    let r = run(&moto, &["bootstrap"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("✓ CfnkitBootstrap: UPDATE_COMPLETE\n"),
        "{}",
        r.stdout
    );
    deploys(
        &moto,
        &["deploy", "--assembly", asm, "Big"],
        "✓ Big: CREATE_COMPLETE\n",
    );

    // A deploy that needs no bucket (no assets, small templates) does not look at the bootstrap stack at all.
    delete_stacks(&aws, &["CfnkitBootstrap"]).await;
    deploys(
        &moto,
        &[
            "deploy",
            "--assembly",
            asm,
            "--method",
            "direct",
            "Producer",
        ],
        "✓ Producer: CREATE_COMPLETE\n",
    );
    if moto.faithful() {
        delete_stacks(&aws, &["Producer", "Big"]).await;
        let bucket = aws.assets_bucket().await.unwrap();
        remove_bootstrap(&aws, &bucket).await;
    }
}

/// `diff --change-set` of a template over the body limit sends it through the assets bucket, so it checks the
/// bootstrap stack first, as a deploy does: with an outdated bootstrap stack (its bucket still there) it is
/// refused with the fix before any change set is made, while a plain diff needs no bucket and still works.
#[tokio::test(flavor = "multi_thread")]
async fn diff_with_a_change_set_of_a_large_template_checks_the_bootstrap_stack() {
    let Some(moto) = start_moto() else { return };
    let aws = clients(&moto).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let asm = dir.to_str().unwrap();
    let big = |value: &str| {
        let app = App::new();
        add_big(&app, value);
        synth(app, &dir);
    };
    assert_eq!(run(&moto, &["bootstrap"]).code, 0);
    big("v1");
    deploys(
        &moto,
        &["deploy", "--assembly", asm, "Big"],
        "✓ Big: CREATE_COMPLETE\n",
    );
    // The bootstrap stack as an older cfnkit left it: the same bucket, version 0.
    let mut outdated: serde_json::Value =
        serde_json::from_str(&cfnkit_deploy::bootstrap::template().unwrap()).unwrap();
    outdated["Outputs"]["BootstrapVersion"]["Value"] = json!("0");
    aws.cfn
        .update_stack()
        .stack_name("CfnkitBootstrap")
        .template_body(outdated.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(settled(&aws, "CfnkitBootstrap").await, "UPDATE_COMPLETE");
    big("v2");
    let bytes = cfnkit_deploy::assembly::Assembly::load(&dir)
        .unwrap()
        .manifest
        .stack("Big")
        .unwrap()
        .bytes;

    let r = run(&moto, &["diff", "--assembly", asm, "--change-set", "Big"]);
    // 2: an error, not "differs" (1).
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(
        r.stderr.contains(&format!(
            "error: the bootstrap stack CfnkitBootstrap has version 0, but this cfnkit needs version 1 or newer (for \
             the template of Big, {bytes} bytes, over CloudFormation's 51200 byte limit); run `cargo cfn bootstrap` \
             to update it"
        )),
        "{}",
        r.stderr
    );
    assert_no_pending_change_set(&aws, "Big").await;
    // Without a change set nothing is uploaded: the diff works as it is.
    let r = run(&moto, &["diff", "--assembly", asm, "Big"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("~ Properties.Value \"v1\" -> \"v2\""),
        "{}",
        r.stdout
    );
    // Once bootstrap has updated the stack, the change set is made.
    assert_eq!(run(&moto, &["bootstrap"]).code, 0);
    let r = run(&moto, &["diff", "--assembly", asm, "--change-set", "Big"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("~ Properties.Value \"v1\" -> \"v2\"") && !r.stderr.contains("error"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    if moto.faithful() {
        delete_stacks(&aws, &["Big"]).await;
        let bucket = aws.assets_bucket().await.unwrap();
        remove_bootstrap(&aws, &bucket).await;
    }
}

/// An app whose second version adds an IAM role (a security change that broadens permissions) and whose
/// `setting` is a change that does not.
fn access_app(setting: &str, role: bool) -> App {
    let app = App::new();
    let stack = app.stack("Access");
    stack.add_raw(
        "Setting",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Name", "/cfnkit-test/access")
            .prop("Type", "String")
            .prop("Value", setting),
    );
    if role {
        stack.add_raw(
            "Runner",
            RawResource::new("AWS::IAM::Role").prop(
                "AssumeRolePolicyDocument",
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            ),
        );
    }
    app
}

/// `--require-approval`: a deploy adding a role is shown as a security change and, without a terminal to ask,
/// refused before any change set is made; `--require-approval never` deploys it; a change that broadens
/// nothing needs no approval, except with `any-change`.
#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_that_broadens_permissions_needs_approval() {
    let Some(moto) = start_moto() else { return };
    let aws = clients(&moto).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let asm = dir.to_str().unwrap();

    synth(access_app("v1", false), &dir);
    let r = run(&moto, &["deploy", "--assembly", asm]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    synth(access_app("v1", true), &dir);
    let r = run(&moto, &["deploy", "--assembly", asm]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("Security changes in Access\n")
            && r.stderr.contains(
                "│ + │ Runner (AWS::IAM::Role) │ Allow  │ sts:AssumeRole │ Service:lambda.amazonaws.com │ \
                 ${Runner} │"
            ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "error: refusing to deploy Access without approval: its changes broaden permissions (--require-approval \
             broadening, the default), and standard input is not a terminal to ask; review the changes above, then \
             pass --require-approval never to deploy without asking"
        ),
        "{}",
        r.stderr
    );
    // Nothing executed, nor even a change set made: the deployed template has no role.
    let deployed = cfnkit_deploy::cfn::template(&aws.cfn, "Access")
        .await
        .unwrap();
    assert!(!deployed.contains("Runner"), "{deployed}");
    assert_no_pending_change_set(&aws, "Access").await;
    // diff shows the same table after the resource changes.
    let r = run(&moto, &["diff", "--assembly", asm]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.starts_with(
            "Stack Access\n  Resources\n  [+] AWS::IAM::Role Runner\nSecurity changes in Access\n┌"
        ) && r
            .stdout
            .contains("│ + │ Runner (AWS::IAM::Role) │ Allow  │ sts:AssumeRole"),
        "{}",
        r.stdout
    );
    let r = deploys(
        &moto,
        &["deploy", "--assembly", asm, "--require-approval", "never"],
        "✓ Access: UPDATE_COMPLETE\n",
    );
    assert!(!r.stderr.contains("Security changes"), "{}", r.stderr);

    // Changing a value broadens nothing: deployed without asking. With any-change, every change is asked about.
    synth(access_app("v2", true), &dir);
    let r = run(
        &moto,
        &[
            "deploy",
            "--assembly",
            asm,
            "--require-approval",
            "any-change",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("      ~ Properties.Value \"v1\" -> \"v2\"\n")
            && r.stderr.contains(
                "error: refusing to deploy Access without approval: --require-approval any-change asks before any \
                 change"
            ),
        "{}",
        r.stderr
    );
    deploys(
        &moto,
        &["deploy", "--assembly", asm],
        "✓ Access: UPDATE_COMPLETE\n",
    );
    if moto.faithful() {
        delete_stacks(&aws, &["Access"]).await;
    }
}

/// `--parameters`: a parameter without a default and without a value stops the deploy before it starts; an
/// unknown one is named with the parameters the stack declares; `STACK:KEY=VALUE` and `KEY=VALUE` set values;
/// a later deploy without values keeps the deployed ones.
#[tokio::test(flavor = "multi_thread")]
async fn parameters_are_checked_passed_and_kept() {
    let Some(moto) = start_moto() else { return };
    let aws = clients(&moto).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let asm = dir.to_str().unwrap();
    let app = App::new();
    let stack = app.stack("Params");
    let setting = stack.add_parameter("Setting", cfnkit::Parameter::string());
    let size = stack.add_parameter("Size", cfnkit::Parameter::string().default_value("small"));
    stack.add_raw(
        "SettingValue",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Name", "/cfnkit-test/setting")
            .prop("Type", "String")
            .prop("Value", setting.ref_()),
    );
    stack.add_raw(
        "SizeValue",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Name", "/cfnkit-test/size")
            .prop("Type", "String")
            .prop("Value", size.ref_()),
    );
    synth(app, &dir);
    let parameters = || async {
        cfnkit_deploy::cfn::describe(&aws.cfn, "Params")
            .await
            .unwrap()
            .expect("Params is deployed")
            .parameters
    };

    let r = run(&moto, &["deploy", "--assembly", asm]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "error: stack Params declares parameter `Setting` without a Default and it has no value yet; pass \
             --parameters Params:Setting=VALUE"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(stack_names(&aws).await, Vec::<String>::new());
    let r = run(
        &moto,
        &[
            "deploy",
            "--assembly",
            asm,
            "--parameters",
            "Params:Settings=v1",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "error: stack Params declares no parameter `Settings` (--parameters Params:Settings=...); it declares: \
             Setting, Size"
        ),
        "{}",
        r.stderr
    );
    deploys(
        &moto,
        &[
            "deploy",
            "--assembly",
            asm,
            "--parameters",
            "Params:Setting=v1",
        ],
        "✓ Params: CREATE_COMPLETE\n",
    );
    assert_eq!(
        parameters().await.get("Setting").map(String::as_str),
        Some("v1")
    );

    deploys(
        &moto,
        &[
            "deploy",
            "--assembly",
            asm,
            "--parameters",
            "Setting=v2",
            "--parameters",
            "Size=large",
        ],
        "✓ Params: UPDATE_COMPLETE\n",
    );
    let p = parameters().await;
    assert_eq!(
        (
            p.get("Setting").map(String::as_str),
            p.get("Size").map(String::as_str)
        ),
        (Some("v2"), Some("large"))
    );

    // No values: the deployed ones stay (UsePreviousValue), so nothing changes.
    let r = run(&moto, &["deploy", "--assembly", asm]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "= Params: no changes\n"),
        "{}",
        r.stderr
    );
    let p = parameters().await;
    assert_eq!(
        (
            p.get("Setting").map(String::as_str),
            p.get("Size").map(String::as_str)
        ),
        (Some("v2"), Some("large")),
        "{}",
        r.stdout
    );

    // With any-change, a new parameter value is a change to ask about even though the template is the same;
    // without a terminal it is refused and the deployed value stays. The deployed value again is no change.
    let any_change = [
        "deploy",
        "--assembly",
        asm,
        "--require-approval",
        "any-change",
    ];
    let r = run(
        &moto,
        &[&any_change[..], &["--parameters", "Setting=v3"]].concat(),
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("Stack Params\n  Parameter values\n  [~] Setting \"v2\" -> \"v3\"\n")
            && !r.stderr.contains("Resources")
            && r.stderr.contains(
                "error: refusing to deploy Params without approval: --require-approval any-change asks before any \
                 change"
            ),
        "{}",
        r.stderr
    );
    assert_eq!(
        parameters().await.get("Setting").map(String::as_str),
        Some("v2")
    );
    let r = run(
        &moto,
        &[&any_change[..], &["--parameters", "Setting=v2"]].concat(),
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "= Params: no changes\n"),
        "{}",
        r.stderr
    );
    if moto.faithful() {
        delete_stacks(&aws, &["Params"]).await;
    }
}

/// `--concurrency 2`: the independent stacks A and B start together (both report "deploying" before any event of
/// either), each event line starts with its stack's name, and C, which depends on A, starts only after A is done.
/// moto completes a stack at once, so overlap shows in the order of the lines rather than in time.
#[tokio::test(flavor = "multi_thread")]
async fn independent_stacks_deploy_at_once_and_dependents_after() {
    let Some(moto) = start_moto() else { return };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let app = App::new();
    let mut stacks = Vec::new();
    for name in ["A", "B", "C"] {
        let stack = app.stack(name);
        stack.add_raw(
            "Value",
            RawResource::new("AWS::SSM::Parameter")
                .prop("Name", format!("/cfnkit-test/concurrency-{name}"))
                .prop("Type", "String")
                .prop("Value", name),
        );
        stacks.push(stack);
    }
    stacks[2].add_dependency(&stacks[0]);
    synth(app, &dir);
    let asm = dir.to_str().unwrap();

    let r = run(&moto, &["deploy", "--assembly", asm, "--concurrency", "2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut done: Vec<&str> = r.stdout.lines().collect();
    done.sort_unstable();
    assert_eq!(
        done,
        [
            "✓ A: CREATE_COMPLETE",
            "✓ B: CREATE_COMPLETE",
            "✓ C: CREATE_COMPLETE"
        ]
    );
    assert!(
        r.stderr.starts_with("A: deploying\nB: deploying\n"),
        "{}",
        r.stderr
    );
    let event_lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| !l.ends_with(": deploying"))
        .collect();
    assert!(!event_lines.is_empty());
    for line in &event_lines {
        assert!(
            ["A | ", "B | ", "C | "].iter().any(|p| line.starts_with(p)),
            "an event line without its stack: {line}"
        );
    }
    let lines: Vec<&str> = r.stderr.lines().collect();
    let a_done = lines
        .iter()
        .position(|l| l.starts_with("A | ") && l.contains("CREATE_COMPLETE"))
        .expect("A's CREATE_COMPLETE event");
    let c_starts = lines.iter().position(|l| *l == "C: deploying").unwrap();
    assert!(
        a_done < c_starts,
        "C started before A was done:\n{}",
        r.stderr
    );
    assert!(
        r.stdout.find("✓ A").unwrap() < r.stdout.find("✓ C").unwrap(),
        "{}",
        r.stdout
    );

    // One at a time (the default) is the manifest's order, without prefixes.
    let r = run(&moto, &["deploy", "--assembly", asm]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "= A: no changes\n= B: no changes\n= C: no changes\n")
    );
    if moto.faithful() {
        delete_stacks(&clients(&moto).await, &["C", "B", "A"]).await;
    }
}

/// On a terminal the security changes are shown and a yes is asked for: no deploys nothing, yes deploys.
#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_broadening_changes_are_asked_about() {
    let Some(moto) = start_moto() else { return };
    let aws = clients(&moto).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let asm = dir.to_str().unwrap();
    synth(access_app("v1", false), &dir);
    deploys(
        &moto,
        &["deploy", "--assembly", asm],
        "✓ Access: CREATE_COMPLETE\n",
    );
    synth(access_app("v1", true), &dir);

    let r = run_on_terminal(&moto, &["deploy", "--assembly", asm], "n\n");
    assert_eq!(r.code, 1, "{}", r.stdout);
    let asked = "Deploy Access with these changes? [y/N] ";
    assert!(
        r.stdout
            .contains("│ + │ Runner (AWS::IAM::Role) │ Allow  │ sts:AssumeRole")
            && r.stdout.contains(asked)
            && r.stdout
                .contains("error: deploy of Access declined; nothing was deployed"),
        "{}",
        r.stdout
    );
    let deployed = cfnkit_deploy::cfn::template(&aws.cfn, "Access")
        .await
        .unwrap();
    assert!(!deployed.contains("Runner"), "{deployed}");

    let r = run_on_terminal(&moto, &["deploy", "--assembly", asm], "y\n");
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        position(&r.stdout, asked) < position(&r.stdout, "✓ Access: UPDATE_COMPLETE"),
        "{}",
        r.stdout
    );
    let deployed = cfnkit_deploy::cfn::template(&aws.cfn, "Access")
        .await
        .unwrap();
    assert!(deployed.contains("Runner"), "{deployed}");
    if moto.faithful() {
        delete_stacks(&aws, &["Access"]).await;
    }
}

/// Guarded: a log group (stateful: it holds logs) and a parameter; `with_logs: false` drops the log group.
fn guarded_app(with_logs: bool, setting: &str) -> App {
    let app = App::new();
    let stack = app.stack("Guarded");
    if with_logs {
        stack
            .add_raw(
                "Logs",
                RawResource::new("AWS::Logs::LogGroup").prop("RetentionInDays", 7),
            )
            .apply_removal_policy(RemovalPolicy::Delete);
    }
    stack.add_raw(
        "Setting",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Name", "/cfnkit-test/guarded")
            .prop("Type", "String")
            .prop("Value", setting),
    );
    app
}

async fn stack_policy(aws: &cfnkit_deploy::aws::Clients, stack: &str) -> serde_json::Value {
    let body = aws
        .cfn
        .get_stack_policy()
        .stack_name(stack)
        .send()
        .await
        .unwrap()
        .stack_policy_body()
        .map(str::to_owned)
        .expect("the stack has a policy");
    serde_json::from_str(&body).unwrap()
}

async fn template_of(aws: &cfnkit_deploy::aws::Clients, stack: &str) -> serde_json::Value {
    let body = aws
        .cfn
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .unwrap()
        .template_body()
        .unwrap()
        .to_owned();
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_stateful_resource_is_refused_until_allow_replace_names_it() {
    let Some(moto) = start_moto() else { return };
    let aws = clients(&moto).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let asm = dir.to_str().unwrap();
    synth(guarded_app(true, "v1"), &dir);
    let r = run(&moto, &["deploy", "--assembly", asm]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Every deployed stack carries the guard's policy: no replacement or deletion of a stateful type by update.
    let policy = stack_policy(&aws, "Guarded").await;
    let deny = &policy["Statement"][1];
    assert_eq!(
        (&deny["Effect"], &deny["Action"], &deny["Resource"]),
        (
            &json!("Deny"),
            &json!(["Update:Replace", "Update:Delete"]),
            &json!("*")
        )
    );
    assert!(deny["Condition"]["StringEquals"]["ResourceType"]
        .as_array()
        .unwrap()
        .contains(&json!("AWS::Logs::LogGroup")));

    // The log group gone from the template: diff names it, deploy refuses before changing anything.
    synth(guarded_app(false, "v2"), &dir);
    let line = "  (!) Guarded/Logs (AWS::Logs::LogGroup, holds data) would be removed: it is no longer in the template\n";
    let r = run(&moto, &["diff", "--assembly", asm]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains(line), "{}", r.stdout);
    let r = run(&moto, &["deploy", "--assembly", asm]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!(
            "error: refusing to deploy: 1 stateful resource(s) would be lost:\n{line}"
        )) && r.stderr.contains("pass --allow-replace Guarded/Logs"),
        "{}",
        r.stderr
    );
    let deployed = template_of(&aws, "Guarded").await;
    assert!(deployed["Resources"]["Logs"].is_object(), "nothing changed");
    assert_eq!(
        deployed["Resources"]["Setting"]["Properties"]["Value"],
        "v1"
    );
    assert_no_pending_change_set(&aws, "Guarded").await;

    // Naming a stack the deploy does not have is a mistake, not a permission.
    let r = run(
        &moto,
        &[
            "deploy",
            "--assembly",
            asm,
            "--allow-replace",
            "Guardd/Logs",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "--allow-replace Guardd/Logs: this deploy has no stack Guardd (it deploys Guarded)"
        ),
        "{}",
        r.stderr
    );

    // Named, it goes through, and the policy is the strict one again afterwards.
    let r = run(
        &moto,
        &[
            "deploy",
            "--assembly",
            asm,
            "--allow-replace",
            "Guarded/Logs",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("✓ Guarded: UPDATE_COMPLETE"),
        "{}",
        r.stdout
    );
    let deployed = template_of(&aws, "Guarded").await;
    assert!(deployed["Resources"].get("Logs").is_none());
    assert_eq!(stack_policy(&aws, "Guarded").await, policy);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_guard_holds_with_the_direct_method_too() {
    let Some(moto) = start_moto() else { return };
    let aws = clients(&moto).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cfnkit.out");
    let asm = dir.to_str().unwrap();
    synth(guarded_app(true, "v1"), &dir);
    let r = run(&moto, &["deploy", "--assembly", asm, "--method", "direct"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // CreateStack carried the policy.
    assert_eq!(
        stack_policy(&aws, "Guarded").await["Statement"][1]["Effect"],
        "Deny"
    );
    synth(guarded_app(false, "v1"), &dir);
    let r = run(&moto, &["deploy", "--assembly", asm, "--method", "direct"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Guarded/Logs"), "{}", r.stderr);
    assert!(template_of(&aws, "Guarded").await["Resources"]["Logs"].is_object());
}

/// A cargo workspace of its own in a temporary directory: `app` (the default member, whose binary writes a
/// copy of `assembly` where synth is asked to) and `tools` (a second binary). `cargo cfn` is run from inside
/// `tools/src`.
fn workspace_with_app(root: &Path, assembly: &Path, second_default: bool) {
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let members = if second_default {
        "default-members = [\"app\", \"tools\"]"
    } else {
        "default-members = [\"app\"]"
    };
    write(
        "Cargo.toml",
        &format!("[workspace]\nmembers = [\"app\", \"tools\"]\n{members}\nresolver = \"2\"\n"),
    );
    for (package, bin) in [("app", "platform"), ("tools", "helper")] {
        write(
            &format!("{package}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \
                 \"{bin}\"\npath = \"src/main.rs\"\n"
            ),
        );
    }
    // The app: `synth --out DIR` copies the prepared assembly to DIR and records where it ran.
    write(
        "app/src/main.rs",
        &format!(
            "fn main() {{\n    let args: Vec<String> = std::env::args().collect();\n    assert_eq!(&args[1..3], \
             [\"synth\", \"--out\"]);\n    let out = std::path::Path::new(&args[3]);\n    \
             std::fs::create_dir_all(out).unwrap();\n    for e in std::fs::read_dir({:?}).unwrap() {{\n        let e \
             = e.unwrap();\n        std::fs::copy(e.path(), out.join(e.file_name())).unwrap();\n    }}\n    \
             std::fs::write(out.join(\"ran-in\"), std::env::current_dir().unwrap().to_str().unwrap()).unwrap();\n}}\n",
            assembly
        ),
    );
    write("tools/src/main.rs", "fn main() {}\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn cargo_cfn_finds_the_app_of_the_workspace_it_runs_in() {
    let Some(moto) = start_moto() else { return };
    let work = tempfile::tempdir().unwrap();
    let prepared = work.path().join("prepared");
    synth(guarded_app(true, "v1"), &prepared);
    let root = work.path().join("ws");
    workspace_with_app(&root, &prepared, false);
    let in_member = root.join("tools/src");
    let cfn = |args: &[&str]| {
        let out = with_moto_env(
            Command::new(env!("CARGO_BIN_EXE_cargo-cfn")).args(args),
            &moto,
        )
        .current_dir(&in_member)
        // A target directory of its own: the test's cargo holds a lock on the workspace's.
        .env("CARGO_TARGET_DIR", work.path().join("target"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
        let r = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        eprintln!(
            "$ cargo cfn {}\n[exit {}]\n{}{}",
            args.join(" "),
            r.code,
            r.stdout,
            r.stderr
        );
        r
    };

    // From a member's source directory: the workspace's default binary (not the member's), run at the root,
    // writing cfnkit.out at the root. As cargo runs it, with `cfn` as the first argument.
    let r = cfn(&["cfn", "diff"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("Stack Guarded (not deployed yet)\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(&format!(
            "run --quiet --manifest-path {} -p app --bin platform -- synth --out {}",
            root.join("Cargo.toml").display(),
            root.join("cfnkit.out").display()
        )),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(root.join("cfnkit.out/ran-in")).unwrap(),
        root.to_str().unwrap()
    );

    // --app names another binary (this one is no cfnkit app); --out is relative to where the tool runs.
    let r = cfn(&["diff", "--app", "helper", "--out", "elsewhere.out"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!(
            "-p tools --bin helper -- synth --out {}` finished but wrote no cloud assembly",
            in_member.join("elsewhere.out").display()
        )),
        "{}",
        r.stderr
    );
    let r = cfn(&["diff", "--app", "nonesuch"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!(
            "--app nonesuch names no binary of the workspace at {}; its binaries: platform (package app), helper \
             (package tools)",
            root.display()
        )),
        "{}",
        r.stderr
    );

    // Two default binaries: which one is the app is not guessed.
    workspace_with_app(&root, &prepared, true);
    let r = cfn(&["diff"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!(
            "`cargo run` at {} has no one app to run: its default members have 2 binaries and no `default-run`. \
             The workspace's binaries: platform (package app), helper (package tools); pass the app's with --app \
             NAME",
            root.display()
        )),
        "{}",
        r.stderr
    );
    let r = cfn(&["diff", "--app", "platform"]);
    assert_eq!(r.code, 1, "{}", r.stderr);

    // Outside any workspace, the error says what to do.
    let outside = work.path().join("nowhere");
    std::fs::create_dir_all(&outside).unwrap();
    let out = with_moto_env(
        Command::new(env!("CARGO_BIN_EXE_cargo-cfn")).arg("diff"),
        &moto,
    )
    .current_dir(&outside)
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains(&format!(
            "error: no cargo workspace at {}: ",
            outside.display()
        )) && stderr.contains("Run `cargo cfn` inside the app's workspace, or pass --app"),
        "{stderr}"
    );
}

/// Functions, an IAM role for them (moto checks that it exists) and a parameter: `code` is the zip's bytes (the
/// asset key names its hash, as `package` writes it), `mode` a variable of the function, `setting` the
/// parameter's value. Written into `dir` with the asset in the manifest.
fn function_app(dir: &Path, code: &[u8], mode: &str, setting: &str) -> String {
    let sha = cfnkit_deploy::assembly::sha256_hex(code);
    let key = format!("assets/probe/{sha}.zip");
    let app = App::new();
    let stack = app.stack("Functions");
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
            .prop(
                "Environment",
                json!({"Variables": {"MODE": mode, "REGION": {"Ref": "AWS::Region"}}}),
            ),
    );
    stack.add_raw(
        "Setting",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Name", "/cfnkit-test/hotswap")
            .prop("Type", "String")
            .prop("Value", setting),
    );
    synth(app, dir);
    std::fs::create_dir_all(dir.join("assets/probe")).unwrap();
    std::fs::write(dir.join(&key), code).unwrap();
    let path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["assets"] = json!([{
        "name": "probe", "packaged": true, "path": key, "sha256": sha, "bucket":
        cfnkit::constructs::lambda::ASSET_BUCKET, "key": key, "usedBy": ["Functions/Probe"],
    }]);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    key
}

/// The function's running code hash (base64, as Lambda reports it) and environment.
async fn running_function(
    aws: &cfnkit_deploy::aws::Clients,
    stack: &str,
) -> (String, std::collections::BTreeMap<String, String>) {
    let ids = cfnkit_deploy::cfn::physical_ids(&aws.cfn, stack)
        .await
        .unwrap();
    let f = aws
        .lambda
        .get_function_configuration()
        .function_name(&ids["Probe"])
        .send()
        .await
        .unwrap();
    let env = f
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    (f.code_sha256().unwrap().to_owned(), env)
}

/// `deploy --hotswap` updates a function's code and environment without a change set, says the stack has
/// drifted from its template, and undoes in the function what the source undoes; a change to anything else
/// goes through a change set, with the reason on one line.
#[tokio::test(flavor = "multi_thread")]
async fn hotswap_updates_code_and_environment_directly_and_falls_back_for_anything_else() {
    let Some(moto) = start_moto() else { return };
    if moto.faithful() {
        return;
    }
    let aws = clients(&moto).await;
    let work = tempfile::tempdir().unwrap();
    let asm = |n: &str| work.path().join(n).to_str().unwrap().to_owned();
    let (v1, v2) = (
        b"PK\x05\x06 version 1".as_slice(),
        b"PK\x05\x06 version 2".as_slice(),
    );
    let base64_sha = |code: &[u8]| {
        cfnkit_deploy::hotswap::key_sha256(&format!(
            "assets/probe/{}.zip",
            cfnkit_deploy::assembly::sha256_hex(code)
        ))
        .unwrap()
    };
    assert_eq!(run(&moto, &["bootstrap"]).code, 0);
    function_app(&work.path().join("one"), v1, "a", "x");
    let r = run(
        &moto,
        &[
            "deploy",
            "--require-approval",
            "never",
            "--assembly",
            &asm("one"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let deployed_template = template_of(&aws, "Functions").await;

    // New code and a new variable value: the function is updated directly, CloudFormation's template is not.
    let key2 = function_app(&work.path().join("two"), v2, "b", "x");
    let r = run(&moto, &["deploy", "--hotswap", "--assembly", &asm("two")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("⚡ Functions: hotswapped Probe (code, environment: MODE)\n  Functions has drifted from its template in CloudFormation until the next deploy without --hotswap\n"),
        "{}",
        r.stdout
    );
    let (sha, env) = running_function(&aws, "Functions").await;
    assert_eq!(sha, base64_sha(v2));
    assert_eq!(
        (env["MODE"].as_str(), env["REGION"].as_str()),
        ("b", REGION)
    );
    assert_eq!(template_of(&aws, "Functions").await, deployed_template);
    assert!(aws
        .s3
        .head_object()
        .bucket(aws.assets_bucket().await.unwrap())
        .key(&key2)
        .send()
        .await
        .is_ok());

    // Again: the template still differs from CloudFormation's, but the function already runs it.
    let r = run(&moto, &["deploy", "--hotswap", "--assembly", &asm("two")]);
    assert!(
        r.stdout.contains(
            "⚡ Functions: its functions already run as the template says\n  Functions has drifted"
        ),
        "{}",
        r.stdout
    );

    // Back to the deployed source: the template matches CloudFormation's again, and the function is put back.
    let r = run(&moto, &["deploy", "--hotswap", "--assembly", &asm("one")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("⚡ Functions: hotswapped Probe (code, environment: MODE)\n"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("drifted"), "{}", r.stdout);
    assert_eq!(running_function(&aws, "Functions").await.0, base64_sha(v1));
    let r = run(&moto, &["deploy", "--hotswap", "--assembly", &asm("one")]);
    assert!(r.stdout.contains("= Functions: no changes"), "{}", r.stdout);

    // The parameter changes too: one line says why, and the change set deploys it all.
    function_app(&work.path().join("three"), v2, "c", "y");
    let r = run(&moto, &["deploy", "--hotswap", "--assembly", &asm("three")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("→ Functions: not hotswapped, Resources.Setting changes (Properties.Value), which only a change set deploys: deploying it through a change set\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("✓ Functions: UPDATE_COMPLETE"),
        "{}",
        r.stdout
    );
    assert_eq!(
        template_of(&aws, "Functions").await["Resources"]["Setting"]["Properties"]["Value"],
        "y"
    );
    let (sha, env) = running_function(&aws, "Functions").await;
    assert_eq!((sha, env["MODE"].as_str()), (base64_sha(v2), "c"));

    // Flags that make no sense with it are refused by the parser.
    let r = run(
        &moto,
        &[
            "deploy",
            "--hotswap",
            "--no-execute",
            "--assembly",
            &asm("three"),
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
}

/// `gc` deletes the assets bucket's objects no stack refers to once they are older than the grace period, and
/// nothing with --dry-run; objects a stack's template names, and objects outside cfnkit's prefixes, stay.
#[tokio::test(flavor = "multi_thread")]
async fn gc_deletes_only_unreferenced_assets_older_than_the_grace_period() {
    let Some(moto) = start_moto() else { return };
    if moto.faithful() {
        return;
    }
    let aws = clients(&moto).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("out");
    assert_eq!(run(&moto, &["bootstrap"]).code, 0);
    let used = function_app(&dir, b"PK\x05\x06 in use", "a", "x");
    let r = run(
        &moto,
        &[
            "deploy",
            "--require-approval",
            "never",
            "--assembly",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bucket = aws.assets_bucket().await.unwrap();
    let stale = "assets/probe/0000000000000000000000000000000000000000000000000000000000000000.zip";
    for key in [stale, "notes/readme.txt"] {
        aws.s3
            .put_object()
            .bucket(&bucket)
            .key(key)
            .body(b"old".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let keys = || async {
        let listed = aws
            .s3
            .list_objects_v2()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        let mut keys: Vec<String> = listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    };
    let before = keys().await;
    assert!(
        before.contains(&used) && before.contains(&stale.to_owned()),
        "{before:?}"
    );

    // Everything was uploaded just now: the default grace period keeps it all.
    let r = run(&moto, &["gc"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("nothing to delete: 0 object(s)")
            && r.stdout.contains(
                "kept: 1 referred to by a stack, 1 not referred to but younger than 30 day(s)"
            ),
        "{}",
        r.stdout
    );
    let r = run(&moto, &["gc", "--grace", "0", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(&format!(
            "would delete 1 object(s), 3 bytes, that no stack refers to and older than 0 day(s), from s3://{bucket}\n  {stale}  3 bytes\n"
        )),
        "{}",
        r.stdout
    );
    assert_eq!(keys().await, before);

    let r = run(&moto, &["gc", "--grace", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("✓ deleted 1 object(s)"), "{}", r.stdout);
    let after = keys().await;
    assert!(!after.contains(&stale.to_owned()), "{after:?}");
    assert!(
        after.contains(&used) && after.contains(&"notes/readme.txt".to_owned()),
        "{after:?}"
    );
}
