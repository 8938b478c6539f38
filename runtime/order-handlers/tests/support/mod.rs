//! Test support: moto's server, the platform's wiring as data, and a harness that deploys the
//! wiring into moto and plays Lambda's event source mappings.
#![allow(dead_code)]

pub mod harness;
pub mod moto;
pub mod wiring;
