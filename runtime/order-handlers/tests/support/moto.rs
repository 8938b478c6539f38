//! moto's server (a real AWS API emulator) on 127.0.0.1, one per test, killed by PID on drop.
//! Shared by the handler crates' tests (`#[path]`); started through `runtime/moto/serial_dynamodb.py`. (The order
//! platform's own scenario tests run on cfnkit-local, which starts moto itself.)

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MotoServer {
    child: Child,
    pub endpoint: String,
}

/// Where `moto_server` is: on PATH, or in the repository's CI virtualenv.
fn moto_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("moto_server");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = repo.join(".ci/venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    panic!(
        "moto_server not found on PATH nor at {}.\n\
         These tests run against moto's server (an AWS API emulator). Install it with\n    \
         python3 -m pip install 'moto[server]==5.2.1'\n\
         or into the CI virtualenv:\n    \
         python3 -m venv .ci/venv && .ci/venv/bin/pip install 'moto[server]==5.2.1'",
        venv.display()
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

impl MotoServer {
    /// Starts a fresh server and waits until it answers.
    pub fn start() -> MotoServer {
        let binary = moto_server_binary();
        // moto's own server app, run by `runtime/moto/serial_dynamodb.py` with DynamoDB requests one
        // at a time: DynamoDB applies each request atomically, moto's threaded server does not (it can
        // lose one of two concurrent transactional updates of an item). The Python that runs it is the
        // one moto_server was installed with (the venv beside it, or the `python3` on PATH).
        let python = binary
            .parent()
            .map(|dir| dir.join("python3"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("python3"));
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../moto/serial_dynamodb.py");
        let mut last_error = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let mut child = Command::new(&python)
                .arg(&script)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!("moto_server exited with {status} (port {port} taken?)");
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return MotoServer {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            if last_error.is_empty() {
                last_error = "moto_server did not listen within 30 s".into();
            }
        }
        panic!("{last_error}");
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
