//! restXml: S3's operation is its method, whether the path names an object, and the subresource in the query
//! (`?tagging`, `?uploads`...). Objects are `arn:aws:s3:::<bucket>/<key>`, buckets `arn:aws:s3:::<bucket>`.

use std::collections::BTreeMap;

use super::{Check, Classified, ClassifyError};
use crate::iam::request::ApiRequest;

pub(super) fn classify(request: &ApiRequest) -> Result<Classified, ClassifyError> {
    let (bucket, key) = bucket_and_key(request);
    let query: BTreeMap<String, String> = request.query_pairs().into_iter().collect();
    let has = |k: &str| query.contains_key(k);
    let method = request.method.as_str();
    let unknown = |what: &str| {
        let subresources: Vec<&str> = query
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "x-id")
            .collect();
        ClassifyError::new(
            "s3",
            format!("{method} {} ?{}", request.path, subresources.join("&")),
            format!("{what} cfnkit-local does not classify"),
        )
    };
    let Some(bucket) = bucket else {
        return match method {
            "GET" => {
                Ok(Classified::new("ListBuckets").with(Check::new("s3:ListAllMyBuckets", "*")))
            }
            _ => Err(unknown("a request naming no bucket")),
        };
    };
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let Some(key) = key else {
        return bucket_operation(request, &bucket_arn, &query)
            .ok_or_else(|| unknown("a bucket operation"));
    };
    let object = format!("{bucket_arn}/{key}");
    let versioned = has("versionId");
    let (operation, action) = match method {
        "GET" if has("uploadId") => ("ListParts", "ListMultipartUploadParts"),
        "GET" if has("tagging") && versioned => ("GetObjectTagging", "GetObjectVersionTagging"),
        "GET" if has("tagging") => ("GetObjectTagging", "GetObjectTagging"),
        "GET" if has("acl") => (
            "GetObjectAcl",
            if versioned {
                "GetObjectVersionAcl"
            } else {
                "GetObjectAcl"
            },
        ),
        "GET" if has("retention") => ("GetObjectRetention", "GetObjectRetention"),
        "GET" if has("legal-hold") => ("GetObjectLegalHold", "GetObjectLegalHold"),
        "GET" if has("attributes") => (
            "GetObjectAttributes",
            if versioned {
                "GetObjectVersionAttributes"
            } else {
                "GetObjectAttributes"
            },
        ),
        "GET" | "HEAD" if has("tagging") || has("acl") => {
            return Err(unknown("an object subresource"))
        }
        "GET" | "HEAD" => {
            let operation = if method == "GET" {
                "GetObject"
            } else {
                "HeadObject"
            };
            (
                operation,
                if versioned {
                    "GetObjectVersion"
                } else {
                    "GetObject"
                },
            )
        }
        "PUT" if has("tagging") => (
            "PutObjectTagging",
            if versioned {
                "PutObjectVersionTagging"
            } else {
                "PutObjectTagging"
            },
        ),
        "PUT" if has("acl") => (
            "PutObjectAcl",
            if versioned {
                "PutObjectVersionAcl"
            } else {
                "PutObjectAcl"
            },
        ),
        "PUT" if has("retention") => ("PutObjectRetention", "PutObjectRetention"),
        "PUT" if has("legal-hold") => ("PutObjectLegalHold", "PutObjectLegalHold"),
        "PUT" if has("uploadId") => ("UploadPart", "PutObject"),
        "PUT" => ("PutObject", "PutObject"),
        "POST" if has("uploads") => ("CreateMultipartUpload", "PutObject"),
        "POST" if has("uploadId") => ("CompleteMultipartUpload", "PutObject"),
        "POST" if has("restore") => ("RestoreObject", "RestoreObject"),
        "POST" if has("select") => ("SelectObjectContent", "GetObject"),
        "DELETE" if has("uploadId") => ("AbortMultipartUpload", "AbortMultipartUpload"),
        "DELETE" if has("tagging") => (
            "DeleteObjectTagging",
            if versioned {
                "DeleteObjectVersionTagging"
            } else {
                "DeleteObjectTagging"
            },
        ),
        "DELETE" => (
            "DeleteObject",
            if versioned {
                "DeleteObjectVersion"
            } else {
                "DeleteObject"
            },
        ),
        _ => return Err(unknown("an object operation")),
    };
    let mut c = Classified::new(operation).with(Check::new(format!("s3:{action}"), object.clone()));
    if method == "PUT" && action == "PutObject" {
        // A copy also reads its source; ACL and tagging headers need their own permissions.
        if let Some(source) = request.header("x-amz-copy-source") {
            let c_name = if operation == "UploadPart" {
                "UploadPartCopy"
            } else {
                "CopyObject"
            };
            c.operation = c_name.to_owned();
            let decoded = percent_encoding::percent_decode_str(source).decode_utf8_lossy();
            let (path, version) = match decoded.split_once("?versionId=") {
                Some((p, _)) => (p.to_owned(), true),
                None => (decoded.into_owned(), false),
            };
            let read = if version {
                "s3:GetObjectVersion"
            } else {
                "s3:GetObject"
            };
            c.push(Check::new(
                read,
                format!("arn:aws:s3:::{}", path.trim_start_matches('/')),
            ));
        }
        let has_header = |prefix: &str| {
            request
                .headers
                .keys()
                .any(|h| h.as_str().starts_with(prefix))
        };
        if has_header("x-amz-acl") || has_header("x-amz-grant-") {
            c.push(Check::new("s3:PutObjectAcl", object.clone()));
        }
        if has_header("x-amz-tagging") {
            c.push(Check::new("s3:PutObjectTagging", object));
        }
    }
    Ok(c)
}

