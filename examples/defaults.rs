//! One small app per construct, each written with nothing but the construct's defaults: what a new user writes
//! first. Every one must pass the rule pack (`tests/defaults.rs`), cfn-lint at every level and checkov (`.ci/run`
//! synthesizes them with `cargo run --example defaults -- synth --out DIR` and lints the templates), with no
//! suppression, skip or setting written here: a construct that needs one for its own choice writes it itself.

use cfnkit::prelude::*;

/// What builds one app's stack.
pub type Build = fn(&Stack) -> Result<(), ConstructError>;

/// One stack per construct, named `Default<Construct>`, and the function that builds it.
pub const APPS: &[(&str, Build)] = &[
    ("DefaultFunction", function),
    ("DefaultHttpApi", http_api),
    ("DefaultTable", table),
    ("DefaultQueue", queue),
    ("DefaultTopic", topic),
    ("DefaultBucket", bucket),
    ("DefaultStream", stream),
    ("DefaultRestApi", rest_api),
    ("DefaultSecret", secret),
];

fn handler(stack: &Stack) -> Result<Function, ConstructError> {
    Function::new(
        stack,
        "Handler",
        Code::cargo_bin("handlers", "handler"),
        FunctionProps::default(),
    )
}

pub fn function(stack: &Stack) -> Result<(), ConstructError> {
    handler(stack)?;
    Ok(())
}

pub fn http_api(stack: &Stack) -> Result<(), ConstructError> {
    let api = HttpApi::new(stack, "Api", HttpApiProps::default())?;
    api.add_route("POST /orders", &handler(stack)?, RouteOptions::default())?;
    Ok(())
}

pub fn table(stack: &Stack) -> Result<(), ConstructError> {
    Table::new(
        stack,
        "Table",
        Attribute::string("id"),
        TableProps::default(),
    )?;
    Ok(())
}

pub fn queue(stack: &Stack) -> Result<(), ConstructError> {
    Queue::new(stack, "Queue", QueueProps::default())?;
    Ok(())
}

pub fn topic(stack: &Stack) -> Result<(), ConstructError> {
    Topic::new(stack, "Topic", TopicProps::default())?;
    Ok(())
}

pub fn bucket(stack: &Stack) -> Result<(), ConstructError> {
    Bucket::new(stack, "Bucket", BucketProps::default())?;
    Ok(())
}

pub fn stream(stack: &Stack) -> Result<(), ConstructError> {
    Stream::new(stack, "Stream", StreamProps::default())?;
    Ok(())
}

pub fn rest_api(stack: &Stack) -> Result<(), ConstructError> {
    let api = RestApi::new(stack, "Api", RestApiProps::default())?;
    api.add_method("GET", "/orders", &handler(stack)?, MethodOptions::default())?;
    Ok(())
}

pub fn secret(stack: &Stack) -> Result<(), ConstructError> {
    Secret::new(stack, "Secret", SecretProps::default())?;
    Ok(())
}

/// Every app above, one stack each.
pub fn app() -> Result<App, ConstructError> {
    let app = App::new();
    for (name, build) in APPS {
        build(&app.stack(name))?;
    }
    Ok(app)
}

#[allow(dead_code)]
fn main() -> std::process::ExitCode {
    cfnkit::cli::main(app)
}
