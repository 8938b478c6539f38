//! Uploading what the templates refer to: Lambda code zips (the manifest's assets) and templates too large to
//! send in a request, to the bootstrap bucket.

use std::path::Path;

use crate::assembly::{sha256_hex, Assembly, Asset};
use crate::aws::Clients;
use crate::error::DeployError;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

/// CloudFormation's limit for a template sent in the request body.
pub const BODY_LIMIT: usize = 51_200;

/// What an upload did, for the summary line.
#[derive(Debug, Default, PartialEq)]
pub struct Uploaded {
    pub uploaded: Vec<String>,
    pub present: Vec<String>,
}

/// The assets the named stacks use (all of them for an empty selection).
pub fn assets_for<'a>(assembly: &'a Assembly, stacks: &[&str]) -> Vec<&'a Asset> {
    assembly
        .manifest
        .assets
        .iter()
        .filter(|a| {
            stacks.is_empty()
                || a.used_by
                    .iter()
                    .any(|u| stacks.contains(&u.split('/').next().unwrap_or(u)))
        })
        .collect()
}

/// The bucket an asset names, with the pseudo parameters of its `Fn::Sub` pattern filled in.
pub fn resolve_bucket(pattern: &str, account: &str, region: &str) -> String {
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    pattern
        .replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
        .replace("${AWS::Partition}", partition)
}

/// Fails, naming the bucket and `cargo cfn bootstrap`, when the bootstrap bucket is not there.
pub async fn require_bucket(clients: &Clients, bucket: &str) -> Result<(), DeployError> {
    match clients.s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let reason = e
                .code()
                .map(str::to_owned)
                .unwrap_or_else(|| crate::error::sdk_message(&e));
            Err(DeployError::NotBootstrapped {
                bucket: bucket.into(),
                reason,
            })
        }
    }
}

/// Uploads each asset that is not in its bucket yet (HeadObject, then PutObject). Keys hold the content hash,
/// so an object under the key is the right one and is never uploaded twice.
pub async fn upload(
    clients: &Clients,
    assembly: &Assembly,
    assets: &[&Asset],
) -> Result<Uploaded, DeployError> {
    let mut done = Uploaded::default();
    if assets.is_empty() {
        return Ok(done);
    }
    // Every asset must be built before anything is uploaded or deployed.
    let zips = assets
        .iter()
        .map(|a| built(a))
        .collect::<Result<Vec<_>, _>>()?;
    let account = clients.account().await?.to_owned();
    for (asset, (rel, sha256)) in assets.iter().zip(zips) {
        let bucket = resolve_bucket(&asset.bucket, &account, &clients.region);
        require_bucket(clients, &bucket).await?;
        let path = assembly.dir.join(rel);
        let bytes = std::fs::read(&path).map_err(|source| DeployError::Asset {
            path: path.clone(),
            source,
        })?;
        let actual = sha256_hex(&bytes);
        if actual != sha256 {
            return Err(DeployError::ChangedAfterSynth {
                path,
                expected: sha256.to_owned(),
                actual,
            });
        }
        if exists(clients, &bucket, &asset.key).await? {
            done.present.push(asset.key.clone());
            continue;
        }
        put(clients, &bucket, &asset.key, bytes, &path).await?;
        done.uploaded.push(asset.key.clone());
    }
    Ok(done)
}

/// The zip's path and hash, or the error for an asset synth listed but `package` did not build.
pub fn built(asset: &Asset) -> Result<(&str, &str), DeployError> {
    match (&asset.path, &asset.sha256, asset.packaged) {
        (Some(path), Some(sha256), true) => Ok((path, sha256)),
        _ => Err(DeployError::Unpackaged {
            name: asset.label().to_owned(),
            used_by: if asset.used_by.is_empty() {
                "the app".to_owned()
            } else {
                asset.used_by.join(", ")
            },
        }),
    }
}

async fn exists(clients: &Clients, bucket: &str, key: &str) -> Result<bool, DeployError> {
    match clients
        .s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
        Err(e) => Err(DeployError::aws(
            "s3:HeadObject",
            format!("s3://{bucket}/{key}"),
            e,
        )),
    }
}

async fn put(
    clients: &Clients,
    bucket: &str,
    key: &str,
    bytes: Vec<u8>,
    from: &Path,
) -> Result<(), DeployError> {
    clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "s3:PutObject",
                format!("{} to s3://{bucket}/{key}", from.display()),
                e,
            )
        })?;
    Ok(())
}

/// Uploads a template too large for the request body under its hash, and returns the URL CloudFormation
/// reads it from.
pub async fn upload_template(
    clients: &Clients,
    stack: &str,
    body: &str,
) -> Result<String, DeployError> {
    let bucket = clients.assets_bucket().await?;
    require_bucket(clients, &bucket).await?;
    let key = format!("templates/{stack}/{}.template", sha256_hex(body.as_bytes()));
    if !exists(clients, &bucket, &key).await? {
        put(
            clients,
            &bucket,
            &key,
            body.as_bytes().to_vec(),
            Path::new(&format!("template of {stack}")),
        )
        .await?;
    }
    Ok(clients.object_url(&bucket, &key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unbuilt_asset_is_refused_with_the_command_that_builds_it() {
        let asset: Asset = serde_json::from_str(
            r#"{"name": "order-ingest", "packaged": false, "key": "assets/order-ingest/__CFNKIT_ASSET_HASH__.zip",
                "usedBy": ["Order/Ingest"]}"#,
        )
        .unwrap();
        let err = built(&asset).unwrap_err().to_string();
        assert!(
            err.starts_with("asset order-ingest (used by Order/Ingest) is not built"),
            "{err}"
        );
        assert!(err.contains("--package"), "{err}");
    }

    #[test]
    fn bucket_patterns_resolve_to_the_bootstrap_bucket() {
        assert_eq!(
            resolve_bucket(
                cfnkit::constructs::lambda::ASSET_BUCKET,
                "123456789012",
                "eu-west-1"
            ),
            "cfnkit-assets-123456789012-eu-west-1"
        );
        assert_eq!(
            resolve_bucket("b-${AWS::Partition}", "1", "cn-north-1"),
            "b-aws-cn"
        );
    }
}