/// (subresource, operation, IAM action).
type Subresources = &'static [(&'static str, &'static str, &'static str)];

fn bucket_operation(
    request: &ApiRequest,
    bucket_arn: &str,
    query: &BTreeMap<String, String>,
) -> Option<Classified> {
    let method = request.method.as_str();
    if method == "POST" && query.contains_key("delete") {
        // Each key is authorized as its own DeleteObject.
        let mut c = Classified::new("DeleteObjects");
        for (key, versioned) in delete_objects_keys(&request.body) {
            let action = if versioned {
                "s3:DeleteObjectVersion"
            } else {
                "s3:DeleteObject"
            };
            c.push(Check::new(action, format!("{bucket_arn}/{key}")));
        }
        return Some(c);
    }
    // (subresource, operation, IAM action) by method; the first present subresource wins.
    const GET: &[(&str, &str, &str)] = &[
        ("versions", "ListObjectVersions", "ListBucketVersions"),
        (
            "uploads",
            "ListMultipartUploads",
            "ListBucketMultipartUploads",
        ),
        ("location", "GetBucketLocation", "GetBucketLocation"),
        ("policy", "GetBucketPolicy", "GetBucketPolicy"),
        ("tagging", "GetBucketTagging", "GetBucketTagging"),
        ("versioning", "GetBucketVersioning", "GetBucketVersioning"),
        (
            "notification",
            "GetBucketNotificationConfiguration",
            "GetBucketNotification",
        ),
        (
            "encryption",
            "GetBucketEncryption",
            "GetEncryptionConfiguration",
        ),
        ("cors", "GetBucketCors", "GetBucketCORS"),
        (
            "lifecycle",
            "GetBucketLifecycleConfiguration",
            "GetLifecycleConfiguration",
        ),
        ("acl", "GetBucketAcl", "GetBucketAcl"),
        (
            "object-lock",
            "GetObjectLockConfiguration",
            "GetBucketObjectLockConfiguration",
        ),
        (
            "publicAccessBlock",
            "GetPublicAccessBlock",
            "GetBucketPublicAccessBlock",
        ),
        (
            "ownershipControls",
            "GetBucketOwnershipControls",
            "GetBucketOwnershipControls",
        ),
        ("logging", "GetBucketLogging", "GetBucketLogging"),
        ("website", "GetBucketWebsite", "GetBucketWebsite"),
        (
            "replication",
            "GetBucketReplication",
            "GetReplicationConfiguration",
        ),
        (
            "accelerate",
            "GetBucketAccelerateConfiguration",
            "GetAccelerateConfiguration",
        ),
        (
            "requestPayment",
            "GetBucketRequestPayment",
            "GetBucketRequestPayment",
        ),
    ];
    const PUT: &[(&str, &str, &str)] = &[
        ("policy", "PutBucketPolicy", "PutBucketPolicy"),
        ("tagging", "PutBucketTagging", "PutBucketTagging"),
        ("versioning", "PutBucketVersioning", "PutBucketVersioning"),
        (
            "notification",
            "PutBucketNotificationConfiguration",
            "PutBucketNotification",
        ),
        (
            "encryption",
            "PutBucketEncryption",
            "PutEncryptionConfiguration",
        ),
        ("cors", "PutBucketCors", "PutBucketCORS"),
        (
            "lifecycle",
            "PutBucketLifecycleConfiguration",
            "PutLifecycleConfiguration",
        ),
        ("acl", "PutBucketAcl", "PutBucketAcl"),
        (
            "publicAccessBlock",
            "PutPublicAccessBlock",
            "PutBucketPublicAccessBlock",
        ),
    ];
    // The deletes of a configuration are authorized as writing it.
    const DELETE: &[(&str, &str, &str)] = &[
        ("policy", "DeleteBucketPolicy", "DeleteBucketPolicy"),
        ("tagging", "DeleteBucketTagging", "PutBucketTagging"),
        ("cors", "DeleteBucketCors", "PutBucketCORS"),
        (
            "lifecycle",
            "DeleteBucketLifecycle",
            "PutLifecycleConfiguration",
        ),
        (
            "encryption",
            "DeleteBucketEncryption",
            "PutEncryptionConfiguration",
        ),
    ];
    let (table, plain): (Subresources, Option<(&str, &str)>) = match method {
        "GET" => (GET, Some(("ListObjects", "ListBucket"))),
        "HEAD" => (&[], Some(("HeadBucket", "ListBucket"))),
        "PUT" => (PUT, Some(("CreateBucket", "CreateBucket"))),
        "DELETE" => (DELETE, Some(("DeleteBucket", "DeleteBucket"))),
        _ => (&[], None),
    };
    let known = [
        "x-id",
        "list-type",
        "prefix",
        "delimiter",
        "max-keys",
        "marker",
        "continuation-token",
        "start-after",
        "encoding-type",
        "fetch-owner",
    ];
    let (operation, action) = match table.iter().find(|(sub, _, _)| query.contains_key(*sub)) {
        Some((_, operation, action)) => (*operation, *action),
        None if query.keys().all(|k| known.contains(&k.as_str())) => {
            let (operation, action) = plain?;
            if operation == "ListObjects" && query.get("list-type").map(String::as_str) == Some("2")
            {
                ("ListObjectsV2", action)
            } else {
                (operation, action)
            }
        }
        None => return None,
    };
    let mut check = Check::new(format!("s3:{action}"), bucket_arn);
    if action == "ListBucket" && method == "GET" {
        // ListBucket's own condition keys, for grants limited to a prefix.
        for (param, key) in [
            ("prefix", "s3:prefix"),
            ("delimiter", "s3:delimiter"),
            ("max-keys", "s3:max-keys"),
        ] {
            if let Some(v) = query.get(param) {
                check = check.with_key(key, v.clone());
            }
        }
    }
    Some(Classified::new(operation).with(check))
}

