//! How event sources, HTTP APIs and rules invoke a function, whatever runs it.

use std::future::Future;
use std::pin::Pin;

/// A function of the app: its stack and logical ID (`Order`, `OrderApi`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionRef {
    /// The stack's name.
    pub stack: String,
    /// The function's logical ID.
    pub logical_id: String,
}

impl std::fmt::Display for FunctionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.stack, self.logical_id)
    }
}

/// An invocation that did not return a result.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum InvokeError {
    /// The handler returned an error (Lambda's `Unhandled` function error), as the Runtime API reported it.
    #[error("{function} failed: {error_type}: {error_message}")]
    Function {
        /// The function.
        function: FunctionRef,
        /// `errorType` of the handler's error.
        error_type: String,
        /// `errorMessage` of the handler's error.
        error_message: String,
    },
    /// The invocation ran past the function's timeout; its process was stopped.
    #[error("{function} timed out after {seconds} s")]
    Timeout {
        /// The function.
        function: FunctionRef,
        /// The function's timeout.
        seconds: u64,
    },
    /// The function's process could not start or initialise (a crash, or an init error it reported).
    #[error("{function} could not start: {message}")]
    Init {
        /// The function.
        function: FunctionRef,
        /// What went wrong, with its fix where known.
        message: String,
    },
    /// No function of that name runs locally.
    #[error("no function {0} runs locally")]
    Unknown(FunctionRef),
}

/// A boxed future, so that [`Invoke`] can be used as `dyn Invoke`.
pub type InvokeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<serde_json::Value, InvokeError>> + Send + 'a>>;

/// Invokes functions synchronously (RequestResponse): the payload in, the handler's result out. Asynchronous
/// invocation (retries, on-failure destinations, DLQ) is built on top of it by the caller that needs it.
pub trait Invoke: Send + Sync {
    /// Runs one invocation of `function` with `payload` and waits for its result.
    fn invoke<'a>(
        &'a self,
        function: &'a FunctionRef,
        payload: serde_json::Value,
    ) -> InvokeFuture<'a>;
}
