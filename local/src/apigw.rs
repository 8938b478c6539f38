//! REST and HTTP APIs on localhost (module owned by the local-edge work).