/// The bucket and the (percent-decoded) key: path style `/<bucket>/<key>` or virtual-hosted
/// `<bucket>.s3.<region>.amazonaws.com` / `<bucket>.localhost`.
fn bucket_and_key(request: &ApiRequest) -> (Option<String>, Option<String>) {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let path = request.path.strip_prefix('/').unwrap_or(&request.path);
    let host = request.header("host").unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    if let Some(bucket) = virtual_host_bucket(host) {
        let key = (!path.is_empty()).then(|| decode(path));
        return (Some(bucket.to_owned()), key);
    }
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) => (b, (!k.is_empty()).then(|| decode(k))),
        None => (path, None),
    };
    ((!bucket.is_empty()).then(|| decode(bucket)), key)
}

fn virtual_host_bucket(host: &str) -> Option<&str> {
    if host.parse::<std::net::IpAddr>().is_ok() || host == "localhost" {
        return None;
    }
    if host.starts_with("s3.") || host.starts_with("s3-") {
        return None;
    }
    if let Some(i) = host.find(".s3.").or_else(|| host.find(".s3-")) {
        return Some(&host[..i]);
    }
    host.strip_suffix(".localhost")
}

/// The keys of a DeleteObjects body (`<Delete><Object><Key>k</Key><VersionId>v</VersionId></Object>...`),
/// each with whether it names a version.
fn delete_objects_keys(body: &[u8]) -> Vec<(String, bool)> {
    let text = String::from_utf8_lossy(body);
    let mut keys: Vec<(String, bool)> = Vec::new();
    let mut element = String::new();
    for token in xmlparser::Tokenizer::from(text.as_ref()).flatten() {
        match token {
            xmlparser::Token::ElementStart { local, .. } => {
                element = local.as_str().to_owned();
                if element == "Object" {
                    keys.push((String::new(), false));
                }
            }
            xmlparser::Token::Text { text } => match (element.as_str(), keys.last_mut()) {
                ("Key", Some(last)) => last.0.push_str(&unescape(text.as_str())),
                ("VersionId", Some(last)) => last.1 = true,
                _ => {}
            },
            // `Open` is the `>` of a start tag: the element's text follows it.
            xmlparser::Token::ElementEnd { end, .. }
                if !matches!(end, xmlparser::ElementEnd::Open) =>
            {
                element.clear()
            }
            _ => {}
        }
    }
    keys
}

/// XML's five entities and numeric character references.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
