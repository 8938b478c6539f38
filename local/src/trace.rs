//! What happened during a run: each event's path (with `--trace`), and the counts for the summary on exit.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::invoke::{FunctionRef, Invoke, InvokeError, InvokeFuture};

/// Counts per function, and the optional printing of each step.
#[derive(Default)]
pub struct Tracer {
    enabled: bool,
    counts: Mutex<BTreeMap<FunctionRef, Counts>>,
    lines: Mutex<Vec<String>>,
}

/// Invocations of one function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Invocations started.
    pub invocations: u64,
    /// Invocations that ended in an error, a timeout or a failed start.
    pub failures: u64,
}

impl Tracer {
    /// A tracer that prints each step when `enabled`.
    pub fn new(enabled: bool) -> Arc<Tracer> {
        Arc::new(Tracer {
            enabled,
            ..Tracer::default()
        })
    }

    /// One step of an event's path: `from -> to`, with what travels.
    pub fn step(&self, from: &str, to: &str, what: &str) {
        if self.enabled {
            let line = format!("trace: {from} -> {to}: {what}");
            println!("{line}");
            self.lines.lock().expect("trace lock").push(line);
        }
    }

    /// Something worth saying whether or not tracing is on (a denial, a message sent to a DLQ).
    pub fn note(&self, line: &str) {
        eprintln!("{line}");
        self.lines.lock().expect("trace lock").push(line.to_owned());
    }

    /// The lines printed so far (steps when tracing, and notes).
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("trace lock").clone()
    }

    /// The counts so far.
    pub fn counts(&self) -> BTreeMap<FunctionRef, Counts> {
        self.counts.lock().expect("trace lock").clone()
    }

    fn count(&self, f: &FunctionRef, failed: bool) {
        let mut c = self.counts.lock().expect("trace lock");
        let e = c.entry(f.clone()).or_default();
        e.invocations += 1;
        if failed {
            e.failures += 1;
        }
    }
}

/// An [`Invoke`] that counts (and traces) each invocation of the one it wraps.
pub struct Counted {
    /// The wrapped invoker.
    pub inner: Arc<dyn Invoke>,
    /// Where counts go.
    pub tracer: Arc<Tracer>,
}

impl Invoke for Counted {
    fn invoke<'a>(
        &'a self,
        function: &'a FunctionRef,
        payload: serde_json::Value,
    ) -> InvokeFuture<'a> {
        Box::pin(async move {
            let result = self.inner.invoke(function, payload).await;
            self.tracer.count(function, result.is_err());
            match &result {
                Ok(_) => self.tracer.step(&function.to_string(), "result", "ok"),
                Err(
                    e @ (InvokeError::Init { .. }
                    | InvokeError::Timeout { .. }
                    | InvokeError::Function { .. }),
                ) => self.tracer.note(&format!("error: {e}")),
                Err(e) => self
                    .tracer
                    .step(&function.to_string(), "result", &e.to_string()),
            }
            result
        })
    }
}

/// What the run did, printed on exit.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Invocations and failures per function.
    pub functions: BTreeMap<FunctionRef, Counts>,
    /// Messages left in each dead-letter queue (by `Stack/LogicalId`), where there are any.
    pub dead_letters: BTreeMap<String, u64>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "summary:")?;
        if self.functions.is_empty() {
            writeln!(f, "  no invocations")?;
        }
        for (function, c) in &self.functions {
            writeln!(
                f,
                "  {function}: {} invocation{}, {} failed",
                c.invocations,
                if c.invocations == 1 { "" } else { "s" },
                c.failures
            )?;
        }
        for (queue, n) in &self.dead_letters {
            writeln!(
                f,
                "  {queue}: {n} message{} left in this dead-letter queue",
                if *n == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}
