//! Helpers shared by the construct tests: the synthesized template as JSON, and the three judges of an example
//! stack: cfn-lint, checkov and the rule pack. The external tools are required when `CI=true` and skipped with a
//! note elsewhere.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use cfnkit::synth::{output, synth};
use cfnkit::App;
use serde_json::Value;

/// The synthesized template of `stack`, as JSON.
pub fn template(app: &App, stack: &str) -> Value {
    let assembly = synth(app).unwrap_or_else(|e| panic!("synth failed: {e}"));
    let node = &assembly
        .stack(stack)
        .unwrap_or_else(|| panic!("no stack {stack}"))
        .template;
    serde_json::from_str(&node.to_json()).unwrap()
}

/// The resource of this logical ID.
pub fn resource<'a>(t: &'a Value, logical_id: &str) -> &'a Value {
    t["Resources"]
        .get(logical_id)
        .unwrap_or_else(|| panic!("no resource {logical_id} in {:#}", t["Resources"]))
}

/// Logical IDs of the resources of this type.
pub fn of_type(t: &Value, type_name: &str) -> Vec<String> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == type_name)
        .map(|(k, _)| k.clone())
        .collect()
}

/// The statements of a policy document.
pub fn statements(doc: &Value) -> Vec<Value> {
    doc["Statement"].as_array().cloned().unwrap_or_default()
}

/// The statements of the role's inline grants policy.
pub fn role_statements(t: &Value, role: &str) -> Vec<Value> {
    let policies = &resource(t, role)["Properties"]["Policies"];
    policies
        .as_array()
        .map(|ps| {
            ps.iter()
                .flat_map(|p| statements(&p["PolicyDocument"]))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether some statement allows `action`.
pub fn allows(stmts: &[Value], action: &str) -> bool {
    stmts.iter().any(|s| {
        s["Effect"] == "Allow"
            && match &s["Action"] {
                Value::String(a) => a == action,
                Value::Array(a) => a.iter().any(|x| x == action),
                _ => false,
            }
    })
}

/// Where a tool may be: on PATH, or in a directory of this repository (`.ci/venv/bin`, made by `.ci/run`). Never a
/// machine's own path: the tests run on any checkout.
fn on_path_or_in_repo(tool: &str, repo_dir: &str) -> [PathBuf; 2] {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [PathBuf::from(tool), root.join(repo_dir).join(tool)]
}

/// The first of `candidates` that runs `--version` successfully.
fn find_tool(candidates: impl IntoIterator<Item = PathBuf>) -> Option<PathBuf> {
    candidates.into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The tool, or `None` after a note when it is missing outside CI; missing in CI (`CI=true`) is a failure.
fn required_in_ci(name: &str, found: Option<PathBuf>, looked_in: &str) -> Option<PathBuf> {
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} not found ({looked_in}) and CI=true: install it");
        }
        eprintln!("note: {name} not found: skipping {name} on the synthesized templates");
    }
    found
}

/// Every template of the app, synthesized and written to a temporary directory (as `synth` does).
fn write_templates(app: &App) -> (tempfile::TempDir, Vec<PathBuf>) {
    let assembly = synth(app).unwrap_or_else(|e| panic!("synth failed: {e}"));
    let rendered = output::render(&assembly, output::Format::Json, &[]).unwrap();
    let templates: Vec<(&str, &str)> = rendered
        .files
        .iter()
        .filter(|(name, _)| name.ends_with(".template.json"))
        .map(|(name, body)| (name.as_str(), body.as_str()))
        .collect();
    write_bodies(&templates)
}

/// `(file name, template JSON)` pairs written to a temporary directory.
fn write_bodies(templates: &[(&str, &str)]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, body) in templates {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        files.push(path);
    }
    assert!(!files.is_empty(), "no templates rendered");
    (dir, files)
}

/// Asserts cfn-lint reports nothing at any level (informational included) on every template of the app.
pub fn lint_or_skip(app: &App) {
    lint_ignoring_or_skip(app, &[]);
}

/// [`lint_or_skip`] with some of cfn-lint's checks left out: for a finding about the test's own input, never
/// about what a construct wrote. Each caller says why.
pub fn lint_ignoring_or_skip(app: &App, ignored: &[&str]) {
    let found = find_tool(on_path_or_in_repo("cfn-lint", ".ci/venv/bin"));
    let Some(lint) = required_in_ci("cfn-lint", found, "PATH, .ci/venv/bin") else {
        return;
    };
    let (_dir, files) = write_templates(app);
    run_lint(&lint, &files, ignored);
}

/// [`lint_or_skip`] on templates that are not an app's stacks (a stack set's `TemplateBody`): `(file name, JSON)`.
pub fn lint_bodies_or_skip(templates: &[(&str, &str)]) {
    let found = find_tool(on_path_or_in_repo("cfn-lint", ".ci/venv/bin"));
    let Some(lint) = required_in_ci("cfn-lint", found, "PATH, .ci/venv/bin") else {
        return;
    };
    let (_dir, files) = write_bodies(templates);
    run_lint(&lint, &files, &[]);
}

fn run_lint(lint: &std::path::Path, files: &[PathBuf], ignored: &[&str]) {
    let result = Command::new(lint)
        // Informational findings too (I3011 a stateful resource without explicit policies, I1022...): a
        // construct's defaults must be clean at every level.
        .args(["--format", "parseable", "--include-checks", "I"])
        .args(ignored.iter().flat_map(|c| ["--ignore-checks", c]))
        .arg("--")
        .args(files)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "cfn-lint findings:\n{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Asserts checkov ran checks on the app's templates and none failed.
pub fn checkov_or_skip(app: &App) {
    // The repository's venv first: .ci/run installs the pinned checkov there, and a checkov on PATH may be another
    // version.
    let found = find_tool(
        on_path_or_in_repo("checkov", ".ci/venv-checkov/bin")
            .into_iter()
            .rev(),
    );
    let Some(checkov) = required_in_ci("checkov", found, ".ci/venv-checkov/bin, PATH") else {
        return;
    };
    let (dir, _files) = write_templates(app);
    run_checkov(&checkov, &dir);
}

/// [`checkov_or_skip`] on templates that are not an app's stacks (a stack set's `TemplateBody`): `(file name, JSON)`.
pub fn checkov_bodies_or_skip(templates: &[(&str, &str)]) {
    let found = find_tool(
        on_path_or_in_repo("checkov", ".ci/venv-checkov/bin")
            .into_iter()
            .rev(),
    );
    let Some(checkov) = required_in_ci("checkov", found, ".ci/venv-checkov/bin, PATH") else {
        return;
    };
    let (dir, _files) = write_bodies(templates);
    run_checkov(&checkov, &dir);
}

fn run_checkov(checkov: &std::path::Path, dir: &tempfile::TempDir) {
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
