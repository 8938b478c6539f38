//! moto's server: found (or installed, pinned) and run on 127.0.0.1, stopped by PID whatever happens.

pub mod client;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The moto version the local run is tested with; an installed moto of another version is not used.
pub const MOTO_VERSION: &str = "5.2.1";

/// Why moto could not be found, installed or started.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    /// No Python to install moto with.
    #[error(
        "moto_server {MOTO_VERSION} is not installed and there is no python3 to install it with ({0}); install \
         Python 3 (apt-get install python3 python3-venv), or moto yourself: \
         python3 -m pip install 'moto[server]=={MOTO_VERSION}' and set CFNKIT_MOTO_SERVER to its moto_server"
    )]
    NoPython(String),
    /// Installing moto into the tool's virtualenv failed.
    #[error(
        "installing moto {MOTO_VERSION} into {venv} failed: `{command}` {failure}; check that PyPI is reachable \
         (or a pip index is configured), or install it yourself and set CFNKIT_MOTO_SERVER"
    )]
    Install {
        /// The virtualenv.
        venv: String,
        /// The command that failed.
        command: String,
        /// Its exit status and output.
        failure: String,
    },
    /// `CFNKIT_MOTO_SERVER` names no file.
    #[error(
        "CFNKIT_MOTO_SERVER={0} is not a file; point it at a moto_server executable or unset it"
    )]
    BadOverride(String),
    /// moto did not start.
    #[error("moto_server ({program}) did not start: {failure}")]
    Start {
        /// The executable.
        program: String,
        /// What happened.
        failure: String,
    },
}

/// Where moto_server is, and how it was found.
#[derive(Clone, Debug)]
pub struct MotoInstall {
    /// The `moto_server` executable.
    pub program: PathBuf,
    /// A sentence for the start-up report (`moto 5.2.1 from PATH`).
    pub origin: String,
}

