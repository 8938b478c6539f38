//! Which cfnkit grant gives an action, for the fix a denial suggests. Read off the grants' own action sets
//! ([`cfnkit::constructs::actions`]), so a hint names what the grant really adds.

use cfnkit::constructs::actions as a;

/// (the grant's actions, the call that adds them), most specific first.
const GRANTS: &[(&[&str], &str)] = &[
    (a::DYNAMODB_STREAM_READ, "table.grant_stream_read(&function)"),
    (a::DYNAMODB_LIST_STREAMS, "table.grant_stream_read(&function)"),
    (a::DYNAMODB_READ, "table.grant_read_data(&function)"),
    (a::DYNAMODB_WRITE, "table.grant_write_data(&function)"),
    (a::SQS_SEND, "queue.grant_send_messages(&function)"),
    (a::SQS_CONSUME, "queue.grant_consume_messages(&function)"),
    (a::SQS_PURGE, "queue.grant_purge(&function)"),
    (a::SNS_PUBLISH, "topic.grant_publish(&function)"),
    (a::EVENTS_PUT, "bus.grant_put_events(&function)"),
    (a::LAMBDA_INVOKE, "other_function.grant_invoke(&function)"),
    (a::KINESIS_WRITE, "stream.grant_write(&function)"),
    (a::KINESIS_READ, "stream.grant_read(&function)"),
    (a::S3_READ_OBJECTS, "bucket.grant_read(&function)"),
    (a::S3_READ_BUCKET, "bucket.grant_read(&function)"),
    (a::S3_PUT, "bucket.grant_put(&function)"),
    (a::S3_DELETE, "bucket.grant_delete(&function)"),
    (a::SECRETS_READ, "secret.grant_read(&function)"),
    (a::SECRETS_WRITE, "secret.grant_write(&function)"),
    (a::SECRETS_ROTATE, "secret.grant_rotate(&function)"),
    (a::LOGS_WRITE, "log_group.grant_write(&function)"),
    (a::KMS_ENCRYPT_DECRYPT, "the grant of the resource encrypted with the key (it grants the key too), or key.grant_encrypt_decrypt(&function)"),
];

/// The grant that adds `action`, or a raw statement when no grant does.
pub fn grant_for(action: &str, resource: &str) -> String {
    GRANTS
        .iter()
        .find(|(actions, _)| actions.iter().any(|x| x.eq_ignore_ascii_case(action)))
        .map(|(_, grant)| (*grant).to_owned())
        .unwrap_or_else(|| {
            format!(
                "function.role().grant(&[\"{action}\"], [\"{resource}\"]) with the resource's ARN"
            )
        })
}
