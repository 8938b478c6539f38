//! `cargo cfn new NAME`: a ready workspace for a cfnkit app, rendered from the handlebars templates under
//! `deploy/templates/new` (embedded in the binary, so an installed `cargo-cfn` carries them).
//!
//! The workspace: `infra` (the stack and the app's `main`, a snapshot and an assertion test), `handlers` (one thin
//! binary per function), `contracts` (the types both share), a README whose commands work as written.

use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde_json::json;

/// Where `cfnkit` comes from when neither `--cfnkit-path` nor `--cfnkit-git` is given.
// The repository has no public address yet; this is the one it is to have. Until then, `--cfnkit-path`.
pub const CFNKIT_GIT: &str = "https://github.com/cfnkit/cfnkit";

/// Write a new cfnkit app: an HTTP API (IAM auth) -> a function that writes a DynamoDB table -> the table's
/// stream -> a second function, with its handlers, shared contracts, tests and a README.
///
/// Refuses a directory that exists and is not empty; the files are written to a temporary directory beside it
/// and renamed into place, so a failure leaves nothing behind.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The app's name, a crate name (ASCII letters, digits, `-` and `_`, starting with a letter): the binary that
    /// `cargo run` runs, the directory's name by default, and in CamelCase the stack's name.
    pub name: String,
    /// Write the workspace here instead of `./NAME`.
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Depend on the cfnkit checkout at PATH (the directory of cfnkit's Cargo.toml) by path, and start from its
    /// Cargo.lock, so the app builds with the versions cfnkit was tested with.
    #[arg(long, value_name = "PATH", conflicts_with = "cfnkit_git")]
    pub cfnkit_path: Option<PathBuf>,
    /// Depend on cfnkit from this git repository [default: https://github.com/cfnkit/cfnkit].
    #[arg(long, value_name = "URL")]
    pub cfnkit_git: Option<String>,
}

/// Why no workspace was written.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    #[error(
        "{name:?} is not a valid app name: {rule}. The name becomes a crate and a binary name: ASCII letters, \
         digits, `-` and `_`, starting with a letter (for example `my-app`)"
    )]
    BadName { name: String, rule: String },
    #[error(
        "{} exists and is not an empty directory: pick another NAME, or write elsewhere with --path DIR",
        .path.display()
    )]
    NotEmpty { path: PathBuf },
    #[error(
        "--cfnkit-path {}: {why}; pass the root of a cfnkit checkout (the directory of cfnkit's Cargo.toml)",
        .path.display()
    )]
    NotCfnkit { path: PathBuf, why: String },
    #[error("--cfnkit-git {url:?}: {why}; pass a git URL such as {CFNKIT_GIT}")]
    BadGitUrl { url: String, why: &'static str },
    #[error(
        "template {template}: {message} (a bug in cargo-cfn's templates, deploy/templates/new)"
    )]
    Template { template: String, message: String },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The templates, by the path they are written to: `<path>.hbs` under `deploy/templates/new`.
macro_rules! templates {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../templates/new/", $path, ".hbs")))),*]
    };
}

// `gitignore` is stored without its dot so that git does not apply it to the templates themselves.
const TEMPLATES: &[(&str, &str)] = templates![
    "Cargo.toml",
    "README.md",
    "gitignore",
    ".config/insta.yaml",
    "contracts/Cargo.toml",
    "contracts/src/lib.rs",
    "handlers/Cargo.toml",
    "handlers/src/lib.rs",
    "handlers/src/bin/create_order.rs",
    "handlers/src/bin/process_order.rs",
    "infra/Cargo.toml",
    "infra/src/lib.rs",
    "infra/src/main.rs",
    "infra/tests/template.rs",
];

/// Where the written file goes, relative to the workspace.
fn output_path(template: &str) -> &str {
    match template {
        "gitignore" => ".gitignore",
        other => other,
    }
}

/// The crate names of the workspace's own members: the app's binary cannot share one.
const MEMBERS: &[&str] = &["infra", "handlers", "contracts"];

/// Names cargo refuses for a package or a binary (keywords, the standard crates, its build directories,
/// Windows device names), and the dependency the app is built on.
const RESERVED: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "alloc",
    "core",
    "proc_macro",
    "proc-macro",
    "std",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
    "con",
    "prn",
    "aux",
    "nul",
    "com1",
    "com2",
    "com3",
    "com4",
    "lpt1",
    "lpt2",
    "lpt3",
    "cfnkit",
];

