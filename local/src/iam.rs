//! IAM policy evaluation of the AWS calls a handler makes (module owned by the local-edge work).
