//! The event-driven order platform (seed 003), described with cfnkit: one module per stack.

mod base;
mod order;

use cfnkit::App;

pub use base::Base;

/// The platform app: every stack, wired together through cross-stack references.
pub fn app() -> Result<App, String> {
    let app = App::new();
    app.add_tag("app", "order-platform");
    let base = base::stack(&app).map_err(|e| e.to_string())?;
    order::stack(&app, &base).map_err(|e| e.to_string())?;
    Ok(app)
}