/// Checks `name` as cargo checks a package name, plus the names the workspace already uses.
pub fn validate_name(name: &str) -> Result<(), NewError> {
    let bad = |rule: String| {
        Err(NewError::BadName {
            name: name.to_owned(),
            rule,
        })
    };
    let Some(first) = name.chars().next() else {
        return bad("it is empty".to_owned());
    };
    if !first.is_ascii_alphabetic() {
        return bad(format!("it starts with {first:?}, not a letter"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return bad(format!("{c:?} is not allowed in a crate name"));
    }
    if name.len() > 64 {
        return bad(format!("it has {} characters, more than 64", name.len()));
    }
    let lower = name.to_ascii_lowercase();
    if MEMBERS.contains(&lower.as_str()) {
        return bad(format!(
            "the workspace's crates are named {}",
            MEMBERS.join(", ")
        ));
    }
    if RESERVED.contains(&lower.as_str()) {
        return bad("it is a Rust keyword or a name cargo reserves".to_owned());
    }
    Ok(())
}

/// The stack's name: `my-app` and `my_app` give `MyApp` (CloudFormation's stack names allow no `_`).
pub fn stack_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Where cfnkit comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CfnkitSource {
    /// A checkout, by its absolute path.
    Path(PathBuf),
    Git(String),
}

impl CfnkitSource {
    /// From the command line: the path checked to be a cfnkit checkout, the URL checked to be one.
    pub fn from_args(args: &Args) -> Result<CfnkitSource, NewError> {
        if let Some(path) = &args.cfnkit_path {
            let not_cfnkit = |why: String| NewError::NotCfnkit {
                path: path.clone(),
                why,
            };
            let root = path
                .canonicalize()
                .map_err(|e| not_cfnkit(format!("cannot be read ({e})")))?;
            let manifest = std::fs::read_to_string(root.join("Cargo.toml"))
                .map_err(|e| not_cfnkit(format!("has no readable Cargo.toml ({e})")))?;
            if !manifest.lines().any(|l| l.trim() == "name = \"cfnkit\"") {
                return Err(not_cfnkit(
                    "its Cargo.toml is not the `cfnkit` package's".to_owned(),
                ));
            }
            return Ok(CfnkitSource::Path(root));
        }
        let url = args.cfnkit_git.as_deref().unwrap_or(CFNKIT_GIT);
        if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c == '"') {
            return Err(NewError::BadGitUrl {
                url: url.to_owned(),
                why: "it is empty or has spaces or quotes",
            });
        }
        Ok(CfnkitSource::Git(url.to_owned()))
    }

    /// The dependency as an inline TOML table.
    fn dependency(&self) -> String {
        match self {
            CfnkitSource::Path(path) => {
                format!("{{ path = {} }}", toml_string(&path.to_string_lossy()))
            }
            CfnkitSource::Git(url) => format!("{{ git = {} }}", toml_string(url)),
        }
    }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut quoted = String::from('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Every file of the new workspace: its path in the workspace and its contents.
pub fn render(name: &str, cfnkit: &CfnkitSource) -> Result<Vec<(&'static str, String)>, NewError> {
    let mut handlebars = Handlebars::new();
    // The files are code, not HTML; and a name missing from the data is a bug, not an empty string.
    handlebars.register_escape_fn(handlebars::no_escape);
    handlebars.set_strict_mode(true);
    let data = json!({
        "name": name,
        "stack": stack_name(name),
        "cfnkit_dependency": cfnkit.dependency(),
        "cfnkit_git": match cfnkit {
            CfnkitSource::Git(url) => url.as_str(),
            CfnkitSource::Path(_) => CFNKIT_GIT,
        },
    });
    TEMPLATES
        .iter()
        .map(|(template, text)| {
            handlebars
                .render_template(text, &data)
                .map(|rendered| (output_path(template), rendered))
                .map_err(|e| NewError::Template {
                    template: format!("{template}.hbs"),
                    message: e.to_string(),
                })
        })
        .collect()
}

/// Writes the workspace; returns its directory.
pub fn run(args: &Args) -> Result<PathBuf, NewError> {
    validate_name(&args.name)?;
    let cfnkit = CfnkitSource::from_args(args)?;
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| NewError::Io { path, source }
    };
    let empty_dir_exists = match std::fs::read_dir(&dir) {
        Ok(mut entries) => match entries.next() {
            None => true,
            Some(_) => return Err(NewError::NotEmpty { path: dir }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(_) if dir.exists() => return Err(NewError::NotEmpty { path: dir }),
        Err(e) => return Err(io(&dir)(e)),
    };
    let files = render(&args.name, &cfnkit)?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    // Beside the destination, so that the rename stays on one filesystem; removed on any failure below.
    let staging = tempfile::Builder::new()
        .prefix(".cargo-cfn-new-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    for (path, contents) in &files {
        let file = staging.path().join(path);
        if let Some(folder) = file.parent() {
            std::fs::create_dir_all(folder).map_err(io(folder))?;
        }
        std::fs::write(&file, contents).map_err(io(&file))?;
    }
    if let CfnkitSource::Path(root) = &cfnkit {
        let lock = root.join("Cargo.lock");
        if lock.is_file() {
            let to = staging.path().join("Cargo.lock");
            std::fs::copy(&lock, &to).map_err(io(&lock))?;
        }
    }
    if empty_dir_exists {
        std::fs::remove_dir(&dir).map_err(io(&dir))?;
    }
    // On failure `staging` is dropped, which removes it; after the rename there is nothing left to remove.
    std::fs::rename(staging.path(), &dir).map_err(io(&dir))?;
    let _ = staging.keep();
    Ok(dir)
}

/// What to do next, printed after the workspace is written.
pub fn next_steps(dir: &Path) -> String {
    format!(
        "Created {dir}: the stack in infra/src/lib.rs, the handlers in handlers/src, the shared types in contracts/src.\n\
         Next:\n  cd {dir}\n  cargo run -- synth    # the templates into cfnkit.out/\n  \
         cargo test            # snapshot, assertions, handlers\n  \
         cargo cfn local       # the app on this machine\n",
        dir = dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(name: &str, path: &Path) -> Args {
        Args {
            name: name.to_owned(),
            path: Some(path.to_path_buf()),
            cfnkit_path: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("..")),
            cfnkit_git: None,
        }
    }

    #[test]
    fn a_bad_name_is_refused_with_the_value_and_the_rule() {
        for (name, rule) in [
            ("", "it is empty"),
            ("9lives", "it starts with '9', not a letter"),
            ("my app", "' ' is not allowed in a crate name"),
            ("café", "'é' is not allowed in a crate name"),
            ("fn", "Rust keyword"),
            (
                "handlers",
                "the workspace's crates are named infra, handlers, contracts",
            ),
        ] {
            let err = validate_name(name).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("{name:?} is not a valid app name: ")),
                "{err}"
            );
            assert!(err.contains(rule), "{name}: {err}");
            assert!(err.contains("for example `my-app`"), "{err}");
        }
        for name in ["demo", "my-app", "orders_2"] {
            validate_name(name).unwrap();
        }
    }

    #[test]
    fn the_stack_is_the_name_in_camel_case() {
        assert_eq!(stack_name("demo"), "Demo");
        assert_eq!(stack_name("my-app_v2"), "MyAppV2");
    }

    /// A template added to the folder but not to the table would never be written.
    #[test]
    fn every_template_in_the_folder_is_written() {
        fn walk(dir: &Path, root: &Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, found);
                } else {
                    let relative = path.strip_prefix(root).unwrap().to_string_lossy();
                    found.push(relative.strip_suffix(".hbs").unwrap().to_owned());
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/new");
        let mut found = Vec::new();
        walk(&root, &root, &mut found);
        found.sort();
        let mut listed: Vec<_> = TEMPLATES.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(found, listed);
    }

    #[test]
    fn the_dependency_is_a_path_or_a_git_url() {
        let files = render("demo", &CfnkitSource::Git(CFNKIT_GIT.to_owned())).unwrap();
        let root = &files.iter().find(|(p, _)| *p == "Cargo.toml").unwrap().1;
        assert!(
            root.contains(&format!("cfnkit = {{ git = \"{CFNKIT_GIT}\" }}")),
            "{root}"
        );
        let files = render("demo", &CfnkitSource::Path(r#"C:\a "b""#.into())).unwrap();
        let root = &files.iter().find(|(p, _)| *p == "Cargo.toml").unwrap().1;
        assert!(
            root.contains(r#"cfnkit = { path = "C:\\a \"b\"" }"#),
            "{root}"
        );
        let infra = &files
            .iter()
            .find(|(p, _)| *p == "infra/Cargo.toml")
            .unwrap()
            .1;
        assert!(infra.contains("default-run = \"demo\""), "{infra}");
        assert!(files.iter().any(|(p, _)| *p == ".gitignore"));
    }

    #[test]
    fn cfnkit_path_must_be_a_cfnkit_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args("demo", &dir.path().join("demo"));
        a.cfnkit_path = Some(dir.path().to_path_buf());
        let err = run(&a).unwrap_err().to_string();
        assert!(err.contains("has no readable Cargo.toml"), "{err}");
        assert!(!dir.path().join("demo").exists());
    }

    #[test]
    fn an_existing_directory_is_refused_unless_empty() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("demo");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("notes.txt"), "mine").unwrap();
        let err = run(&args("demo", &target)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{} exists and is not an empty directory: pick another NAME, or write elsewhere with --path DIR",
                target.display()
            )
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "nothing else was written"
        );
        std::fs::remove_file(target.join("notes.txt")).unwrap();
        run(&args("demo", &target)).unwrap();
        assert!(target.join("infra/src/lib.rs").is_file());
        assert!(
            target.join("Cargo.lock").is_file(),
            "the checkout's lock file is the start"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no staging directory is left"
        );
    }
}
