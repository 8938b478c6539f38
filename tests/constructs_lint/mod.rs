//! cfn-lint on the example stacks of the construct tests: required in CI, skipped with a note elsewhere.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use cfnkit::synth::{output, synth};
use cfnkit::App;

/// cfn-lint from PATH, `.ci/venv/bin` or pyenv's shims.
fn cfn_lint() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let works = |p: &PathBuf| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    [
        PathBuf::from("cfn-lint"),
        root.join(".ci/venv/bin/cfn-lint"),
        PathBuf::from("/root/.pyenv/shims/cfn-lint"),
    ]
    .into_iter()
    .find(works)
}

/// Writes every template of the app to a temporary directory (as `synth` does) and asserts cfn-lint reports
/// nothing at any level. Without cfn-lint the test fails when `CI=true` and is skipped with a note otherwise.
pub fn lint_or_skip(app: &App) {
    let Some(lint) = cfn_lint() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("cfn-lint not found (PATH, .ci/venv/bin, /root/.pyenv/shims) and CI=true: install it");
        }
        eprintln!("note: cfn-lint not found: skipping the lint of the synthesized templates");
        return;
    };
    let assembly = synth(app).unwrap_or_else(|e| panic!("synth failed: {e}"));
    let rendered = output::render(&assembly, output::Format::Json, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cdk.out");
    output::write_atomically(&out, &rendered.files).unwrap();
    let files: Vec<PathBuf> = rendered
        .files
        .iter()
        .filter(|(name, _)| name.ends_with(".template.json"))
        .map(|(name, _)| out.join(name))
        .collect();
    assert!(!files.is_empty(), "no templates rendered");
    let result = Command::new(lint)
        .args(["--format", "parseable", "--"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "cfn-lint findings:\n{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
}
