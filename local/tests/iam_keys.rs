//! The KMS permissions AWS checks when a service encrypts for the caller: a queue encrypted with a
//! customer-managed key needs the key in the sender's grants, and a grant that forgets it fails locally.

mod apigw_iam_support;

use apigw_iam_support::{local_app, ACCOUNT, REGION};
use bytes::Bytes;
use cfnkit::constructs::actions;
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps};
use cfnkit::constructs::sqs::{Queue, QueueEncryption, QueueProps};
use cfnkit::App;
use cfnkit_local::iam::{ApiRequest, AuthorizeError, Authorizer, Check, RolePolicies};
use cfnkit_local::invoke::FunctionRef;
use http::{HeaderMap, HeaderValue, Method};

/// `Granted` sends through `queue.grant_send_messages` (which grants the key too); `Forgetful` was given the
/// queue's actions by hand, not the key.
fn app() -> App {
    let app = App::new();
    let s = app.stack("Orders");
    let scope = s.scope();
    let key = Key::new(&scope, "QueueKey", KeyProps::default()).unwrap();
    let queue = Queue::new(
        &scope,
        "Orders",
        QueueProps {
            encryption: QueueEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let f = |id: &str| {
        Function::new(
            &scope,
            id,
            Code::asset("order-api"),
            FunctionProps::default(),
        )
        .unwrap()
    };
    queue.grant_send_messages(&f("Granted"));
    f("Forgetful")
        .role()
        .grant(actions::SQS_SEND, [queue.queue_arn()]);
    app
}

fn send_message(queue_url: &str) -> ApiRequest {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amz-target",
        HeaderValue::from_static("AmazonSQS.SendMessage"),
    );
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    ApiRequest {
        service: "sqs".into(),
        method: Method::POST,
        path: "/".into(),
        query: String::new(),
        headers,
        body: Bytes::from(
            serde_json::json!({"QueueUrl": queue_url, "MessageBody": "{}"}).to_string(),
        ),
        account: ACCOUNT.into(),
        region: REGION.into(),
    }
}

#[test]
fn a_send_to_an_encrypted_queue_needs_the_key_through_sqs() {
    let app = local_app(&app());
    let authorizer = Authorizer::new(&app);
    let queue = app.resource("Orders", "Orders").unwrap();
    let key_arn = app
        .resource("Orders", "QueueKey")
        .unwrap()
        .arn
        .clone()
        .unwrap();
    let role = |id: &str| {
        RolePolicies::for_function(
            &app,
            &FunctionRef {
                stack: "Orders".into(),
                logical_id: id.into(),
            },
        )
        .unwrap()
    };

    let allowed = authorizer
        .authorize(&role("Granted"), &send_message(&queue.physical_id))
        .unwrap();
    let via = |action: &str| {
        Check::new(action, &key_arn)
            .with_key("kms:ViaService", format!("sqs.{REGION}.amazonaws.com"))
            .with_key("kms:CallerAccount", ACCOUNT)
            .with_key("aws:ViaAWSService", "true")
    };
    assert_eq!(
        allowed.classified.checks,
        [
            Check::new("sqs:SendMessage", queue.arn.clone().unwrap()),
            via("kms:GenerateDataKey"),
            via("kms:Decrypt"),
        ]
    );

    let err = authorizer
        .authorize(&role("Forgetful"), &send_message(&queue.physical_id))
        .unwrap_err();
    let AuthorizeError::Denied(denied) = &err else {
        panic!("{err}")
    };
    assert_eq!(denied.action, "kms:GenerateDataKey");
    assert_eq!(denied.resource, key_arn);
    assert!(err.to_string().contains(
        "grant it in the stack, e.g. the grant of the resource encrypted with the key (it grants the key too), or \
         key.grant_encrypt_decrypt(&function)"
    ), "{err}");
}
