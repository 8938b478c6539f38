//! Synth as the CLI does it before writing: the app synthesized and the rule pack run on every template.

use super::{synth, Assembly, SynthError};
use crate::rules::{self, Report};
use crate::stack::App;

/// An assembly that the rule pack passed: what `synth` and `package` write. Its report has no unsuppressed error;
/// it may have warnings and suppressed findings.
#[derive(Clone, Debug)]
pub struct CheckedAssembly {
    assembly: Assembly,
    report: Report,
}

impl CheckedAssembly {
    /// The synthesized templates.
    pub fn assembly(&self) -> &Assembly {
        &self.assembly
    }
    /// What the rule pack found: warnings and suppressed findings only.
    pub fn report(&self) -> &Report {
        &self.report
    }
    /// The templates, to change before writing them (as `package` does when it puts the assets' hashes in).
    pub fn into_assembly(self) -> Assembly {
        self.assembly
    }
}

/// Synthesizes the app and runs the rule pack on it: exactly what `cargo run -- synth` does before it writes
/// anything, so a test built on it passes only for an app that `synth` accepts. [`synth()`] alone does not run
/// the rule pack.
///
/// Fails with [`SynthError::Rules`] (every finding listed, suppressed ones included) when the pack finds an
/// error that is not suppressed, and with synth's own errors before that.
///
/// ```
/// use cfnkit::synth::{synth_checked, SynthError};
/// use cfnkit::{App, RawResource};
///
/// let app = App::new();
/// app.stack("Ops").add_raw("Logs", RawResource::new("AWS::Logs::LogGroup"));
/// match synth_checked(&app) {
///     Err(SynthError::Rules(report)) => {
///         assert_eq!(report.errors().next().unwrap().rule, &cfnkit::rules::CFNKIT_LOG1)
///     }
///     other => panic!("a log group kept forever fails the rule pack: {other:?}"),
/// }
/// ```
pub fn synth_checked(app: &App) -> Result<CheckedAssembly, SynthError> {
    let assembly = synth(app)?;
    let report = rules::check(&assembly);
    if report.has_errors() {
        return Err(SynthError::Rules(report));
    }
    Ok(CheckedAssembly { assembly, report })
}
