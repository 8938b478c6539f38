//! Kinesis: not written yet.
