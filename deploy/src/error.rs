//! Everything that can stop a command, each naming the stack or file involved and what to do about it.

use std::path::PathBuf;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::events::Failure;
use crate::validation::Finding;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("no cloud assembly at {dir}: {source}. Run `cargo run -- synth --out {dir}` first, or drop --assembly to let this command synthesize")]
    NoAssembly {
        dir: PathBuf,
        source: std::io::Error,
    },

    #[error("{path} is not a manifest this tool understands: {message}. Synthesize again with the cfnkit version of this workspace")]
    BadManifest { path: PathBuf, message: String },

    #[error("manifest version {found} is not supported (this tool reads version {supported}); synthesize again with the cfnkit version of this workspace")]
    ManifestVersion { found: u32, supported: u32 },

    #[error("{path} changed after synth (SHA-256 {actual}, the manifest says {expected}); synthesize again rather than editing synth output")]
    ChangedAfterSynth {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path} is not a valid template: {message}")]
    BadTemplate { path: String, message: String },

    #[error("unknown stack `{name}`; the app has: {available}")]
    UnknownStack { name: String, available: String },

    #[error("no cargo workspace at {}: {message}. Run `cargo cfn` inside the app's workspace, or pass --app \"COMMAND\" (a command that synthesizes the app) or --assembly DIR", dir.display())]
    NotInWorkspace { dir: PathBuf, message: String },

    #[error("`cargo run` at {} has no one app to run: {why}. The workspace's binaries: {bins}; pass the app's with --app NAME, or a command that runs it with --app \"COMMAND\"", root.display())]
    NoDefaultApp {
        root: PathBuf,
        why: String,
        bins: String,
    },

    #[error("--app {name} names no binary of the workspace at {}; its binaries: {bins}. To run a command instead, give its path (./{name}) or its arguments", root.display())]
    UnknownApp {
        name: String,
        root: PathBuf,
        bins: String,
    },

    #[error("--app {name}: packages {packages} each have a binary of that name; pass --app \"cargo run --quiet -p PACKAGE --bin {name} --\"")]
    AmbiguousApp { name: String, packages: String },

    #[error("the app's synth command `{command}` finished but wrote no cloud assembly ({} is missing): is it a cfnkit app? Pass --app with the binary or command that synthesizes it", manifest.display())]
    SynthWroteNothing { command: String, manifest: PathBuf },

    #[error("the app's synth command `{command}` {failure}; fix the app (its errors are printed above) or pass --app with the command that synthesizes it")]
    SynthFailed { command: String, failure: String },

    /// `cargo cfn local` stopped with an error (its message names the value and the fix).
    #[error("{0}")]
    Local(String),

    #[error("stack {stack} targets {what} {wanted}, but the AWS configuration resolves to {actual}; {fix}")]
    WrongEnvironment {
        stack: String,
        what: &'static str,
        wanted: String,
        actual: String,
        fix: &'static str,
    },

    #[error("no AWS region is configured; set AWS_REGION (or AWS_DEFAULT_REGION), or a region in the profile")]
    NoRegion,

    #[error("the assets bucket {bucket} does not exist ({reason}); run `cargo cfn bootstrap` once for this account and region")]
    NotBootstrapped { bucket: String, reason: String },

    #[error("this {command} needs the bootstrap stack {stack} ({needed_for}), but {problem}; run `cargo cfn bootstrap` once for this account and region")]
    BootstrapMissing {
        command: &'static str,
        stack: String,
        needed_for: String,
        problem: String,
    },

    #[error("the bootstrap stack {stack} has version {found}, but this cfnkit needs version {required} or newer ({needed_for}); run `cargo cfn bootstrap` to update it")]
    BootstrapOutdated {
        stack: String,
        found: String,
        required: u32,
        needed_for: String,
    },

    #[error("refusing to deploy {stacks} without approval: {why}, and standard input is not a terminal to ask; review the changes above, then pass --require-approval never to deploy without asking")]
    NeedsApproval { stacks: String, why: String },

    #[error("deploy of {stacks} declined; nothing was deployed")]
    ApprovalDeclined { stacks: String },

    #[error("stack {stack} declares no parameter `{parameter}` (--parameters {stack}:{parameter}=...); it declares: {declared}")]
    UnknownParameter {
        stack: String,
        parameter: String,
        declared: String,
    },

    #[error("no stack in this deploy declares parameter `{parameter}` (--parameters {parameter}=...); they declare: {declared}")]
    UndeclaredParameter { parameter: String, declared: String },

    #[error("--parameters {stack}:{parameter}=... is for stack {stack}, which this deploy does not include (it deploys {deploying}); name the stack to deploy it, or drop the value")]
    ParameterForOtherStack {
        stack: String,
        parameter: String,
        deploying: String,
    },

    #[error("stack {stack} declares parameter `{parameter}` without a Default and it has no value yet; pass --parameters {stack}:{parameter}=VALUE")]
    MissingParameter { stack: String, parameter: String },

    #[error("stack {stack} is busy ({status}); wait for the running operation to finish, then try again")]
    StackBusy { stack: String, status: String },

    #[error("stack {stack} is in {status} and cannot be updated; {fix}")]
    StackUnusable {
        stack: String,
        status: String,
        fix: String,
    },

    #[error("stack {stack}: the change set failed{}: {reason}", render_findings(.findings))]
    ChangeSetFailed {
        stack: String,
        reason: String,
        findings: Vec<Finding>,
    },

    #[error("stack {stack} did not reach a complete state: it ended in {status}{note}{}", render_failures(.failures, .findings))]
    StackFailed {
        stack: String,
        status: String,
        note: String,
        failures: Vec<Failure>,
        /// Early-validation findings of the operation (DescribeEvents), shown with the resources they name.
        findings: Vec<Finding>,
    },

    #[error("refusing to deploy: {count} stateful resource(s) would be lost:\n{lines}Each loses what it holds. To keep one, undo the change that replaces or removes it (for a rename or a move to another stack, record it with `stack.moved(from, &resource)` so the deploy moves it instead); if losing it is intended, pass {allow}")]
    GuardRefused {
        count: usize,
        lines: String,
        allow: String,
    },

    #[error("--allow-replace {address}: this deploy has no stack {stack} (it deploys {deploying}); name a stack of the deploy, as the refusal does")]
    AllowanceForOtherStack {
        address: String,
        stack: String,
        deploying: String,
    },

    #[error("both {from} and {to} are deployed, but the app records that {from} moved to {to} (`stack.moved`): a refactor cannot move a resource onto another one. If {to} is a different resource, drop the `moved` call; if {from} is the one to keep, remove {to} first")]
    RefactorConflict { from: String, to: String },

    #[error("the moves {moves} come with other changes to their stacks, and CloudFormation refactors only moves:\n{changes}Deploy the moves alone first (the release that records them with `stack.moved`, without other changes to these stacks), then the rest")]
    RefactorMixed { moves: String, changes: String },

    #[error("the moves {moves} involve stack {stack}, {why}")]
    RefactorStackMissing {
        moves: String,
        stack: String,
        why: String,
    },

    #[error("the refactor {id} ({moves}) ended in {status}: {reason}")]
    RefactorFailed {
        id: String,
        moves: String,
        status: String,
        reason: String,
    },

    #[error("stack {stack}: another operation started on it while this deploy prepared its change set ({detail}); nothing of this deploy was applied to it. Run the deploy again once that operation is done: it waits for one still running")]
    ConcurrentDeploy { stack: String, detail: String },

    #[error("stack {stack} is in UPDATE_ROLLBACK_FAILED: an update failed and rolling it back failed too, so CloudFormation will not update it{}\nFix what blocks them (a resource changed or deleted by hand, a missing permission), then run `cargo cfn deploy --continue-rollback {stack}`; a resource that cannot be restored can be skipped with --skip-resource {stack}/LogicalId (CloudFormation then counts it as rolled back as it is, so check it afterwards)", render_blockers(.blockers))]
    RollbackFailed {
        stack: String,
        blockers: Vec<Failure>,
    },

    #[error("--revert-drift puts resources back through a change set (DeploymentMode REVERT_DRIFT); drop --method direct")]
    RevertDriftNeedsChangeSet,

    #[error("--skip-resource {address}: {why}")]
    BadSkip { address: String, why: String },

    #[error("drift detection did not finish for {stacks}, and found no drift in what it checked: {reasons}")]
    DriftUndetermined { stacks: String, reasons: String },

    #[error("stack {stack} has termination protection on; turn it off with `stack.set_termination_protection(false)` and deploy, or `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {stack}`")]
    TerminationProtected { stack: String },

    #[error("refusing to destroy {stacks} without confirmation: standard input is not a terminal; pass --force (or --yes) to destroy without asking")]
    NeedsConfirmation { stacks: String },

    #[error("{operation} failed for {subject}: {message}")]
    Aws {
        operation: &'static str,
        subject: String,
        message: String,
    },

    #[error("cannot read {path}: {source}; check the asset was packaged by synth")]
    Asset {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("asset {name} (used by {used_by}) is not built: synth leaves Lambda code unbuilt; pass --package to run the app's `package` instead of `synth`, or run `cargo run -- package` and pass --assembly cfnkit.out")]
    Unpackaged { name: String, used_by: String },

    #[error("stack {stack}: the hotswap of function {function} failed: {reason}. The stack's other functions may be updated already; deploy without --hotswap to put every function back as the template says")]
    HotswapFailed {
        stack: String,
        function: String,
        reason: String,
    },

    #[error("watch packages the app on every change, so it cannot use --assembly; drop --assembly (use --app to choose the app)")]
    WatchNeedsApp,

    #[error("cannot watch the workspace's files: {0}")]
    Watch(String),

    #[error("stack {stack} is in {status}: the template it would roll back to may need assets no other stack refers to; run gc once it has settled (for UPDATE_ROLLBACK_FAILED: `cargo cfn deploy --continue-rollback`)")]
    GcStackUnsettled { stack: String, status: String },

    #[error(
        "--express does not apply to stack {stack}: it has {why}; deploy it without --express"
    )]
    ExpressNotApplicable { stack: String, why: String },

    #[error("the bootstrap template is invalid: {0}")]
    Bootstrap(String),

    #[error("--trust takes a 12-digit AWS account ID, got {0:?}: write the account's ID, as `aws sts get-caller-identity` prints it in that account")]
    BadTrustedAccount(String),

    /// `cargo cfn new` wrote nothing.
    #[error(transparent)]
    New(#[from] crate::commands::new::NewError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl DeployError {
    /// Wraps an SDK error with the operation and what it was about, keeping the service's own message (which
    /// names the resource and usually the fix) rather than the SDK's generic "service error".
    pub fn aws<E>(operation: &'static str, subject: impl Into<String>, err: E) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        let message = match (err.code(), err.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (None, Some(message)) => message.to_owned(),
            // No answer from the service (a connection or credentials problem): the chain says which.
            _ => sdk_message(&err),
        };
        DeployError::Aws {
            operation,
            subject: subject.into(),
            message,
        }
    }
}

