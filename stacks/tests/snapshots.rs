//! Snapshots of every template the platform synthesizes, in the top-level `snapshots/` folder, as YAML (the form
//! that shows small diffs best in review), plus each API's OpenAPI document and the manifest as synth writes them. CI runs with INSTA_UPDATE=no: a change to a
//! template fails until its snapshot is reviewed and committed.

use std::collections::BTreeSet;
use std::path::Path;

use cfnkit::synth::output::{render, Format};

const SNAPSHOTS: &str = "../../snapshots";

#[test]
fn every_stack_matches_its_snapshot() {
    let app = stacks::app().expect("the platform app builds");
    let assembly = cfnkit::synth::synth(&app).expect("the platform synthesizes");
    let rendered = render(&assembly, Format::Json, &[]).unwrap();
    let file = |name: &str| {
        rendered
            .files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, body)| body.clone())
            .unwrap_or_else(|| panic!("synth wrote no {name}"))
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(SNAPSHOTS);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for s in &assembly.stacks {
            insta::assert_snapshot!(s.name.clone(), s.template.to_yaml());
        }
        for api in &rendered.apis {
            let name = format!("{}.{}.openapi", api.stack, api.api);
            insta::assert_snapshot!(name, file(&api.document));
        }
        insta::assert_snapshot!("manifest", file("manifest.json"));
    });

    // A snapshot of a stack that no longer exists would otherwise linger unnoticed.
    let expected: BTreeSet<String> = assembly
        .stacks
        .iter()
        .map(|s| format!("{}.snap", s.name))
        .chain(
            rendered
                .apis
                .iter()
                .map(|a| format!("{}.{}.openapi.snap", a.stack, a.api)),
        )
        .chain(["manifest.snap".to_owned()])
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(SNAPSHOTS);
    let found: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".snap"))
        .collect();
    let stale: Vec<_> = found.difference(&expected).collect();
    assert!(
        stale.is_empty(),
        "snapshots of stacks the app no longer has: {stale:?} in {}; delete them",
        dir.display()
    );
}

#[test]
fn synth_is_deterministic() {
    let once = || {
        let assembly = cfnkit::synth::synth(&stacks::app().unwrap()).unwrap();
        render(&assembly, Format::Json, &[]).unwrap().files
    };
    assert_eq!(once(), once());
}
