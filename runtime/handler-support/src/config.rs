//! Configuration from environment variables (names in the contracts crate's `env` module).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Where configuration comes from: the process environment in Lambda, a map in tests.
pub trait Lookup {
    fn get(&self, key: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Lookup for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl Lookup for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).cloned()
    }
}

impl Lookup for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        BTreeMap::get(self, key).cloned()
    }
}

/// A missing or invalid setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "environment variable {}: {}", self.key, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// A required, non-empty setting.
pub fn require(env: &dyn Lookup, key: &str) -> Result<String, ConfigError> {
    match env.get(key) {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError {
            key: key.to_string(),
            problem: "is not set".into(),
        }),
    }
}

/// An optional number with a default.
pub fn number_or(env: &dyn Lookup, key: &str, default: u32) -> Result<u32, ConfigError> {
    match env.get(key) {
        None => Ok(default),
        Some(v) if v.trim().is_empty() => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError {
            key: key.to_string(),
            problem: format!("`{v}` is not a non-negative integer"),
        }),
    }
}
