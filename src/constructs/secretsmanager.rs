//! Secrets Manager: not written yet.
