//! API Gateway (REST APIs): not written yet.
