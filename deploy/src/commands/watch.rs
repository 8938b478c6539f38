//! `cargo cfn watch`: packages the app and deploys it with `--hotswap` on every save, until Ctrl-C.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use console::style;
use tokio::time::Instant;

use super::deploy::{deploy, DeployOptions, RequireApproval};
use crate::assembly::Assembly;
use crate::aws::Clients;
use crate::commands::Found;
use crate::error::DeployError;
use crate::synth;
use crate::workspace::{self, Workspace};

/// Package and deploy the app with --hotswap, then again after every change to the workspace's files, until
/// Ctrl-C.
///
/// A change set is used for a stack with other changes than Lambda code or environment variables, as with
/// `deploy --hotswap`; changes that broaden permissions are asked about (on a terminal) or refused, as
/// `deploy --require-approval broadening`. Changes under target/, the cloud assembly's directory and hidden
/// directories (.git) are ignored, as are editors' backup and swap files. A failed round is reported and the
/// watch goes on.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stacks to deploy, with the stacks they depend on (all when none are named).
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// How long the files must stay unchanged after a save before a round starts, in milliseconds: an editor
    /// or `cargo fmt` writing several files is one round.
    #[arg(long, value_name = "MS", default_value_t = 300)]
    pub debounce: u64,
}

/// Whether a change to `path` calls for a new round: not a build's output (`ignored`: the target directory and
/// the cloud assembly's), nothing under a hidden directory, not an editor's backup or swap file.
pub fn relevant(path: &Path, root: &Path, ignored: &[PathBuf]) -> bool {
    if ignored.iter().any(|dir| path.starts_with(dir)) {
        return false;
    }
    let inside = path.strip_prefix(root).unwrap_or(path);
    let hidden = inside.components().any(|c| match c {
        Component::Normal(name) => name.to_string_lossy().starts_with('.'),
        _ => false,
    });
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // vim writes `4913` to probe a directory, and `x.swp`/`x~`; emacs `#x#`.
    let scratch = name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name == "4913"
        || (name.starts_with('#') && name.ends_with('#'));
    !hidden && !scratch
}

/// Gathers changes until the files have been quiet for a while, so that one save of several files is one round.
#[derive(Debug)]
pub struct Debouncer {
    quiet: Duration,
    pending: BTreeSet<PathBuf>,
    last: Option<Instant>,
}

impl Debouncer {
    pub fn new(quiet: Duration) -> Self {
        Debouncer {
            quiet,
            pending: BTreeSet::new(),
            last: None,
        }
    }

    pub fn record(&mut self, path: PathBuf, at: Instant) {
        self.pending.insert(path);
        self.last = Some(at);
    }

    /// The changed paths once they have been quiet for the debounce time; the next batch starts empty.
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<PathBuf>> {
        let last = self.last?;
        if now.duration_since(last) < self.quiet {
            return None;
        }
        self.last = None;
        Some(std::mem::take(&mut self.pending).into_iter().collect())
    }

    /// How long to wait for the next change: until the batch is due, or indefinitely without one.
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        self.last
            .map(|last| self.quiet.saturating_sub(now.duration_since(last)))
    }
}

pub async fn run(
    clients: &Clients,
    app: &crate::cli::AppOptions,
    args: &Args,
) -> Result<Found, DeployError> {
    if app.assembly.is_some() {
        return Err(DeployError::WatchNeedsApp);
    }
    let cwd = std::env::current_dir()?;
    let ws = Workspace::locate(&cwd)?;
    let resolved = workspace::resolve_app(app.app.as_deref(), Some(&ws))?;
    let out = workspace::out_dir(app.out.as_deref(), Some(&ws));
    let out = std::path::absolute(&out).unwrap_or(out);
    let ignored = vec![ws.root.join("target"), out.clone()];

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            // Reads (access events) change nothing.
            if !matches!(event.kind, notify::EventKind::Access(_)) {
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
        }
    })
    .map_err(|e| DeployError::Watch(e.to_string()))?;
    notify::Watcher::watch(&mut watcher, &ws.root, notify::RecursiveMode::Recursive)
        .map_err(|e| DeployError::Watch(format!("{}: {e}", ws.root.display())))?;

    let round = Round {
        clients,
        app: &resolved,
        out: &out,
        root: &ws.root,
        stacks: &args.stacks,
    };
    round.run(&[]).await;
    let mut debouncer = Debouncer::new(Duration::from_millis(args.debounce));
    loop {
        let next = match debouncer.wait(Instant::now()) {
            Some(wait) => tokio::time::timeout(wait, rx.recv()).await.ok(),
            None => Some(rx.recv().await),
        };
        match next {
            Some(Some(path)) if relevant(&path, &ws.root, &ignored) => {
                debouncer.record(path, Instant::now());
            }
            // The watcher is gone (it lives as long as this loop): nothing more will come.
            Some(None) => return Ok(Found::Nothing),
            _ => {}
        }
        if let Some(changed) = debouncer.take_due(Instant::now()) {
            round.run(&changed).await;
        }
    }
}

