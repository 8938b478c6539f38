//! API Gateway v2 (HTTP APIs): not written yet.