/// The virtualenv the tool installs moto into: `$CFNKIT_HOME/moto-<version>`, else
/// `$XDG_CACHE_HOME/cfnkit/moto-<version>`, else `~/.cache/cfnkit/moto-<version>`.
pub fn venv_dir() -> PathBuf {
    let base = std::env::var_os("CFNKIT_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("cfnkit")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/cfnkit")))
        .unwrap_or_else(|| std::env::temp_dir().join("cfnkit"));
    base.join(format!("moto-{MOTO_VERSION}"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The moto version the Python beside `program` imports, if it can tell.
async fn version_of(program: &Path) -> Option<String> {
    let python = program
        .parent()
        .map(|d| d.join("python3"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("python3"));
    let out = Command::new(python)
        .args(["-c", "import moto; print(moto.__version__)"])
        .stdin(Stdio::null())
        .output()
        .await
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Finds moto_server: `$CFNKIT_MOTO_SERVER`, then one of the pinned version on `PATH`, then the tool's own
/// virtualenv, which it creates (`python3 -m venv` + pip) when missing, saying so on stderr.
pub async fn find_or_install() -> Result<MotoInstall, MotoError> {
    if let Some(p) = std::env::var_os("CFNKIT_MOTO_SERVER") {
        let program = PathBuf::from(&p);
        if !program.is_file() {
            return Err(MotoError::BadOverride(program.display().to_string()));
        }
        return Ok(MotoInstall {
            origin: format!(
                "moto_server from CFNKIT_MOTO_SERVER ({})",
                program.display()
            ),
            program,
        });
    }
    if let Some(program) = on_path("moto_server") {
        if version_of(&program).await.as_deref() == Some(MOTO_VERSION) {
            return Ok(MotoInstall {
                origin: format!("moto {MOTO_VERSION} from PATH ({})", program.display()),
                program,
            });
        }
    }
    let venv = venv_dir();
    let program = venv.join("bin/moto_server");
    if program.is_file() && venv.join(COMPLETE_MARKER).is_file() {
        return Ok(MotoInstall {
            origin: format!("moto {MOTO_VERSION} from {}", venv.display()),
            program,
        });
    }
    install(&venv).await?;
    Ok(MotoInstall {
        origin: format!(
            "moto {MOTO_VERSION}, just installed into {}",
            venv.display()
        ),
        program,
    })
}

/// Written last by [`install`], so an interrupted install is not taken for a complete one.
const COMPLETE_MARKER: &str = ".cfnkit-complete";

#[expect(
    clippy::disallowed_methods,
    reason = "`venv` is cfnkit's own cache directory (venv_dir, cfnkit/moto-<version>), left incomplete by an \
              interrupted install: it is removed to start over"
)]
async fn install(venv: &Path) -> Result<(), MotoError> {
    let python = on_path("python3").ok_or_else(|| MotoError::NoPython("not on PATH".into()))?;
    eprintln!(
        "moto_server {MOTO_VERSION} not found: installing it into {} (once; python3 -m venv + pip)",
        venv.display()
    );
    let fail = |command: String, failure: String| MotoError::Install {
        venv: venv.display().to_string(),
        command,
        failure,
    };
    let _ = std::fs::remove_dir_all(venv);
    let steps: [(PathBuf, Vec<String>); 2] = [
        (
            python,
            vec!["-m".into(), "venv".into(), venv.display().to_string()],
        ),
        (
            venv.join("bin/pip"),
            vec![
                "install".into(),
                "--quiet".into(),
                format!("moto[server]=={MOTO_VERSION}"),
            ],
        ),
    ];
    for (program, args) in steps {
        let command = format!("{} {}", program.display(), args.join(" "));
        let out = Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| fail(command.clone(), e.to_string()))?;
        if !out.status.success() {
            return Err(fail(
                command,
                format!(
                    "failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
    }
    std::fs::write(venv.join(COMPLETE_MARKER), MOTO_VERSION)
        .map_err(|e| fail("write the completion marker".into(), e.to_string()))
}

/// A free TCP port on 127.0.0.1 (the OS picks one).
pub fn free_port() -> std::io::Result<u16> {
    TcpListener::bind("127.0.0.1:0")?
        .local_addr()
        .map(|a| a.port())
}

/// A running moto server. Dropping it kills the process (by PID) and reaps it.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The port moto listens on.
    pub port: u16,
    /// Its output (requests, and the traceback of a request it failed with a 500).
    pub log: PathBuf,
}

impl MotoServer {
    /// Starts moto on a free port and waits until it answers (up to 30 s).
    pub async fn start(install: &MotoInstall) -> Result<MotoServer, MotoError> {
        let program = install.program.display().to_string();
        let mut failure = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| MotoError::Start {
                program: program.clone(),
                failure: format!("no free port: {e}"),
            })?;
            let log = std::env::temp_dir().join(format!("cfnkit-local-moto-{port}.log"));
            let log_file = std::fs::File::create(&log).map_err(|e| MotoError::Start {
                program: program.clone(),
                failure: format!("cannot write its log {}: {e}", log.display()),
            })?;
            let log_err = log_file.try_clone().map_err(|e| MotoError::Start {
                program: program.clone(),
                failure: e.to_string(),
            })?;
            let mut child = Command::new(&install.program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log_file)
                .stderr(log_err)
                // Its own process group: Ctrl-C reaches this tool only, which then stops moto itself.
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| MotoError::Start {
                    program: program.clone(),
                    failure: e.to_string(),
                })?;
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut server = None;
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    failure = format!("it exited with {status} (port {port} taken meanwhile?)");
                    break;
                }
                if client::MotoClient::new(&format!("http://127.0.0.1:{port}"))
                    .ping()
                    .await
                {
                    server = Some(port);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if let Some(port) = server {
                return Ok(MotoServer {
                    child,
                    endpoint: format!("http://127.0.0.1:{port}"),
                    port,
                    log,
                });
            }
            let _ = child.start_kill();
            let _ = child.wait().await;
            if failure.is_empty() {
                failure = "it did not answer within 30 s".into();
            }
        }
        Err(MotoError::Start { program, failure })
    }

    /// The process id, for the stop report.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills moto, waits for it, and removes its log.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        let _ = std::fs::remove_file(&self.log);
    }
}