/// What each round packages and deploys.
struct Round<'a> {
    clients: &'a Clients,
    app: &'a workspace::App,
    out: &'a Path,
    root: &'a Path,
    stacks: &'a [String],
}

impl Round<'_> {
    /// Packages the app and deploys it with --hotswap; a failure is printed, and the watch goes on.
    async fn run(&self, changed: &[PathBuf]) {
        if !changed.is_empty() {
            let shown: Vec<String> = changed
                .iter()
                .take(3)
                .map(|p| p.strip_prefix(self.root).unwrap_or(p).display().to_string())
                .collect();
            let more = match changed.len() {
                n if n > 3 => format!(" and {} more", n - 3),
                _ => String::new(),
            };
            eprintln!("{} {}{more}", style("changed:").bold(), shown.join(", "));
        }
        if let Err(e) = self.deploy().await {
            eprintln!("{} {e}", style("error:").red().bold());
        }
        eprintln!(
            "{}",
            style(format!(
                "watching {} for changes (Ctrl-C stops)",
                self.root.display()
            ))
            .dim()
        );
    }

    async fn deploy(&self) -> Result<(), DeployError> {
        synth::run(self.app, "package", self.out)?;
        let assembly = Assembly::load(self.out)?;
        let options = DeployOptions {
            hotswap: true,
            approval: RequireApproval::Broadening,
            ..DeployOptions::unattended()
        };
        deploy(self.clients, &assembly, self.stacks, &[], options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_hidden_directories_and_editor_files_are_not_changes() {
        let root = Path::new("/ws");
        let ignored = [root.join("target"), root.join("cfnkit.out")];
        let r = |p: &str| relevant(Path::new(p), root, &ignored);
        assert!(r("/ws/runtime/order-handlers/src/bin/ingest.rs"));
        assert!(r("/ws/stacks/src/order.rs"));
        assert!(r("/ws/Cargo.toml"));
        assert!(!r("/ws/target/debug/ingest"));
        assert!(!r("/ws/cfnkit.out/Order.template.json"));
        assert!(!r("/ws/.git/index"));
        assert!(!r("/ws/stacks/src/.order.rs.swp"));
        assert!(!r("/ws/stacks/src/order.rs~"));
        assert!(!r("/ws/stacks/src/4913"));
        assert!(!r("/ws/stacks/src/#order.rs#"));
        // A directory named like a hidden one above the root does not hide the workspace.
        assert!(relevant(
            Path::new("/home/.me/ws/src/lib.rs"),
            Path::new("/home/.me/ws"),
            &[]
        ));
    }

    #[test]
    fn a_burst_of_saves_is_one_round_once_the_files_are_quiet() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut d = Debouncer::new(ms(300));
        assert_eq!(d.wait(t0), None, "nothing pending: wait for a change");
        assert_eq!(d.take_due(t0), None);
        d.record("/ws/a.rs".into(), t0);
        d.record("/ws/b.rs".into(), t0 + ms(100));
        d.record("/ws/a.rs".into(), t0 + ms(250));
        // Each change restarts the quiet time.
        assert_eq!(d.take_due(t0 + ms(400)), None);
        assert_eq!(d.wait(t0 + ms(400)), Some(ms(150)));
        assert_eq!(
            d.take_due(t0 + ms(550)),
            Some(vec![PathBuf::from("/ws/a.rs"), PathBuf::from("/ws/b.rs")])
        );
        assert_eq!(d.take_due(t0 + ms(900)), None, "a round takes its batch");
        assert_eq!(d.wait(t0 + ms(900)), None);
    }
}
