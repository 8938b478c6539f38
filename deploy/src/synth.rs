//! Running the app's own synth before a command, so that what is deployed is what the code says now.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::DeployError;
use crate::workspace::{self, App};

/// The shell line that runs `verb` (`synth` or `package`) of an `--app` command into `out`. The directory is
/// passed as a positional parameter, so no quoting of it can go wrong.
pub fn script(app: &str, verb: &str) -> String {
    format!("{app} {verb} --out \"$1\"")
}

/// The program and arguments that run `verb` of `app` into `out`, and the directory to run them in: a binary of
/// the workspace through `cargo run` at the workspace root (so the app sees the same working directory from
/// wherever the tool was started), a command through `sh` in the working directory, like CDK's `--app`.
fn command(app: &App, verb: &str, out: &Path) -> (Command, String) {
    match app {
        App::Bin { bin, root } => {
            let cargo = workspace::cargo();
            let args: Vec<OsString> = [
                "run",
                "--quiet",
                "--manifest-path",
                &root.join("Cargo.toml").to_string_lossy(),
                "-p",
                &bin.package,
                "--bin",
                &bin.name,
                "--",
                verb,
                "--out",
            ]
            .into_iter()
            .map(OsString::from)
            .chain([out.as_os_str().to_owned()])
            .collect();
            let shown = format!(
                "cargo {}",
                args.iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            let mut c = Command::new(cargo);
            c.args(args).current_dir(root);
            (c, shown)
        }
        App::Command(line) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(script(line, verb))
                .arg("cfnkit-synth")
                .arg(out);
            (c, format!("{line} {verb} --out {}", out.display()))
        }
    }
}

/// Runs `<app> <verb> --out <out>`. The app's report goes to stderr, keeping stdout for this tool's results.
pub fn run(app: &App, verb: &str, out: &Path) -> Result<(), DeployError> {
    // The app may run in another directory (the workspace root): it gets the directory whole.
    let out = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    let (mut command, shown) = command(app, verb, &out);
    eprintln!("{shown}");
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| DeployError::SynthFailed {
            command: shown.clone(),
            failure: format!("could not start: {e}"),
        })?;
    if status.success() {
        let manifest = out.join("manifest.json");
        if !manifest.is_file() {
            return Err(DeployError::SynthWroteNothing {
                command: shown,
                manifest,
            });
        }
        Ok(())
    } else {
        Err(DeployError::SynthFailed {
            command: shown,
            failure: format!("failed ({status})"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::Bin;

    #[test]
    fn the_out_dir_is_a_parameter_not_part_of_the_line() {
        assert_eq!(
            script("cargo run --quiet --", "synth"),
            "cargo run --quiet -- synth --out \"$1\""
        );
    }

    #[test]
    fn a_workspace_binary_runs_through_cargo_at_the_root() {
        let app = App::Bin {
            bin: Bin {
                package: "stacks".into(),
                name: "platform".into(),
            },
            root: "/ws".into(),
        };
        let (c, shown) = command(&app, "package", Path::new("/ws/cfnkit.out"));
        assert_eq!(
            shown,
            "cargo run --quiet --manifest-path /ws/Cargo.toml -p stacks --bin platform -- package --out /ws/cfnkit.out"
        );
        assert_eq!(c.get_current_dir(), Some(Path::new("/ws")));
    }

    #[test]
    fn a_failing_app_is_an_error_naming_its_command() {
        let dir = tempfile::tempdir().unwrap();
        let err = run(&App::Command("true".into()), "synth", dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("finished but wrote no cloud assembly"),
            "{err}"
        );
        let err = run(&App::Command("false".into()), "synth", dir.path())
            .unwrap_err()
            .to_string();
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
            &App::Command("f() { mkdir -p \"$3\" && touch \"$3/manifest.json\"; }; f".into()),
            "synth",
            &out,
        )
        .unwrap();
        assert!(out.join("manifest.json").exists());
    }
}
