//! `cargo cfn local`: the synthesized app running on this machine.
//!
//! The data plane is moto's server (pinned, installed into a virtualenv of the tool's own when missing) with
//! every table, queue, topic, bus, rule, bucket, stream, secret and log group the templates declare; the compute
//! is each function's real binary, built for the host and run behind a local Lambda Runtime API; event sources
//! run as Lambda runs them; every AWS call a handler makes goes through a proxy that knows which function is
//! calling and checks it against the function's role. What cannot run is listed at start-up.
//!
//! # Example
//!
//! A test that brings an app up, sends a message through the local AWS endpoint and waits for its handler:
//!
//! ```no_run
//! use cfnkit_local::model::Templates;
//! use cfnkit_local::run::{LocalOptions, LocalRun};
//! use cfnkit_local::invoke::FunctionRef;
//!
//! # async fn example(app: cfnkit::App) -> Result<(), Box<dyn std::error::Error>> {
//! let templates = Templates::from_app(&app)?;           // or Templates::from_dir("cfnkit.out")
//! let run = LocalRun::start(&templates, LocalOptions::default()).await?;
//! println!("{}", run.ready_report());                    // endpoint, functions, what is not run
//!
//! // Clients of the app talk to `run.endpoint()` (AWS_ENDPOINT_URL); moto itself is `run.moto()`.
//! let queue = run.app.resource("Orders", "Jobs").unwrap();
//! run.moto()
//!     .json("sqs", "AmazonSQS.SendMessage",
//!           &serde_json::json!({"QueueUrl": queue.physical_id, "MessageBody": "hello"}))
//!     .await?;
//!
//! // Or invoke a function directly, as an HTTP API or a rule would.
//! let f = FunctionRef { stack: "Orders".into(), logical_id: "Api".into() };
//! let answer = run.invoker().invoke(&f, serde_json::json!({"ping": true})).await?;
//!
//! let summary = run.stop().await;                        // every process stopped
//! print!("{summary}");                                   // invocations, failures, messages left in DLQs
//! # let _ = answer; Ok(()) }
//! ```
//!
//! # The pieces, each in its own module
//!
//! - [`model`]: the app as the local run sees it: every stack's resources with their intrinsics resolved to the
//!   names and ARNs they have locally (Ref, GetAtt, Sub, ImportValue, parameters), read from a cloud assembly.
//! - [`moto`]: finding, installing and running moto's server, and a small client for its protocols.
//! - [`provision`]: creating what the templates declare in moto, and the list of what is not run.
//! - [`functions`]: building the handlers, the Runtime API, one process pool per function.
//! - [`proxy`]: the AWS endpoint in front of moto: caller identity, the IAM check, taps, Lambda's Invoke API.
//! - [`sources`]: SQS, DynamoDB and Kinesis mappings, and asynchronous invocation (rules, topics, buckets).
//! - [`pattern`]: EventBridge's content filtering, shared by rules, SNS filter policies and event filters.
//! - [`trace`]: `--trace` and the summary on exit.
//! - [`run`]: all of it together ([`run::LocalRun`]); [`cli`] and [`watch`]: `cargo cfn local`.
//! - [`invoke`]: how anything (an event source, an HTTP API, a rule) invokes a function: the [`invoke::Invoke`]
//!   trait, implemented by the function runner.
//! - [`iam`]: IAM policy evaluation of the AWS calls a handler makes, from its role's synthesized statements.
//! - [`apigw`]: REST and HTTP APIs served on localhost, proxying to functions in the right payload version.

pub mod apigw;
pub mod cli;
pub mod functions;
pub mod iam;
pub mod invoke;
pub mod model;
pub mod moto;
pub mod pattern;
pub mod provision;
pub mod proxy;
pub mod run;
pub mod sources;
pub mod trace;
pub mod watch;
