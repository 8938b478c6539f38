//! Helpers shared by the construct tests: the synthesized template as JSON, and cfn-lint on an app.
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

fn cfn_lint() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        root.join(".ci/venv/bin/cfn-lint"),
        PathBuf::from("/usr/local/bin/cfn-lint"),
    ];
    if let Some(p) = candidates.into_iter().find(|p| p.exists()) {
        return Some(p);
    }
    let on_path = Command::new("cfn-lint").arg("--version").output();
    on_path
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("cfn-lint"))
}

/// Runs cfn-lint on every template of the app (JSON), asserting zero findings of any level. Skipped, with a note,
/// when cfn-lint is not installed (CI installs it, so CI always runs it).
pub fn assert_cfn_lint_clean(app: &App) {
    let Some(lint) = cfn_lint() else {
        eprintln!("cfn-lint not found: skipping the lint of the synthesized templates");
        return;
    };
    let assembly = synth(app).unwrap();
    let rendered = output::render(&assembly, output::Format::Json, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, body) in &rendered.files {
        if name.ends_with(".template.json") {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            files.push(p);
        }
    }
    assert!(!files.is_empty());
    let out = Command::new(lint)
        .arg("--format")
        .arg("parseable")
        .arg("--")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cfn-lint findings:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
