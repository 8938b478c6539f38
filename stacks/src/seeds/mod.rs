//! Seeds 000 (transactional outbox), 001 (stream-driven processing) and 002 (raw-event bronze layer): not written
//! yet (issue #6).

use cfnkit::App;

use crate::Base;

pub fn stacks(_app: &App, _base: &Base) -> Result<(), String> {
    Ok(())
}
