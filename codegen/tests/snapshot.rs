//! The generator's output for a tiny fake schema (codegen/tests/fake-schemas) is committed as the crate
//! codegen/tests/fake-l1, a workspace member, so it must compile; its tests/api.rs exercises the generated API.
//! This test fails when generating again would change it. Accept a change with:
//!     CFNKIT_BLESS=1 cargo test -p cfnkit-codegen --test snapshot

use std::path::{Path, PathBuf};

use cfnkit_codegen::{format, generate, stale, write, Config};

fn fake_dirs(here: &Path) -> (PathBuf, PathBuf) {
    (here.join("fake-schemas"), here.join("fake-docs"))
}

/// `dirs`: the fake schemas and the fake descriptions (`fake_dirs`).
fn config(dirs: &(PathBuf, PathBuf)) -> Config<'_> {
    Config {
        crate_name: "cfnkit-fake-l1",
        description: "Generator snapshot: cfnkit-codegen's output for codegen/tests/fake-schemas",
        schema_dir: &dirs.0,
        docs_dir: Some(&dirs.1),
        schema_label: "codegen/tests/fake-schemas",
        default_features: &["fake"],
        fixups: &[],
        regenerate: "CFNKIT_BLESS=1 cargo test -p cfnkit-codegen --test snapshot",
    }
}

#[test]
fn fake_schema_output_matches_the_committed_crate() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let dirs = fake_dirs(&here);
    let config = config(&dirs);
    let mut files = generate(&config).expect("generate");
    format(
        &mut files,
        &std::env::temp_dir().join(format!("cfnkit-fake-l1-{}", std::process::id())),
    )
    .expect("rustfmt");
    let out = here.join("fake-l1");
    if std::env::var_os("CFNKIT_BLESS").is_some() {
        write(&files, &out).expect("write");
        return;
    }
    let stale = stale(&files, &out);
    assert!(stale.is_empty(), "codegen/tests/fake-l1 is stale: {stale:#?}\nrun CFNKIT_BLESS=1 cargo test -p cfnkit-codegen --test snapshot and review the diff");
}

/// The doc comment just before `item` (a line of the generated file), as text without the `///`s.
fn doc_before(file: &str, item: &str) -> String {
    let lines: Vec<&str> = file.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == item)
        .unwrap_or_else(|| panic!("{item} not generated"));
    let mut docs: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("///") || l.starts_with("#["))
        .filter(|l| l.starts_with("///"))
        .map(|l| l.trim_start_matches("///").trim())
        .collect();
    docs.reverse();
    docs.join("\n")
}

#[test]
fn descriptions_reach_the_resource_its_properties_attributes_and_property_types() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let files = generate(&config(&fake_dirs(&here))).expect("generate");
    let widget = &files[Path::new("src/fake/widget.rs")];
    let resource = doc_before(widget, "pub struct Widget {");
    // The reference link stays first; the description follows, made safe for rustdoc.
    assert!(
        resource.starts_with("The [`AWS::Fake::Widget`](https://docs.aws.amazon.com/"),
        "{resource}"
    );
    assert!(
        resource.contains("[Widgets](https://docs.aws.amazon.com/fake/widgets.html) and Relative."),
        "{resource}"
    );
    assert!(resource.contains("widget's \\[type\\] after"), "{resource}");
    assert!(resource.contains("```text\n{\"Statement\""), "{resource}");
    assert!(
        resource.contains("More at <https://aws.amazon.com/fake/>."),
        "{resource}"
    );
    let name = doc_before(widget, "pub name: Option<Val<String>>,");
    assert!(
        name.starts_with(
            "`Name`: required. Changing it replaces the resource.\n\nThe widget's name."
        ),
        "{name}"
    );
    assert!(
        name.contains("- Length: 3 to 64."),
        "constraints are kept after the description: {name}"
    );
    let arn = doc_before(widget, "pub fn attr_arn(&self) -> Val<String> {");
    assert!(arn.contains("The widget's ARN"), "{arn}");
    let address = doc_before(
        widget,
        "pub fn attr_endpoint_address(&self) -> Val<String> {",
    );
    assert!(
        address.contains("The address \\<host> clients"),
        "{address}"
    );
    let rule = doc_before(widget, "pub struct Rule {");
    assert!(
        rule.contains("A rule: an action and an optional match."),
        "{rule}"
    );
    let action = doc_before(widget, "pub action: Option<Val<Action>>,");
    assert!(
        action.contains("What happens when the rule matches."),
        "{action}"
    );
    // No description: the generated docs only.
    let ratio = doc_before(widget, "pub ratio: Option<Val<f64>>,");
    assert_eq!(ratio, "`Ratio`.");
    let handle = &files[Path::new("src/fake/widget_handle.rs")];
    assert!(doc_before(handle, "pub struct WidgetHandle {").contains("A widget handle."));
}
