//! `cargo run -p cfnkit-codegen` regenerates l1/ from schemas/us-east-1;
//! `cargo run -p cfnkit-codegen -- --check` fails, listing stale files, when l1/ is not what it would generate.

use std::process::ExitCode;

use cfnkit_codegen::{fixups, workspace_root, Config, DEFAULT_FEATURES};

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("unknown argument {other}; usage: cfnkit-codegen [--check]");
            return ExitCode::from(2);
        }
    };
    let root = workspace_root();
    let schema_dir = root.join("schemas/us-east-1");
    let docs_dir = root.join("schemas/docs");
    let config = Config {
        crate_name: "cfnkit-l1",
        description: "Every CloudFormation resource type, typed: generated from the CloudFormation registry schemas",
        schema_dir: &schema_dir,
        docs_dir: Some(&docs_dir),
        schema_label: "schemas/us-east-1",
        default_features: DEFAULT_FEATURES,
        fixups: fixups::FIXUPS,
        regenerate: "cargo run -p cfnkit-codegen",
    };
    let out = root.join("l1");
    let scratch = std::env::temp_dir().join(format!("cfnkit-codegen-{}", std::process::id()));
    let result = cfnkit_codegen::generate(&config).and_then(|mut files| {
        cfnkit_codegen::format(&mut files, &scratch)?;
        Ok(files)
    });
    let files = match result {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if check {
        let stale = cfnkit_codegen::stale(&files, &out);
        if stale.is_empty() {
            println!("l1/ is up to date ({} files)", files.len());
            return ExitCode::SUCCESS;
        }
        for s in &stale {
            eprintln!("{s}");
        }
        eprintln!(
            "l1/ is stale ({} files): run `cargo run -p cfnkit-codegen` and commit the result",
            stale.len()
        );
        return ExitCode::FAILURE;
    }
    match cfnkit_codegen::write(&files, &out) {
        Ok(n) => {
            println!("generated {} files into l1/ ({n} changed)", files.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
