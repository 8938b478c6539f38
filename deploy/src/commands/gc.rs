//! `cargo cfn gc`: deletes the objects of the assets bucket that no stack of the account and region refers to.

use std::collections::BTreeSet;

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use console::style;

use crate::assembly::sha256_hex;
use crate::assets::require_bucket;
use crate::aws::Clients;
use crate::commands::Found;
use crate::error::DeployError;

/// What cfnkit writes to the assets bucket; anything else there is left alone.
const PREFIXES: [&str; 2] = ["assets/", "templates/"];
/// DeleteObjects takes at most this many keys.
const DELETE_BATCH: usize = 1000;
const DAY: i64 = 24 * 60 * 60;

/// Delete the Lambda code zips and large templates in the assets bucket that no stack of this account and
/// region refers to, once they are older than the grace period.
///
/// Every stack's deployed template and the templates of its change sets not executed yet count, whichever app
/// deployed them; objects under other prefixes than assets/ and templates/ are never touched. The grace period
/// keeps what a deploy in progress elsewhere has just uploaded. It refuses to run while a stack is being
/// deployed or its rollback failed, as a rollback needs the code of the template before. The bucket is
/// versioned: a deleted object's data stays as a noncurrent version until the bucket's lifecycle rule expires it
/// (30 days).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// List what would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keep objects uploaded less than this many days ago, referred to or not.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub grace: u32,
}

/// An object of the assets bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub key: String,
    pub bytes: i64,
    /// Seconds since the Unix epoch.
    pub last_modified: i64,
}

/// What the bucket holds, sorted out.
#[derive(Debug, Default, PartialEq)]
pub struct Sorted<'a> {
    pub unreferenced: Vec<&'a Object>,
    pub referenced: usize,
    /// Not referred to, but younger than the grace period.
    pub recent: usize,
}

/// Sorts the bucket's cfnkit objects: referred to by a template (its key appears in the template's text, or it
/// is the uploaded copy of that template), too recent to judge, or garbage.
pub fn sort<'a>(
    objects: &'a [Object],
    templates: &[String],
    now: i64,
    grace_days: u32,
) -> Sorted<'a> {
    let uploaded: BTreeSet<String> = templates
        .iter()
        .map(|body| format!("{}.template", sha256_hex(body.as_bytes())))
        .collect();
    let mut sorted = Sorted::default();
    for o in objects
        .iter()
        .filter(|o| PREFIXES.iter().any(|p| o.key.starts_with(p)))
    {
        let named = templates.iter().any(|t| t.contains(&o.key));
        let copy = o.key.starts_with("templates/")
            && o.key
                .rsplit('/')
                .next()
                .is_some_and(|f| uploaded.contains(f));
        if named || copy {
            sorted.referenced += 1;
        } else if now - o.last_modified < i64::from(grace_days) * DAY {
            sorted.recent += 1;
        } else {
            sorted.unreferenced.push(o);
        }
    }
    sorted
}

pub async fn run(clients: &Clients, args: &Args) -> Result<Found, DeployError> {
    let bucket = clients.assets_bucket().await?;
    require_bucket(clients, &bucket).await?;
    let templates = templates_in_use(clients).await?;
    let objects = objects(clients, &bucket).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let sorted = sort(&objects, &templates, now, args.grace);
    let bytes: i64 = sorted.unreferenced.iter().map(|o| o.bytes).sum();
    let verb = match (args.dry_run, sorted.unreferenced.is_empty()) {
        (_, true) => "nothing to delete:",
        (true, false) => "would delete",
        (false, false) => "deleting",
    };
    println!(
        "{verb} {} object(s), {bytes} bytes, that no stack refers to and older than {} day(s), from s3://{bucket}",
        sorted.unreferenced.len(),
        args.grace
    );
    for o in &sorted.unreferenced {
        println!("  {}  {} bytes", o.key, o.bytes);
    }
    println!(
        "kept: {} referred to by a stack, {} not referred to but younger than {} day(s)",
        sorted.referenced, sorted.recent, args.grace
    );
    if args.dry_run || sorted.unreferenced.is_empty() {
        return Ok(Found::Nothing);
    }
    for batch in sorted.unreferenced.chunks(DELETE_BATCH) {
        delete(clients, &bucket, batch).await?;
    }
    println!(
        "{} deleted {} object(s)",
        style("✓").green(),
        sorted.unreferenced.len()
    );
    Ok(Found::Nothing)
}

