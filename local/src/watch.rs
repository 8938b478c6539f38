//! `--watch`: rebuild the handlers when their sources change and replace the processes of those whose
//! binary changed.
//!
//! Change detection polls modification times under the workspace (skipping `target/`, hidden folders and
//! the cloud assembly) once per interval, which needs no file-watching service and notices edits made by any
//! tool. cargo then decides what is stale; a function is restarted only when its executable's bytes changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::functions::build;
use crate::run::LocalRun;

/// The newest modification time of a source file under `dir`.
pub fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest: Option<SystemTime> = None;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "cfnkit.out" {
                continue;
            }
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                todo.push(e.path());
            } else if name.ends_with(".rs") || name == "Cargo.toml" {
                if let Ok(m) = meta.modified() {
                    newest = Some(newest.map_or(m, |n| n.max(m)));
                }
            }
        }
    }
    newest
}

fn digest(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path)
        .ok()
        .map(|b| Sha256::digest(&b).to_vec())
}

/// Polls every `interval` and, after a change, rebuilds and swaps the binaries whose bytes changed. Never
/// returns.
pub async fn rebuild_on_change(
    run: &LocalRun,
    workspace: &Path,
    release: bool,
    interval: Duration,
) {
    let specs: Vec<_> = run.runner().functions().cloned().collect();
    let mut last = newest_source(workspace);
    // What each function runs now, by content.
    let mut running: BTreeMap<String, Option<Vec<u8>>> = specs
        .iter()
        .map(|s| {
            (
                s.function.to_string(),
                run.runner().binary(&s.function).and_then(|p| digest(&p)),
            )
        })
        .collect();
    loop {
        tokio::time::sleep(interval).await;
        let now = newest_source(workspace);
        if now == last {
            continue;
        }
        last = now;
        eprintln!("sources changed: rebuilding the handlers");
        let ws = workspace.to_path_buf();
        let to_build = specs.clone();
        let built: BTreeMap<build::BinKey, PathBuf> = match tokio::task::spawn_blocking(move || {
            build::build(&ws, &to_build, release)
        })
        .await
        {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                eprintln!("rebuild failed, the running handlers stay: {e}");
                continue;
            }
            Err(_) => continue,
        };
        for s in &specs {
            let key = (s.package.clone().unwrap_or_default(), s.bin.clone());
            let Some(path) = built.get(&key) else {
                continue;
            };
            let new = digest(path);
            let name = s.function.to_string();
            if running.get(&name) == Some(&new) {
                continue;
            }
            running.insert(name, new);
            eprintln!("{}: new binary, its processes are replaced", s.function);
            run.runner().replace_binary(&s.function, path.clone()).await;
        }
    }
}
