//! Resizes catalog images: S3 reports each object created under `uploads/` of the image bucket (through
//! EventBridge, to the resize queue); the function decodes it (PNG or JPEG), scales it to fit
//! [`contracts::jobs::THUMBNAIL_MAX_SIDE`] keeping its aspect ratio, writes it as PNG under `thumbnails/`, and
//! records both keys on the product (`uploads/<product id>/<file>`) in the catalog table.

use std::io::Cursor;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::Client as Dynamo;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client as S3;
use contracts::jobs;
use serde::Deserialize;

use crate::config::{require, ConfigError, Lookup};
use crate::util::s;
use crate::{batch, Error};

pub struct Resizer {
    pub s3: S3,
    pub dynamodb: Dynamo,
    pub bucket: String,
    pub catalog_table: String,
}

impl Resizer {
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(Resizer {
            s3: S3::new(sdk),
            dynamodb: Dynamo::new(sdk),
            bucket: require(env, jobs::IMAGE_BUCKET)?,
            catalog_table: require(env, jobs::CATALOG_TABLE)?,
        })
    }
}

/// The part of S3's EventBridge `Object Created` event the resizer reads.
#[derive(Debug, Deserialize)]
struct ObjectCreated {
    detail: Detail,
}

#[derive(Debug, Deserialize)]
struct Detail {
    bucket: Named,
    object: Object,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Object {
    key: String,
}

/// Scales `bytes` (PNG or JPEG) to fit a `max` x `max` square, keeping the aspect ratio (never enlarging),
/// and encodes the result as PNG.
pub fn thumbnail(bytes: &[u8], max: u32) -> Result<Vec<u8>, Error> {
    let img = image::load_from_memory(bytes)?;
    let img = if img.width() > max || img.height() > max {
        img.resize(max, max, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// Resizes the object of one event; returns the thumbnail key, or `None` for an object outside `uploads/`.
pub async fn resize(r: &Resizer, body: &str) -> Result<Option<String>, Error> {
    let event: ObjectCreated = serde_json::from_str(body)?;
    let (bucket, key) = (event.detail.bucket.name, event.detail.object.key);
    if bucket != r.bucket {
        return Err(format!("event for bucket {bucket}, expected {}", r.bucket).into());
    }
    let Some(thumb_key) = jobs::thumbnail_key(&key) else {
        return Ok(None);
    };
    let object = r.s3.get_object().bucket(&bucket).key(&key).send().await?;
    let bytes = object.body.collect().await?.into_bytes();
    let png = thumbnail(&bytes, jobs::THUMBNAIL_MAX_SIDE)?;
    r.s3.put_object()
        .bucket(&bucket)
        .key(&thumb_key)
        .content_type("image/png")
        .body(ByteStream::from(png))
        .send()
        .await?;
    // `uploads/<product id>/<file>`: the product gets its image and thumbnail keys.
    let rest = &key[jobs::UPLOAD_PREFIX.len()..];
    if let Some((product_id, _)) = rest.split_once('/') {
        r.dynamodb
            .update_item()
            .table_name(&r.catalog_table)
            .key("productId", s(product_id))
            .update_expression("SET imageKey = :i, thumbnailKey = :t")
            .expression_attribute_values(":i", s(&key))
            .expression_attribute_values(":t", s(&thumb_key))
            .send()
            .await?;
    }
    Ok(Some(thumb_key))
}

pub async fn handle(r: &Resizer, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |m| async move {
        resize(r, batch::body(&m)?).await.map(|_| ())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::RgbImage::new(w, h)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn thumbnails_fit_the_square_keep_the_ratio_and_never_enlarge() {
        let dims = |bytes: Vec<u8>| {
            let img = image::load_from_memory(&bytes).unwrap();
            (img.width(), img.height())
        };
        assert_eq!(dims(thumbnail(&png(300, 900), 256).unwrap()), (85, 256));
        assert_eq!(dims(thumbnail(&png(100, 50), 256).unwrap()), (100, 50));
        assert!(thumbnail(b"not an image", 256).is_err());
    }
}
