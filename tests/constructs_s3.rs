//! S3 constructs: secure defaults, access logging, lifecycle rules, notifications, grants (and the key grants of a
//! KMS-encrypted bucket), checked with cfn-lint, checkov and the rule pack.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps, FunctionRef};
use cfnkit::constructs::s3::{
    Bucket, BucketEncryption, BucketProps, EventType, KeyFilter, LifecycleRule, ServerAccessLogs,
    StorageClass, Transition,
};
use cfnkit::constructs::Construct;
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::{fns, App, RemovalPolicy};
use constructs_support::*;
use serde_json::{json, Value};

const DAY: u64 = 86_400;

fn days(n: u64) -> Duration {
    Duration::from_secs(n * DAY)
}

fn role(s: &cfnkit::Stack, id: &str) -> Role {
    Role::new(
        &s.scope(),
        id,
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap()
}

fn thumbnailer() -> FunctionRef {
    Function::from_arn(
        "Thumbnailer",
        fns::sub(
            "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:thumbnailer",
        ),
    )
    .unwrap()
}

/// An archive bucket encrypted with a key (with lifecycle rules and its own log bucket), an uploads bucket with a
/// fixed name logging into the archive's log bucket and notifying a function, and a role with grants on both.
fn example() -> App {
    let app = App::new();
    let s = app.stack("S3");
    let key = Key::new(&s.scope(), "DataKey", KeyProps::default()).unwrap();
    let archive = Bucket::new(
        &s.scope(),
        "Archive",
        BucketProps {
            encryption: BucketEncryption::Kms(&key),
            event_bridge_enabled: true,
            lifecycle_rules: vec![
                LifecycleRule {
                    id: Some("exports".into()),
                    prefix: Some("exports/".into()),
                    transitions: vec![
                        Transition {
                            storage_class: StorageClass::InfrequentAccess,
                            after: days(30),
                        },
                        Transition {
                            storage_class: StorageClass::Glacier,
                            after: days(90),
                        },
                    ],
                    expiration: Some(days(365)),
                    noncurrent_version_expiration: Some(days(30)),
                    ..Default::default()
                },
                LifecycleRule {
                    abort_incomplete_multipart_upload_after: Some(days(7)),
                    ..Default::default()
                },
            ],
            ..Default::default()
        },
    )
    .unwrap();
    let uploads = Bucket::new(
        &s.scope(),
        "Uploads",
        BucketProps {
            bucket_name: Some("cfnkit-example-uploads".into()),
            server_access_logs: ServerAccessLogs::ToBucket {
                bucket: archive.access_logs_bucket().unwrap(),
                prefix: Some("uploads/".into()),
            },
            lifecycle_rules: vec![LifecycleRule {
                noncurrent_version_expiration: Some(days(7)),
                abort_incomplete_multipart_upload_after: Some(days(1)),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .unwrap();
    let f = thumbnailer();
    uploads
        .add_event_notification(
            EventType::ObjectCreated,
            &f,
            KeyFilter {
                prefix: Some("incoming/".into()),
                suffix: Some(".jpg".into()),
            },
        )
        .unwrap();
    uploads
        .add_event_notification(EventType::ObjectRemoved, &f, KeyFilter::default())
        .unwrap();

    let worker = role(&s, "Worker");
    archive.grant_read(&worker);
    archive.objects("exports/").grant_put(&worker);
    uploads.grant_read_write(&worker);
    // Object grants name `<bucket ARN>/*`: S3 has no narrower ARN for "the objects of this bucket".
    cfnkit::rules::suppress(
        worker.handle(),
        &cfnkit::rules::IAM5,
        "object actions are granted on <bucket ARN>/<prefix>*, the only ARN S3 has for the objects of a bucket",
    );
    app
}

fn resources_of(statement: &Value) -> Vec<Value> {
    match &statement["Resource"] {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

/// `Fn::Sub` over a variable named `Bucket` (not `Fn::Join`, cfn-lint I1022): the rule pack's item for it is
/// `<Bucket>/<pattern>` whatever the bucket's logical ID, which is what an object grant's suppression names.
fn objects_arn(logical_id: &str, pattern: &str) -> Value {
    json!({"Fn::Sub": [format!("${{Bucket}}/{pattern}"), {"Bucket": {"Fn::GetAtt": [logical_id, "Arn"]}}]})
}

#[test]
fn a_bucket_blocks_public_access_is_encrypted_versioned_logged_and_retained_by_default() {
    let app = App::new();
    let s = app.stack("S3");
    Bucket::new(&s.scope(), "Plain", BucketProps::default()).unwrap();
    let t = template(&app, "S3");
    let b = resource(&t, "Plain");
    let p = &b["Properties"];
    assert_eq!(
        p["PublicAccessBlockConfiguration"],
        json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true,
               "RestrictPublicBuckets": true})
    );
    assert_eq!(
        p["OwnershipControls"],
        json!({"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    );
    assert_eq!(
        p["BucketEncryption"],
        json!({"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    );
    assert_eq!(p["VersioningConfiguration"], json!({"Status": "Enabled"}));
    assert_eq!(b["DeletionPolicy"], "Retain");
    assert_eq!(b["UpdateReplacePolicy"], "Retain");
    assert_eq!(
        p["LoggingConfiguration"],
        json!({"DestinationBucketName": {"Ref": "PlainAccessLogs"}})
    );
    assert!(p.get("NotificationConfiguration").is_none());

    // TLS-only policy on the bucket and its objects.
    let policy = resource(&t, "PlainPolicy");
    assert_eq!(policy["Properties"]["Bucket"], json!({"Ref": "Plain"}));
    assert_eq!(
        statements(&policy["Properties"]["PolicyDocument"]),
        vec![json!({
            "Effect": "Deny", "Action": "s3:*", "Principal": {"AWS": "*"},
            "Resource": [{"Fn::GetAtt": ["Plain", "Arn"]}, objects_arn("Plain", "*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        })]
    );
}

#[test]
fn the_created_log_bucket_admits_log_delivery_from_its_bucket_only() {
    let app = App::new();
    let s = app.stack("S3");
    Bucket::new(&s.scope(), "Plain", BucketProps::default()).unwrap();
    let t = template(&app, "S3");
    let logs = resource(&t, "PlainAccessLogs");
    assert_eq!(logs["DeletionPolicy"], "Retain");
    let p = &logs["Properties"];
    assert!(p.get("LoggingConfiguration").is_none());
    assert_eq!(p["VersioningConfiguration"], json!({"Status": "Enabled"}));
    assert_eq!(
        p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            ["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "AES256"
    );
    assert_eq!(
        logs["Metadata"]["checkov"]["skip"][0]["id"], "CKV_AWS_18",
        "the log bucket says why it keeps no access logs of its own"
    );
    let stmts = statements(&resource(&t, "PlainAccessLogsPolicy")["Properties"]["PolicyDocument"]);
    assert_eq!(stmts.len(), 2, "{stmts:#?}");
    assert_eq!(
        stmts[1],
        json!({
            "Effect": "Allow", "Action": "s3:PutObject",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Resource": objects_arn("PlainAccessLogs", "*"),
            "Condition": {
                "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": ["Plain", "Arn"]}},
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
            }
        })
    );
}

#[test]
fn a_shared_log_bucket_gets_a_statement_per_source_under_its_prefix() {
    let t = template(&example(), "S3");
    let uploads = resource(&t, "Uploads");
    assert_eq!(
        uploads["Properties"]["LoggingConfiguration"],
        json!({"DestinationBucketName": {"Ref": "ArchiveAccessLogs"}, "LogFilePrefix": "uploads/"})
    );
    let stmts =
        statements(&resource(&t, "ArchiveAccessLogsPolicy")["Properties"]["PolicyDocument"]);
    let delivery: Vec<&Value> = stmts
        .iter()
        .filter(|s| s["Principal"] == json!({"Service": "logging.s3.amazonaws.com"}))
        .collect();
    assert_eq!(delivery.len(), 2);
    assert_eq!(
        delivery[1]["Resource"],
        objects_arn("ArchiveAccessLogs", "uploads/*")
    );
    assert_eq!(
        delivery[1]["Condition"]["ArnLike"]["aws:SourceArn"],
        json!({"Fn::GetAtt": ["Uploads", "Arn"]})
    );
    // The example's three buckets: two data buckets and one shared log bucket.
    assert_eq!(of_type(&t, "AWS::S3::Bucket").len(), 3);
}

#[test]
fn a_log_bucket_in_another_stack_names_its_sources_without_importing_them() {
    let app = App::new();
    let logs_stack = app.stack("Logs");
    let logs = Bucket::new(
        &logs_stack.scope(),
        "AccessLogs",
        BucketProps {
            server_access_logs: ServerAccessLogs::Off,
            ..Default::default()
        },
    )
    .unwrap();
    let data = app.stack("Data");
    for (id, name) in [("Named", Some("cfnkit-example-named")), ("Unnamed", None)] {
        Bucket::new(
            &data.scope(),
            id,
            BucketProps {
                bucket_name: name.map(Into::into),
                server_access_logs: ServerAccessLogs::ToBucket {
                    bucket: &logs,
                    prefix: Some(format!("{id}/")),
                },
                ..Default::default()
            },
        )
        .unwrap();
    }
    // Data imports the log bucket's name; Logs imports nothing from Data, so there is no cycle.
    let t = template(&app, "Logs");
    assert!(!t.to_string().contains("Fn::ImportValue"), "{t:#}");
    let stmts = statements(&resource(&t, "AccessLogsPolicy")["Properties"]["PolicyDocument"]);
    assert_eq!(
        stmts[1]["Condition"]["ArnLike"]["aws:SourceArn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::cfnkit-example-named"})
    );
    assert!(
        stmts[2]["Condition"].get("ArnLike").is_none(),
        "{:#}",
        stmts[2]
    );
    assert_eq!(
        stmts[2]["Condition"]["StringEquals"]["aws:SourceAccount"],
        json!({"Ref": "AWS::AccountId"})
    );
    let data_t = template(&app, "Data");
    assert_eq!(
        resource(&data_t, "Unnamed")["Properties"]["LoggingConfiguration"]["DestinationBucketName"],
        json!({"Fn::ImportValue": "Logs:AccessLogs:Ref"})
    );
    lint_or_skip(&app);
}

#[test]
fn a_kms_bucket_uses_a_bucket_key_and_its_grants_extend_to_the_key() {
    let t = template(&example(), "S3");
    let archive = resource(&t, "Archive");
    assert_eq!(
        archive["Properties"]["BucketEncryption"],
        json!({"ServerSideEncryptionConfiguration": [{
            "BucketKeyEnabled": true,
            "ServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]}}
        }]})
    );
    let stmts = role_statements(&t, "Worker");
    let key = json!({"Fn::GetAtt": ["DataKey", "Arn"]});
    let on_key: Vec<&Value> = stmts.iter().filter(|s| s["Resource"] == key).collect();
    let key_actions: Vec<&Value> = on_key
        .iter()
        .flat_map(|s| match &s["Action"] {
            Value::Array(a) => a.iter().collect::<Vec<_>>(),
            a => vec![a],
        })
        .collect();
    assert!(key_actions.contains(&&json!("kms:Decrypt")), "{on_key:#?}");
    assert!(
        key_actions.contains(&&json!("kms:GenerateDataKey")),
        "the put grant on the KMS bucket lets the role write with the key: {on_key:#?}"
    );
    // The S3-managed uploads bucket adds no key statement; the only key is the archive's.
    assert!(stmts
        .iter()
        .filter(|s| s["Resource"] != key)
        .all(|s| !s["Action"].to_string().contains("kms:")));
}

#[test]
fn grants_scope_bucket_actions_to_the_bucket_and_object_actions_to_the_objects() {
    let t = template(&example(), "S3");
    let stmts = role_statements(&t, "Worker");
    let find = |action: &str| -> Vec<Value> {
        stmts
            .iter()
            .filter(|s| allows(std::slice::from_ref(s), action))
            .flat_map(resources_of)
            .collect()
    };
    // The named uploads bucket is granted by its name's ARN, the unnamed archive by reference.
    let uploads = |suffix: &str| json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::cfnkit-example-uploads{suffix}")});
    assert_eq!(
        find("s3:ListBucket"),
        vec![json!({"Fn::GetAtt": ["Archive", "Arn"]}), uploads("")]
    );
    assert_eq!(
        find("s3:GetObject"),
        vec![objects_arn("Archive", "*"), uploads("/*")]
    );
    // The prefix grant: puts to exports/ of the archive only; read-write on uploads adds its objects.
    assert_eq!(
        find("s3:PutObject"),
        vec![objects_arn("Archive", "exports/*"), uploads("/*")]
    );
    assert_eq!(find("s3:DeleteObject"), vec![uploads("/*")]);
    // No wildcard actions anywhere in the grants.
    for s in &stmts {
        assert!(!s["Action"].to_string().contains('*'), "{s}");
    }
}

#[test]
fn lifecycle_rules_render_typed_transitions_and_expirations() {
    let t = template(&example(), "S3");
    assert_eq!(
        resource(&t, "Archive")["Properties"]["LifecycleConfiguration"],
        json!({"Rules": [
            {
                "Id": "exports", "Prefix": "exports/", "Status": "Enabled",
                "Transitions": [
                    {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
                    {"StorageClass": "GLACIER", "TransitionInDays": 90}
                ],
                "ExpirationInDays": 365,
                "NoncurrentVersionExpiration": {"NoncurrentDays": 30}
            },
            {"Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}
        ]})
    );
}

#[test]
fn lambda_notifications_add_one_permission_per_function_that_the_bucket_depends_on() {
    let t = template(&example(), "S3");
    let uploads = resource(&t, "Uploads");
    assert_eq!(
        uploads["DependsOn"],
        json!(["UploadsThumbnailerPermission"])
    );
    let arn = json!({"Fn::Sub":
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:thumbnailer"});
    assert_eq!(
        uploads["Properties"]["NotificationConfiguration"],
        json!({"LambdaConfigurations": [
            {"Event": "s3:ObjectCreated:*", "Function": arn,
             "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "incoming/"},
                                            {"Name": "suffix", "Value": ".jpg"}]}}},
            {"Event": "s3:ObjectRemoved:*", "Function": arn}
        ]})
    );
    let permission = resource(&t, "UploadsThumbnailerPermission");
    assert_eq!(of_type(&t, "AWS::Lambda::Permission").len(), 1);
    let p = &permission["Properties"];
    assert_eq!(p["Principal"], "s3.amazonaws.com");
    assert_eq!(p["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
    // A named bucket's ARN is known without referencing the bucket, so the permission names it.
    assert_eq!(
        p["SourceArn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::cfnkit-example-uploads"})
    );
    // EventBridge notifications are a flag of the same configuration.
    assert_eq!(
        resource(&t, "Archive")["Properties"]["NotificationConfiguration"],
        json!({"EventBridgeConfiguration": {"EventBridgeEnabled": true}})
    );
}

#[test]
fn a_named_bucket_can_notify_a_function_it_grants_access_to_without_a_cycle() {
    let app = App::new();
    let s = app.stack("S3");
    let b = Bucket::new(
        &s.scope(),
        "Inbox",
        BucketProps {
            bucket_name: Some("cfnkit-example-inbox".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let f = Function::new(
        &s.scope(),
        "Reader",
        Code::asset("reader"),
        FunctionProps::default(),
    )
    .unwrap();
    b.grant_read(&f);
    b.add_event_notification(EventType::ObjectCreated, &f, KeyFilter::default())
        .unwrap();
    let t = template(&app, "S3");
    let stmts = role_statements(&t, "ReaderServiceRole");
    let get = stmts
        .iter()
        .find(|s| allows(std::slice::from_ref(s), "s3:GetObject"))
        .unwrap();
    assert_eq!(
        get["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::cfnkit-example-inbox/*"}),
        "the grant names the bucket by its name, not by a reference to the bucket resource"
    );
    assert_eq!(
        resource(&t, "Inbox")["DependsOn"],
        json!(["InboxReaderPermission"])
    );
    // cfn-lint's E3004 reports dependency cycles.
    lint_or_skip(&app);
}

#[test]
fn an_unnamed_bucket_scopes_its_notification_permission_to_the_account() {
    let app = App::new();
    let s = app.stack("S3");
    let b = Bucket::new(&s.scope(), "Inbox", BucketProps::default()).unwrap();
    b.add_event_notification(
        EventType::ObjectCreatedPut,
        &thumbnailer(),
        KeyFilter::default(),
    )
    .unwrap();
    let t = template(&app, "S3");
    let p = &resource(&t, "InboxThumbnailerPermission")["Properties"];
    assert!(p.get("SourceArn").is_none(), "{p}");
    assert_eq!(p["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
}

#[test]
fn removal_policy_and_escape_hatches_reach_the_l1() {
    let app = App::new();
    let s = app.stack("S3");
    let b = Bucket::new(
        &s.scope(),
        "Scratch",
        BucketProps {
            removal_policy: RemovalPolicy::Delete,
            server_access_logs: ServerAccessLogs::Off,
            versioned: false,
            enforce_ssl: false,
            ..Default::default()
        },
    )
    .unwrap();
    b.resource_mut().bucket_name_prefix = Some("scratch".into());
    let t = template(&app, "S3");
    let r = resource(&t, "Scratch");
    assert_eq!(r["DeletionPolicy"], "Delete");
    assert_eq!(r["Properties"]["BucketNamePrefix"], "scratch");
    assert!(r["Properties"].get("VersioningConfiguration").is_none());
    assert!(of_type(&t, "AWS::S3::BucketPolicy").is_empty());
    assert_eq!(of_type(&t, "AWS::S3::Bucket"), vec!["Scratch".to_owned()]);
}

fn bucket_error(props: BucketProps<'_>) -> String {
    let app = App::new();
    let s = app.stack("S3");
    Bucket::new(&s.scope(), "B", props).unwrap_err().to_string()
}

fn rule(r: LifecycleRule) -> BucketProps<'static> {
    BucketProps {
        lifecycle_rules: vec![r],
        ..Default::default()
    }
}

#[test]
fn bad_values_are_errors_naming_the_value_and_the_fix() {
    assert_eq!(
        bucket_error(BucketProps {
            bucket_name: Some("Orders_Archive".into()),
            ..Default::default()
        }),
        "S3/B: bucket_name \"Orders_Archive\" is not a valid S3 bucket name: use only lowercase letters, \
         digits, `.` and `-`"
    );
    assert_eq!(
        bucket_error(rule(LifecycleRule::default())),
        "S3/B: lifecycle_rules[0] does nothing: give it a transition, an expiration, a noncurrent version \
         expiration or abort_incomplete_multipart_upload_after"
    );
    assert_eq!(
        bucket_error(rule(LifecycleRule {
            transitions: vec![Transition {
                storage_class: StorageClass::InfrequentAccess,
                after: days(10),
            }],
            ..Default::default()
        })),
        "S3/B: lifecycle_rules[0].transitions must be a whole number of days from 30 to 36500, got 10 days"
    );
    assert_eq!(
        bucket_error(rule(LifecycleRule {
            transitions: vec![Transition {
                storage_class: StorageClass::Glacier,
                after: days(90),
            }],
            expiration: Some(days(60)),
            ..Default::default()
        })),
        "S3/B: lifecycle_rules[0] expires objects after 60 days, not after their last transition (90 days): \
         expire later or drop the transition"
    );
    assert_eq!(
        bucket_error(BucketProps {
            versioned: false,
            ..rule(LifecycleRule {
                noncurrent_version_expiration: Some(days(30)),
                ..Default::default()
            })
        }),
        "S3/B: lifecycle_rules[0] acts on noncurrent versions, which an unversioned bucket does not have: set \
         versioned: true or drop the noncurrent version actions"
    );
    assert_eq!(
        bucket_error(rule(LifecycleRule {
            expiration: Some(Duration::from_secs(36 * 3_600)),
            ..Default::default()
        })),
        "S3/B: lifecycle_rules[0].expiration must be a whole number of days from 1 to 36500, got 36 hours"
    );
}

#[test]
fn logs_cannot_go_to_a_kms_encrypted_bucket() {
    let app = App::new();
    let s = app.stack("S3");
    let key = Key::new(&s.scope(), "K", KeyProps::default()).unwrap();
    let logs = Bucket::new(
        &s.scope(),
        "Logs",
        BucketProps {
            encryption: BucketEncryption::Kms(&key),
            server_access_logs: ServerAccessLogs::Off,
            ..Default::default()
        },
    )
    .unwrap();
    let e = Bucket::new(
        &s.scope(),
        "Data",
        BucketProps {
            server_access_logs: ServerAccessLogs::ToBucket {
                bucket: &logs,
                prefix: None,
            },
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "S3/Data: server access logs cannot be delivered to S3/Logs, which is encrypted with a KMS key: S3 log \
         delivery writes only to buckets with S3-managed encryption (BucketEncryption::S3Managed)"
    );
}

#[test]
fn notification_filters_must_not_be_empty() {
    let app = App::new();
    let s = app.stack("S3");
    let b = Bucket::new(&s.scope(), "B", BucketProps::default()).unwrap();
    let e = b
        .add_event_notification(
            EventType::ObjectCreated,
            &thumbnailer(),
            KeyFilter {
                prefix: Some(String::new()),
                suffix: None,
            },
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "S3/B: a notification key prefix must be 1 to 1024 characters, got \"\""
    );
}

#[test]
fn the_rule_pack_passes_the_example_with_only_the_reasoned_iam5_suppression() {
    let app = example();
    assert_rules_clean(&app);
    let report = cfnkit::rules::check(&cfnkit::synth::synth(&app).unwrap());
    for rule in [&cfnkit::rules::S1, &cfnkit::rules::S2, &cfnkit::rules::S10] {
        assert_eq!(report.of_rule(rule).count(), 0, "{rule}: {report}");
    }
    let suppressed: Vec<_> = report
        .suppressed()
        .map(|f| (f.rule.id(), f.logical_id.as_str()))
        .collect();
    assert_eq!(suppressed, vec![("IAM5", "Worker")]);
}

#[test]
fn s3_example() {
    let app = example();
    insta::assert_snapshot!(cfnkit::synth::synth(&app)
        .unwrap()
        .stack("S3")
        .unwrap()
        .template
        .to_yaml());
    lint_or_skip(&app);
    checkov_or_skip(&app);
}