/// The whole chain of an SDK error, as text: each source's message once, joined by `: ` (a connection error says
/// what went wrong only in its sources). The SDK's own `DisplayErrorContext` also appends the `Debug` dump of the
/// error, which is noise to a user. When the endpoint could not be reached at all, the message ends with where the
/// endpoint comes from, since that is what to check.
pub fn sdk_message(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut unreachable = false;
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            unreachable |= matches!(
                io.kind(),
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | TimedOut
                    | NotConnected
                    | AddrNotAvailable
            );
        }
        // The HTTP client's own wording, for causes that are not an io::Error (DNS, TLS handshakes, timeouts).
        unreachable |= [
            "error trying to connect",
            "dns error",
            "failed to lookup address",
            "timeout",
        ]
        .iter()
        .any(|m| text.contains(m));
        // Wrappers often repeat their source's message; say each thing once.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    let mut message = parts.join(": ");
    if unreachable {
        let endpoint = [
            "AWS_ENDPOINT_URL_CLOUDFORMATION",
            "AWS_ENDPOINT_URL_S3",
            "AWS_ENDPOINT_URL",
        ]
        .iter()
        .find_map(|var| {
            std::env::var(var)
                .ok()
                .map(|url| format!("{url} (from {var})"))
        })
        .unwrap_or_else(|| "the AWS endpoint of the configured region".to_owned());
        message.push_str(&format!(
            "; could not reach {endpoint}: check the network, AWS_ENDPOINT_URL and AWS_REGION (or the profile's region)"
        ));
    }
    message
}

