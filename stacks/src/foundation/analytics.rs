//! Not written yet.

use cfnkit::constructs::ConstructError;
use cfnkit::App;

use crate::Base;

pub fn stack(_app: &App, _base: &Base) -> Result<(), ConstructError> {
    Ok(())
}
