//! Running the app's own synth before a command, so that what is deployed is what the code says now.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::DeployError;

/// What runs the app when `--app` is not given: the workspace's default binary (the stacks' app).
pub const DEFAULT_APP: &str = "cargo run --quiet --";

/// The shell line that runs `verb` (`synth` or `package`) of `app` into `out`. The directory is passed as a
/// positional parameter, so no quoting of it can go wrong.
pub fn script(app: &str, verb: &str) -> String {
    format!("{app} {verb} --out \"$1\"")
}

/// Runs `<app> <verb> --out <out>` through `sh`, like CDK's `--app`. The app's report goes to stderr, keeping
/// stdout for this tool's results.
pub fn run(app: &str, verb: &str, out: &Path) -> Result<(), DeployError> {
    let command = format!("{app} {verb} --out {}", out.display());
    eprintln!("{command}");
    let status = Command::new("sh")
        .arg("-c")
        .arg(script(app, verb))
        .arg("cfnkit-synth")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| DeployError::SynthFailed {
            command: command.clone(),
            failure: format!("could not start: {e}"),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(DeployError::SynthFailed {
            command,
            failure: format!("failed ({status})"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_out_dir_is_a_parameter_not_part_of_the_line() {
        assert_eq!(
            script(DEFAULT_APP, "synth"),
            "cargo run --quiet -- synth --out \"$1\""
        );
    }

    #[test]
    fn a_failing_app_is_an_error_naming_its_command() {
        let dir = tempfile::tempdir().unwrap();
        run("true", "synth", dir.path()).unwrap();
        let err = run("false", "synth", dir.path()).unwrap_err().to_string();
        assert!(
            err.starts_with("the app's synth command `false synth --out "),
            "{err}"
        );
    }

    #[test]
    fn the_directory_reaches_the_app_intact() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("with space");
        // A shell function as the app: its third argument is what follows `synth --out`.
        run(
            "f() { mkdir -p \"$3\" && touch \"$3/marker\"; }; f",
            "synth",
            &out,
        )
        .unwrap();
        assert!(out.join("marker").exists());
    }
}
