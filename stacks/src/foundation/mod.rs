//! Seed 004: analytics, notifications and the network, data and compute foundation: not written yet (issue #7).

use cfnkit::App;

use crate::Base;

pub fn stacks(_app: &App, _base: &Base) -> Result<(), String> {
    Ok(())
}
