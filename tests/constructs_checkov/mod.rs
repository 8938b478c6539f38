//! checkov and the rule pack on the example stacks of the construct tests. checkov is required in CI (which
//! installs it into `.ci/venv-checkov` before the tests run) and skipped with a note elsewhere.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use cfnkit::synth::{output, synth};
use cfnkit::App;

/// checkov from `.ci/venv-checkov/bin` or PATH.
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

/// Runs checkov (CloudFormation checks, offline) on every template of the app and asserts that checks ran and
/// none failed. Checks skipped in a resource's `Metadata.checkov.skip` (with their comment) count as skipped,
/// not failed. Without checkov the test fails when `CI=true` and is skipped with a note otherwise.
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
            "--quiet",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON report ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&result.stderr)
        )
    });
    let summary = &report["summary"];
    let failed: Vec<String> = report["results"]["failed_checks"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|c| format!("{} {} on {}", c["check_id"], c["check_name"], c["resource"]))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        summary["passed"].as_u64().unwrap_or(0) > 0,
        "checkov ran no checks: {summary}"
    );
    assert_eq!(
        summary["failed"].as_u64(),
        Some(0),
        "checkov failed checks:\n{}",
        failed.join("\n")
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