/// The failed resources, each after the validation findings that name it; findings of resources that did not
/// fail (or of none) come first.
fn render_failures(failures: &[Failure], findings: &[Finding]) -> String {
    if failures.is_empty() && findings.is_empty() {
        return String::new();
    }
    let mut s = String::from("; failed resources:");
    for f in findings
        .iter()
        .filter(|v| !failures.iter().any(|f| f.logical_id == v.logical_id))
    {
        s.push_str(&format!(
            "\n  {} ({}): {}",
            f.logical_id,
            f.resource_type,
            f.render()
        ));
    }
    for f in failures {
        for v in findings.iter().filter(|v| v.logical_id == f.logical_id) {
            s.push_str(&format!(
                "\n  {} ({}): {}",
                f.logical_id,
                f.resource_type,
                v.render()
            ));
        }
        s.push_str(&format!(
            "\n  {} ({}) {}: {}",
            f.logical_id, f.resource_type, f.status, f.reason
        ));
    }
    s
}

/// A change set's validation findings, before CloudFormation's generic reason.
fn render_findings(findings: &[Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        s.push_str(&format!(
            "\n  {} ({}): {}",
            f.logical_id,
            f.resource_type,
            f.render()
        ));
    }
    if !findings.is_empty() {
        s.push_str("\n  CloudFormation's reason");
    }
    s
}