/// The templates every stack of the region runs, and those of their change sets not executed yet. Refuses when
/// a stack is being deployed or is stuck in a failed rollback: the template it rolls back to is not listed.
async fn templates_in_use(clients: &Clients) -> Result<Vec<String>, DeployError> {
    let mut stacks = Vec::new();
    let mut token = None;
    loop {
        let out = clients
            .cfn
            .list_stacks()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:ListStacks", "the region's stacks", e))?;
        for s in out.stack_summaries() {
            let status = s.stack_status().map(|s| s.as_str()).unwrap_or_default();
            if status == "DELETE_COMPLETE" {
                continue;
            }
            let name = s.stack_name().unwrap_or_default().to_owned();
            if (status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS")
                || status == "UPDATE_ROLLBACK_FAILED"
            {
                return Err(DeployError::GcStackUnsettled {
                    stack: name,
                    status: status.to_owned(),
                });
            }
            stacks.push((name, s.stack_id().unwrap_or_default().to_owned()));
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let mut templates = Vec::new();
    for (name, id) in &stacks {
        templates.push(crate::cfn::template(&clients.cfn, id).await?);
        let change_sets = clients
            .cfn
            .list_change_sets()
            .stack_name(id)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:ListChangeSets", name.as_str(), e))?;
        for cs in change_sets.summaries() {
            let Some(cs_id) = cs.change_set_id() else {
                continue;
            };
            let body = clients
                .cfn
                .get_template()
                .change_set_name(cs_id)
                .stack_name(id)
                .send()
                .await
                .map_err(|e| DeployError::aws("cloudformation:GetTemplate", cs_id, e))?;
            templates.push(body.template_body().unwrap_or_default().to_owned());
        }
    }
    Ok(templates)
}

async fn objects(clients: &Clients, bucket: &str) -> Result<Vec<Object>, DeployError> {
    let mut objects = Vec::new();
    let mut token = None;
    loop {
        let out = clients
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| DeployError::aws("s3:ListObjectsV2", format!("s3://{bucket}"), e))?;
        for o in out.contents() {
            objects.push(Object {
                key: o.key().unwrap_or_default().to_owned(),
                bytes: o.size().unwrap_or_default(),
                last_modified: o.last_modified().map_or(0, |t| t.secs()),
            });
        }
        token = out.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return Ok(objects);
        }
    }
}

async fn delete(clients: &Clients, bucket: &str, batch: &[&Object]) -> Result<(), DeployError> {
    let ids = batch
        .iter()
        .map(|o| ObjectIdentifier::builder().key(&o.key).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DeployError::Aws {
            operation: "s3:DeleteObjects",
            subject: format!("s3://{bucket}"),
            message: e.to_string(),
        })?;
    let request = Delete::builder()
        .set_objects(Some(ids))
        .quiet(true)
        .build()
        .map_err(|e| DeployError::Aws {
            operation: "s3:DeleteObjects",
            subject: format!("s3://{bucket}"),
            message: e.to_string(),
        })?;
    let out = clients
        .s3
        .delete_objects()
        .bucket(bucket)
        .delete(request)
        .send()
        .await
        .map_err(|e| DeployError::aws("s3:DeleteObjects", format!("s3://{bucket}"), e))?;
    if let Some(e) = out.errors().first() {
        return Err(DeployError::Aws {
            operation: "s3:DeleteObjects",
            subject: format!("s3://{bucket}/{}", e.key().unwrap_or_default()),
            message: format!(
                "{}: {} ({} of {} not deleted)",
                e.code().unwrap_or_default(),
                e.message().unwrap_or_default(),
                out.errors().len(),
                batch.len()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str, days_old: i64) -> Object {
        Object {
            key: key.into(),
            bytes: 10,
            last_modified: 100 * DAY - days_old * DAY,
        }
    }

    #[test]
    fn objects_a_template_names_or_that_are_recent_are_kept() {
        let deployed = r#"{"Resources":{"F":{"Type":"AWS::Lambda::Function","Properties":{"Code":{"S3Key":"assets/ingest/aa.zip"}}}}}"#;
        let big = format!("{{\"Description\": \"{}\"}}", "x".repeat(10));
        let copy = format!("templates/Big/{}.template", sha256_hex(big.as_bytes()));
        let objects = [
            object("assets/ingest/aa.zip", 90),
            object("assets/ingest/bb.zip", 90),
            object("assets/ingest/cc.zip", 2),
            object(&copy, 90),
            object("templates/Big/0000.template", 90),
            object("notes/readme.txt", 90),
        ];
        let sorted = sort(&objects, &[deployed.to_owned(), big], 100 * DAY, 30);
        let keys: Vec<&str> = sorted.unreferenced.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            keys,
            ["assets/ingest/bb.zip", "templates/Big/0000.template"]
        );
        assert_eq!((sorted.referenced, sorted.recent), (2, 1));
        // No grace: the recent one goes too.
        assert_eq!(sort(&objects, &[], 100 * DAY, 0).unreferenced.len(), 5);
    }
}
