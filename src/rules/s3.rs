//! S3: S1 (server access logs), S2 (public access blocked), S10 (TLS-only bucket policy).

use std::collections::BTreeSet;

use cfnkit_l1::s3;

use super::context::{Ctx, Res};
use super::read::{is_tls_deny, is_true, items, statements, text, TLS_STATEMENT};
use super::registry::{S1, S10, S2};
use crate::synth::Node;

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let buckets: Vec<Res<'_>> = ctx.of::<s3::Bucket>().collect();
    // A bucket that receives another bucket's access logs cannot log to itself; cdk-nag users suppress S1 there.
    let log_targets: BTreeSet<(&str, &str)> = buckets
        .iter()
        .filter_map(|b| {
            b.prop_at(&["LoggingConfiguration", "DestinationBucketName"])
                .map(|d| (b, d))
        })
        .filter_map(|(b, d)| ctx.referent(b.stack, d))
        .map(|t| t.res.key())
        .collect();
    for b in &buckets {
        if b.prop("LoggingConfiguration").is_none() && !log_targets.contains(&b.key()) {
            ctx.report(&S1,
                b,
                "the bucket has no server access logs.",
                "cfnkit's Bucket logs to a bucket it makes (BucketProps.server_access_logs: \
                 ServerAccessLogs::CreateBucket unless set, or ToBucket to share one); on a raw bucket set \
                 LoggingConfiguration: {DestinationBucketName: <a log bucket>, LogFilePrefix: <prefix>}.",
            );
        }
        let block = [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ];
        let open: Vec<&str> = block
            .into_iter()
            .filter(|k| !is_true(b.prop_at(&["PublicAccessBlockConfiguration", k])))
            .collect();
        if !open.is_empty() {
            ctx.report(&S2,
                b,
                format!("the bucket does not block public access ({} not true).", open.join(", ")),
                "cfnkit's Bucket blocks all public access; on a raw bucket set PublicAccessBlockConfiguration \
                 with BlockPublicAcls, BlockPublicPolicy, IgnorePublicAcls and RestrictPublicBuckets all true.",
            );
        }
        if !has_tls_policy(ctx, b) {
            ctx.report(
                &S10,
                b,
                "no bucket policy denies requests that do not use TLS.",
                format!(
                    "cfnkit's Bucket has it unless BucketProps.enforce_ssl is turned off; on a raw bucket add an \
                     AWS::S3::BucketPolicy with Bucket: Ref {id} and the statement {}.",
                    TLS_STATEMENT.replace("<service>", "s3").replace(
                        "<the resource>",
                        &format!("[<{id}.Arn>, <{id}.Arn>/*]", id = b.id)
                    ),
                    id = b.id
                ),
            );
        }
    }
}

/// [`text`], with an `Fn::Sub`'s variables put in: the S3 construct writes its objects' ARN as `${Bucket}/*` over
/// `{Bucket: <the bucket's ARN>}`, and whose bucket it is matters here.
fn text_with_variables(n: &Node) -> String {
    match n {
        Node::Fn("Fn::Sub", arg) => match &**arg {
            Node::List(parts) => {
                let mut t = parts.first().map(text).unwrap_or_default();
                if let Some(Node::Map(vars)) = parts.get(1) {
                    for (name, value) in vars {
                        t = t.replace(&format!("${{{name}}}"), &text(value));
                    }
                }
                t
            }
            _ => text(n),
        },
        _ => text(n),
    }
}

/// A policy on this bucket with the TLS deny covering the bucket and its objects.
fn has_tls_policy(ctx: &Ctx<'_>, bucket: &Res<'_>) -> bool {
    let names = [
        format!("${{{}}}", bucket.id),
        format!("${{{}.Arn}}", bucket.id),
    ];
    let refers = |t: &str| names.iter().any(|n| t.contains(n.as_str()));
    ctx.of::<s3::BucketPolicy>().any(|p| {
        let on_bucket = p
            .prop("Bucket")
            .and_then(|b| ctx.referent(p.stack, b))
            .is_some_and(|t| t.res.key() == bucket.key());
        on_bucket
            && statements(p.prop("PolicyDocument")).into_iter().any(|s| {
                let resources: Vec<String> = s
                    .get("Resource")
                    .map(items)
                    .unwrap_or_default()
                    .into_iter()
                    .map(text_with_variables)
                    .collect();
                let whole = resources.iter().any(|r| refers(r) && !r.contains('/'));
                let objects = resources.iter().any(|r| refers(r) && r.ends_with("/*"));
                is_tls_deny(s, &["*", "s3:*"]) && whole && objects
            })
    })
}