fn render_blockers(blockers: &[Failure]) -> String {
    if blockers.is_empty() {
        return "; its events name no failed resource".into();
    }
    let mut s = String::from(". The resources that failed to roll back:");
    for f in blockers {
        s.push_str(&format!(
            "\n  {} ({}) {}: {}",
            f.logical_id, f.resource_type, f.status, f.reason
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::sdk_message;
    use std::error::Error;
    use std::fmt;

    /// An error with a message and a source, like the SDK's layers.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<dyn Error + 'static>>);
    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref()
        }
    }

    #[test]
    fn a_refused_connection_reads_as_one_chain_with_what_to_check() {
        let refused = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let err = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "io error",
                Some(Box::new(Layer(
                    "tcp connect error",
                    Some(Box::new(refused)),
                ))),
            ))),
        );
        let message = sdk_message(&err);
        assert!(
            message.starts_with("dispatch failure: io error: tcp connect error: Connection refused (os error 111); could not reach "),
            "{message}"
        );
        assert!(
            message.contains("check the network, AWS_ENDPOINT_URL and AWS_REGION"),
            "{message}"
        );
        assert!(!message.contains("Layer("), "no Debug dump: {message}");
    }

    #[test]
    fn a_service_side_chain_has_no_reachability_hint_and_says_each_thing_once() {
        let err = Layer(
            "service error",
            Some(Box::new(Layer(
                "ValidationError: Stack with id Base does not exist",
                None,
            ))),
        );
        assert_eq!(
            sdk_message(&Layer(
                "ValidationError: Stack with id Base does not exist",
                Some(Box::new(err))
            )),
            "ValidationError: Stack with id Base does not exist: service error"
        );
    }
}
