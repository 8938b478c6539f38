//! The generator's output for a tiny fake schema (codegen/tests/fake-schemas) is committed as the crate
//! codegen/tests/fake-l1, a workspace member, so it must compile; its tests/api.rs exercises the generated API.
//! This test fails when generating again would change it. Accept a change with:
//!     CFNKIT_BLESS=1 cargo test -p cfnkit-codegen --test snapshot

use std::path::Path;

use cfnkit_codegen::{format, generate, stale, write, Config};

#[test]
fn fake_schema_output_matches_the_committed_crate() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let config = Config {
        crate_name: "cfnkit-fake-l1",
        description: "Generator snapshot: cfnkit-codegen's output for codegen/tests/fake-schemas",
        schema_dir: &here.join("fake-schemas"),
        schema_label: "codegen/tests/fake-schemas",
        default_features: &["fake"],
        fixups: &[],
        regenerate: "CFNKIT_BLESS=1 cargo test -p cfnkit-codegen --test snapshot",
    };
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
