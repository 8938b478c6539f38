//! `cargo cfn new` end to end, as a user meets it: the workspace it writes (depending on this checkout by path)
//! is rustfmt-clean, its `cargo run -- synth` passes the rule pack, and its `cargo test` passes, twice (the first
//! run writes the snapshot, the second compares with it). Its builds share one target directory under this
//! checkout's, so cfnkit and the AWS SDK are compiled once, not on every run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("deploy/ is in the checkout")
        .to_path_buf()
}

fn cargo_cfn(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-cfn"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cargo-cfn runs")
}

/// cargo in the new workspace as its user runs it: without CI's settings (insta's first run writes the
/// snapshot), building into the shared target directory.
fn cargo(workspace: &Path, args: &[&str]) -> Output {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| checkout().join("target"), PathBuf::from)
        .join("new-app");
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .output()
        .expect("cargo runs")
}

#[track_caller]
fn assert_success(what: &str, out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    text
}

#[test]
fn the_new_workspace_synthesizes_clean_and_passes_its_tests() {
    let tmp = tempfile::tempdir().unwrap();
    let root = checkout();
    let out = cargo_cfn(
        tmp.path(),
        &["new", "demo", "--cfnkit-path", root.to_str().unwrap()],
    );
    let printed = assert_success("cargo cfn new demo", &out);
    assert!(printed.contains("cargo run -- synth"), "{printed}");
    let ws = tmp.path().join("demo");
    for file in [
        ".gitignore",
        "README.md",
        "infra/src/lib.rs",
        "handlers/src/bin/create_order.rs",
    ] {
        assert!(ws.join(file).is_file(), "{file} was not written");
    }

    assert_success("cargo fmt --check", &cargo(&ws, &["fmt", "--check"]));

    let assembly = tmp.path().join("out");
    let synth = cargo(
        &ws,
        &[
            "run",
            "--quiet",
            "--",
            "synth",
            "--out",
            assembly.to_str().unwrap(),
        ],
    );
    let report = assert_success("cargo run -- synth", &synth);
    assert!(
        report.contains("rules: 0 error(s), 0 warning(s)"),
        "{report}"
    );
    assert!(assembly.join("Demo.template.json").is_file(), "{report}");

    let tests = assert_success("the first cargo test", &cargo(&ws, &["test"]));
    for test in [
        "the_template_matches_its_snapshot",
        "the_api_route_needs_iam_auth",
        "the_table_stream_feeds_process_order",
        "the_handlers_compile",
        "a_record_that_is_not_an_order_is_reported_and_the_rest_retried",
    ] {
        assert!(
            tests.contains(&format!("{test} ... ok")),
            "{test} did not pass:\n{tests}"
        );
    }
    let snapshot = ws.join("infra/tests/snapshots/template__template.snap");
    assert!(
        snapshot.is_file(),
        "the first run writes the snapshot:\n{tests}"
    );
    // The second run compares with the snapshot the first one wrote: the template is the same on every synth.
    assert_success(
        "the second cargo test",
        &cargo(&ws, &["test", "-p", "infra", "--test", "template"]),
    );
}

#[test]
fn a_bad_name_is_refused_naming_the_value_and_the_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cargo_cfn(tmp.path(), &["new", "9lives"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"9lives\" is not a valid app name: it starts with '9', not a letter"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing is written"
    );
}

#[test]
fn an_existing_directory_is_refused_and_left_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("demo")).unwrap();
    std::fs::write(tmp.path().join("demo/notes.txt"), "mine").unwrap();
    let out = cargo_cfn(tmp.path(), &["new", "demo"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("demo exists and is not an empty directory: pick another NAME"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path().join("demo"))
        .unwrap()
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "no staging directory is left"
    );
}

#[test]
fn cfnkit_comes_from_one_place() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cargo_cfn(
        tmp.path(),
        &[
            "new",
            "demo",
            "--cfnkit-path",
            ".",
            "--cfnkit-git",
            "https://example.com/x",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}
