//! checkov on the example stacks of the construct tests: required in CI, skipped with a note elsewhere.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use cfnkit::synth::{output, synth};
use cfnkit::App;

/// checkov from `.ci/venv-checkov` (where CI installs the pinned version) or PATH.
fn checkov() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let works = |p: &PathBuf| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    [
        root.join(".ci/venv-checkov/bin/checkov"),
        PathBuf::from("checkov"),
    ]
    .into_iter()
    .find(works)
}

/// Writes every template of the app to a temporary directory and asserts checkov reports checks that ran and
/// none failed. Without checkov the test fails when `CI=true` and is skipped with a note otherwise.
pub fn checkov_or_skip(app: &App) {
    let Some(checkov) = checkov() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("checkov not found (.ci/venv-checkov/bin, PATH) and CI=true: install it");
        }
        eprintln!("note: checkov not found: skipping checkov on the synthesized templates");
        return;
    };
    let assembly = synth(app).unwrap_or_else(|e| panic!("synth failed: {e}"));
    let rendered = output::render(&assembly, output::Format::Json, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in &rendered.files {
        if name.ends_with(".template.json") {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
    }
    let result = Command::new(checkov)
        .arg("-d")
        .arg(dir.path())
        .args([
            "--framework",
            "cloudformation",
            "--skip-download",
            "--compact",
            "--quiet",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    // A parse failure reports no checks at all: demand that checks ran, and that none failed.
    let ran = stdout
        .lines()
        .any(|l| l.contains("Failed checks: 0") && !l.contains("Passed checks: 0,"));
    assert!(
        ran,
        "checkov found failed checks (or ran none):\n{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Asserts that the rule pack finds no unsuppressed error or warning in the app's templates.
pub fn assert_rules_clean(app: &App) {
    let assembly = synth(app).unwrap_or_else(|e| panic!("synth failed: {e}"));
    let report = cfnkit::rules::check(&assembly);
    let open: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| f.to_string())
        .collect();
    assert!(open.is_empty(), "rule pack findings:\n{}", open.join("\n"));
}
