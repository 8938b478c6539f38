//! A moto that cannot be found is a clear error naming the fix (a test binary of its own: it sets an
//! environment variable every run in the process would read).

mod support;

use cfnkit::constructs::lambda::{Function, FunctionProps};
use cfnkit::App;
use cfnkit_local::run::LocalOptions;

#[tokio::test]
async fn a_moto_server_that_is_not_there_is_refused_with_the_fix() {
    #[expect(
        clippy::disallowed_methods,
        reason = "this test binary holds this one test, so no other test reads the variable"
    )]
    std::env::set_var("CFNKIT_MOTO_SERVER", "/nonexistent/moto_server");
    let app = App::new();
    Function::new(
        &app.stack("Fns").scope(),
        "Echo",
        support::code("echo"),
        FunctionProps::default(),
    )
    .unwrap();
    let Err(e) = support::start_with(&app, LocalOptions::default()).await else {
        panic!("the run started without moto");
    };
    assert_eq!(
        e.to_string(),
        "CFNKIT_MOTO_SERVER=/nonexistent/moto_server is not a file; point it at a moto_server executable or unset it"
    );
}
