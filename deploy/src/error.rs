//! Everything that can stop a command, each naming the stack or file involved and what to do about it.

use std::path::PathBuf;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::events::Failure;

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

    #[error("stack {stack}: the change set failed: {reason}")]
    ChangeSetFailed { stack: String, reason: String },

    #[error("stack {stack} did not reach a complete state: it ended in {status}{note}{}", render_failures(.failures))]
    StackFailed {
        stack: String,
        status: String,
        note: String,
        failures: Vec<Failure>,
    },

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

    #[error("the bootstrap template is invalid: {0}")]
    Bootstrap(String),

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

fn render_failures(failures: &[Failure]) -> String {
    if failures.is_empty() {
        return String::new();
    }
    let mut s = String::from("; failed resources:");
    for f in failures {
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
