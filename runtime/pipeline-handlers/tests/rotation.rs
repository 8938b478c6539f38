//! Seed 000's credential rotation against moto's server, and the receipt function reading the
//! rotated credentials.
//!
//! moto's `RotateSecret` cannot run a rotation function (it would need Lambda to run our code),
//! so the test plays Secrets Manager's part: it creates the AWSPENDING version for the rotation's
//! token and calls the four steps the way Secrets Manager does.

mod support;

use contracts::outbox::ProviderCredentials;
use pipeline_handlers::receipt::ReceiptService;
use pipeline_handlers::rotation::{self, Rotation, RotationEvent};

fn step(name: &str, secret: &str, token: &str) -> RotationEvent {
    RotationEvent {
        step: name.into(),
        secret_id: secret.into(),
        token: token.into(),
    }
}

async fn current(
    secrets: &aws_sdk_secretsmanager::Client,
    id: &str,
) -> (String, ProviderCredentials) {
    let out = secrets
        .get_secret_value()
        .secret_id(id)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .unwrap();
    (
        out.version_id().unwrap().to_owned(),
        serde_json::from_str(out.secret_string().unwrap()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_steps_move_current_to_the_new_key_and_repeat_safely() {
    let (_moto, sdk) = support::start().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let secret = "provider-credentials";
    secrets
        .create_secret()
        .name(secret)
        .secret_string(r#"{"apiKey":"old-key"}"#)
        .send()
        .await
        .unwrap();
    let (old_version, _) = current(&secrets, secret).await;
    let rotation = Rotation {
        secrets: secrets.clone(),
    };

    // An unknown version is refused before any step.
    let err = rotation::handle(
        &rotation,
        step(
            "createSecret",
            secret,
            "00000000-0000-0000-0000-000000000001",
        ),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("is not a version of"), "{err}");

    // What `createSecret` stores for the rotation's token: a new random key, AWSPENDING. moto
    // cannot create the empty AWSPENDING marker Secrets Manager makes, so the test puts it with
    // the value the step would generate (`createSecret` then finds it and keeps it).
    let token = "11111111-2222-3333-4444-555555555555";
    let random = secrets
        .get_random_password()
        .password_length(rotation::API_KEY_LENGTH)
        .exclude_punctuation(true)
        .send()
        .await
        .unwrap()
        .random_password
        .unwrap();
    secrets
        .put_secret_value()
        .secret_id(secret)
        .client_request_token(token)
        .secret_string(
            serde_json::to_string(&ProviderCredentials {
                api_key: random.clone(),
            })
            .unwrap(),
        )
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();

    for name in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
        rotation::handle(&rotation, step(name, secret, token))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if name != "finishSecret" {
            assert_eq!(
                current(&secrets, secret).await.0,
                old_version,
                "{name} keeps AWSCURRENT"
            );
        }
    }
    let (version, creds) = current(&secrets, secret).await;
    assert_eq!(version, token);
    assert_eq!(creds.api_key, random);
    assert_eq!(random.len(), rotation::API_KEY_LENGTH as usize);
    // Secrets Manager retries steps: a repeated finishSecret changes nothing.
    rotation::handle(&rotation, step("finishSecret", secret, token))
        .await
        .unwrap();
    assert_eq!(current(&secrets, secret).await.0, token);

    // The receipt function reads the rotated key once it forgets the cached one.
    let receipts = ReceiptService::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        secrets.clone(),
        "unused".into(),
        secret.into(),
    );
    assert_eq!(receipts.credentials().await.unwrap().value.api_key, random);
    receipts.forget_credentials().await;
    assert_eq!(receipts.credentials().await.unwrap().version_id, token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_step_is_refused_by_name() {
    let (_moto, sdk) = support::start().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    secrets
        .create_secret()
        .name("s")
        .secret_string(r#"{"apiKey":"k"}"#)
        .send()
        .await
        .unwrap();
    let token = "11111111-2222-3333-4444-555555555555";
    secrets
        .put_secret_value()
        .secret_id("s")
        .client_request_token(token)
        .secret_string(r#"{"apiKey":"k2"}"#)
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let err = rotation::handle(&Rotation { secrets }, step("rotateEverything", "s", token))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown rotation step \"rotateEverything\""),
        "{err}"
    );
}
