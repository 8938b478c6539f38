//! S3: not written yet.
