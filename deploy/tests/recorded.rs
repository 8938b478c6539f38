//! The deploy tool against recorded CloudFormation responses, for what moto (5.2.1) cannot answer: stack
//! refactoring (CreateStackRefactor, DescribeStackRefactor, ListStackRefactorActions, ExecuteStackRefactor), drift
//! (DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts), early-validation findings
//! (DescribeEvents), ContinueUpdateRollback, change sets with `Replacement` details, stacks caught in progress,
//! refused executions and throttling; and `deploy --hotswap` choosing a change set, where no Lambda call may be
//! made (the clients have no Lambda endpoint to answer; tests/emulator.rs hotswaps against moto's Lambda); and
//! `--express` (DeploymentConfig mode EXPRESS), which moto ignores. moto completes every operation at once, its change sets carry no
//! replacement details, and it has none of these APIs; tests/emulator.rs covers what it has.
//!
//! The responses are CloudFormation's wire format (awsQuery XML, errors as HTTP 400 `ErrorResponse`s) in the
//! shapes of AWS's API reference, served by [`Replay`], an HTTP connector of this file: the SDK serializes each
//! request, parses each answer and classifies errors for retries as it does against AWS. Each action has a queue
//! of answers, the last one repeating. Time is paused, so polling loops advance at once.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use cfnkit::{App, RawResource, RemovalPolicy};
use cfnkit_deploy::aws::Clients;
use cfnkit_deploy::commands::deploy::{deploy, deploy_stack, DeployOptions, Outcome, StackSpec};
use cfnkit_deploy::commands::Found;
use clap::Parser;
use serde_json::{json, Value};

/// One answer: the inside of `<ActionResult>`, or an error.
#[derive(Clone, Debug)]
enum Answer {
    Result(String),
    Error { code: String, message: String },
}

fn ok(result: impl Into<String>) -> Answer {
    Answer::Result(result.into())
}

/// An error as CloudFormation sends it: HTTP 400 with awsQuery's `ErrorResponse`.
fn error(code: &str, message: &str) -> Answer {
    Answer::Error {
        code: code.into(),
        message: message.into(),
    }
}

/// A request as the connector received it: its form parameters (`Action`, `StackName`,
/// `ResourceMappings.member.1.Source.StackName`...).
type Call = BTreeMap<String, String>;

#[derive(Debug, Default)]
struct Recorded {
    answers: BTreeMap<String, VecDeque<Answer>>,
    calls: Vec<Call>,
    /// The stack policy, kept between SetStackPolicy and GetStackPolicy as CloudFormation keeps it.
    policy: Option<String>,
}

/// An HTTP connector answering each CloudFormation action from its queue of recorded answers.
#[derive(Clone, Debug, Default)]
struct Replay(Arc<Mutex<Recorded>>);

impl Replay {
    /// Queues answers for `action`; the last one answers every later call.
    fn answer(&self, action: &str, answers: impl IntoIterator<Item = Answer>) -> &Self {
        self.0
            .lock()
            .unwrap()
            .answers
            .entry(action.into())
            .or_default()
            .extend(answers);
        self
    }

    fn calls(&self, action: &str) -> Vec<Call> {
        self.0
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c["Action"] == action)
            .cloned()
            .collect()
    }

    fn count(&self, action: &str) -> usize {
        self.calls(action).len()
    }

    /// Every stack policy set, in order, parsed.
    fn policies_set(&self) -> Vec<Value> {
        self.calls("SetStackPolicy")
            .iter()
            .map(|c| serde_json::from_str(&c["StackPolicyBody"]).unwrap())
            .collect()
    }

    fn respond(&self, body: &[u8]) -> (u16, String) {
        let call: Call = form_urlencoded::parse(body).into_owned().collect();
        let action = call["Action"].clone();
        let mut recorded = self.0.lock().unwrap();
        recorded.calls.push(call.clone());
        let answer = match action.as_str() {
            "SetStackPolicy" => {
                recorded.policy = call.get("StackPolicyBody").cloned();
                ok("")
            }
            "GetStackPolicy" => ok(recorded
                .policy
                .as_deref()
                .map(|p| format!("<StackPolicyBody>{}</StackPolicyBody>", esc(p)))
                .unwrap_or_default()),
            _ => {
                let queue = recorded
                    .answers
                    .get_mut(&action)
                    .unwrap_or_else(|| panic!("no recorded answer for {action}: {call:?}"));
                if queue.len() > 1 {
                    queue.pop_front().unwrap()
                } else {
                    queue.front().cloned().unwrap()
                }
            }
        };
        match answer {
            Answer::Result(inner) => (
                200,
                format!(
                    "<{action}Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><{action}Result>\
                     {inner}</{action}Result><ResponseMetadata><RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId>\
                     </ResponseMetadata></{action}Response>"
                ),
            ),
            Answer::Error { code, message } => (
                400,
                format!(
                    "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender\
                     </Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>b9b4b068-3a41-11e5-94eb-example\
                     </RequestId></ErrorResponse>",
                    esc(&message)
                ),
            ),
        }
    }

    /// The tool's clients, CloudFormation answered by this replay with the tool's own retry settings.
    fn clients(&self) -> Clients {
        let cfn = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::Config::builder()
                .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
                    "AKIDEXAMPLE",
                    "secret",
                    None,
                    None,
                    "recorded",
                ))
                .retry_config(cfnkit_deploy::aws::retry_config())
                .http_client(self.clone())
                .build(),
        );
        let config = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("us-east-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        Clients::with_cloudformation(&config, cfn).unwrap()
    }
}

impl HttpConnector for Replay {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (status, body) = self.respond(request.body().bytes().unwrap_or_default());
        HttpConnectorFuture::ready(Ok(Response::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(body),
        )))
    }
}

impl HttpClient for Replay {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn time(secs: i64) -> String {
    DateTime::from_secs(1_760_000_000 + secs)
        .fmt(Format::DateTime)
        .unwrap()
}

fn stack_id(name: &str) -> String {
    format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/0f6c2f90-0000-11f0-a000-0affe1d2c3b4")
}

const CHANGE_SET: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/cfnkit-1/8a8f1c3e-0000-11f0-b000-0affe1d2c3b4";

/// DescribeStacks of one stack in `status`.
fn described(name: &str, status: &str) -> Answer {
    ok(format!(
        "<Stacks><member><StackId>{}</StackId><StackName>{name}</StackName><CreationTime>{}</CreationTime>\
         <StackStatus>{status}</StackStatus><DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus>\
         </DriftInformation><EnableTerminationProtection>false</EnableTerminationProtection></member></Stacks>",
        stack_id(name),
        time(0)
    ))
}

/// One stack event; `n` orders them and its tens name the operation (`op-1` for 10..19).
fn event(
    stack: &str,
    n: i64,
    logical: &str,
    ty: &str,
    status: &str,
    reason: Option<&str>,
) -> String {
    format!(
        "<member><StackId>{}</StackId><EventId>{logical}-{n}</EventId><StackName>{stack}</StackName>\
         <OperationId>op-{}</OperationId><LogicalResourceId>{logical}</LogicalResourceId><ResourceType>{ty}\
         </ResourceType><Timestamp>{}</Timestamp><ResourceStatus>{status}</ResourceStatus>{}</member>",
        stack_id(stack),
        n / 10,
        time(n),
        reason
            .map(|r| format!("<ResourceStatusReason>{}</ResourceStatusReason>", esc(r)))
            .unwrap_or_default()
    )
}

/// DescribeStackEvents: newest first, as CloudFormation lists them.
fn events(oldest_first: &[String]) -> Answer {
    let newest_first: String = oldest_first.iter().rev().cloned().collect();
    ok(format!("<StackEvents>{newest_first}</StackEvents>"))
}

const STACK: &str = "AWS::CloudFormation::Stack";

fn created_change_set(stack: &str) -> Answer {
    ok(format!(
        "<Id>{CHANGE_SET}</Id><StackId>{}</StackId>",
        stack_id(stack)
    ))
}

/// A change set CloudFormation found nothing to do for.
fn no_changes(stack: &str) -> Answer {
    ok(format!(
        "<ChangeSetId>{CHANGE_SET}</ChangeSetId><StackId>{}</StackId><Status>FAILED</Status><StatusReason>The \
         submitted information didn't contain changes. Submit different information to create a change set.\
         </StatusReason><Changes/>",
        stack_id(stack)
    ))
}

/// A computed change set with these `<member>` changes.
fn change_set_with(stack: &str, changes: &str) -> Answer {
    ok(format!(
        "<ChangeSetId>{CHANGE_SET}</ChangeSetId><StackId>{}</StackId><Status>CREATE_COMPLETE</Status>\
         <ExecutionStatus>AVAILABLE</ExecutionStatus><Changes>{changes}</Changes>",
        stack_id(stack)
    ))
}

fn added(logical: &str, ty: &str) -> String {
    format!(
        "<member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>{logical}\
         </LogicalResourceId><ResourceType>{ty}</ResourceType></ResourceChange></member>"
    )
}

fn spec(name: &str, template: &Value) -> StackSpec {
    StackSpec {
        name: name.into(),
        body: template.to_string(),
        tags: Default::default(),
        termination_protection: false,
        parameters: Default::default(),
        dependencies: vec![],
    }
}

/// Synthesizes `app` into a temporary directory and loads its assembly, as `cargo cfn` does after synth.
fn assembly(app: App) -> (tempfile::TempDir, cfnkit_deploy::assembly::Assembly) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cfnkit.out");
    let cli =
        cfnkit::cli::Cli::try_parse_from(["app", "synth", "--out", out.to_str().unwrap()]).unwrap();
    cfnkit::cli::run(cli, || Ok::<_, String>(app)).expect("the test app synthesizes");
    let asm = cfnkit_deploy::assembly::Assembly::load(&out).unwrap();
    (dir, asm)
}

/// The template synth writes for Data: what the stack was deployed with.
fn synthesized(app: App) -> String {
    let (_dir, asm) = assembly(app);
    asm.template(asm.manifest.stack("Data").unwrap()).unwrap()
}

/// Data holds a table; `renamed`: it is at OrdersTable, recorded as moved from Table.
fn data_app(renamed: bool, billing: &str) -> App {
    let app = App::new();
    let data = app.stack("Data");
    let t = data.add_raw(
        if renamed { "OrdersTable" } else { "Table" },
        RawResource::new("AWS::DynamoDB::Table")
            .prop("BillingMode", billing)
            .prop("TableName", "orders"),
    );
    t.apply_removal_policy(RemovalPolicy::Retain);
    if renamed {
        data.moved("Table", &t);
    }
    app
}

fn refactor_status(status: &str, execution: &str) -> Answer {
    ok(format!(
        "<StackRefactorId>refactor-1</StackRefactorId><Status>{status}</Status><ExecutionStatus>{execution}\
         </ExecutionStatus>"
    ))
}

#[tokio::test(start_paused = true)]
async fn a_recorded_rename_is_moved_by_a_stack_refactor_and_nothing_is_replaced() {
    let (_dir, asm) = assembly(data_app(true, "PAY_PER_REQUEST"));
    let replay = Replay::default();
    replay
        .answer("DescribeStacks", [described("Data", "UPDATE_COMPLETE")])
        .answer(
            "GetTemplate",
            [ok(format!(
                "<TemplateBody>{}</TemplateBody>",
                esc(&synthesized(data_app(false, "PAY_PER_REQUEST")))
            ))],
        )
        .answer("CreateStackRefactor", [ok("<StackRefactorId>refactor-1</StackRefactorId>")])
        .answer(
            "DescribeStackRefactor",
            [
                refactor_status("CREATE_IN_PROGRESS", "UNAVAILABLE"),
                refactor_status("CREATE_COMPLETE", "AVAILABLE"),
                refactor_status("CREATE_COMPLETE", "EXECUTE_IN_PROGRESS"),
                refactor_status("CREATE_COMPLETE", "EXECUTE_COMPLETE"),
            ],
        )
        .answer(
            "ListStackRefactorActions",
            [ok("<StackRefactorActions><member><Action>MOVE</Action><Entity>RESOURCE</Entity>\
                 <PhysicalResourceId>orders</PhysicalResourceId><Description>Move Data/Table to \
                 Data/OrdersTable</Description><Detection>MANUAL</Detection></member></StackRefactorActions>")],
        )
        .answer("ExecuteStackRefactor", [ok("")])
        // After the refactor the stack's template is the new one: its change set has nothing to do.
        .answer("CreateChangeSet", [created_change_set("Data")])
        .answer("DescribeChangeSet", [no_changes("Data")])
        .answer("DeleteChangeSet", [ok("")]);
    let aws = replay.clients();

    deploy(&aws, &asm, &[], &[], DeployOptions::unattended())
        .await
        .unwrap();

    let created = &replay.calls("CreateStackRefactor")[0];
    let mapping = |key: &str| created[&format!("ResourceMappings.member.1.{key}")].as_str();
    assert_eq!(
        [
            mapping("Source.StackName"),
            mapping("Source.LogicalResourceId"),
            mapping("Destination.StackName"),
            mapping("Destination.LogicalResourceId")
        ],
        ["Data", "Table", "Data", "OrdersTable"]
    );
    assert_eq!(created["StackDefinitions.member.1.StackName"], "Data");
    let definition: Value =
        serde_json::from_str(&created["StackDefinitions.member.1.TemplateBody"]).unwrap();
    assert!(definition["Resources"]["OrdersTable"].is_object());
    assert_eq!(created["EnableStackCreation"], "false");
    assert_eq!(replay.count("ExecuteStackRefactor"), 1);
    assert_eq!(replay.count("ExecuteChangeSet"), 0, "nothing was replaced");
    // The stack carries the guard's policy afterwards.
    assert_eq!(
        replay.policies_set().last().unwrap()["Statement"][1]["Effect"],
        "Deny"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rename_that_comes_with_another_change_is_refused_before_anything_is_created() {
    let (_dir, asm) = assembly(data_app(true, "PROVISIONED"));
    let replay = Replay::default();
    replay
        .answer("DescribeStacks", [described("Data", "UPDATE_COMPLETE")])
        .answer(
            "GetTemplate",
            [ok(format!(
                "<TemplateBody>{}</TemplateBody>",
                esc(&synthesized(data_app(false, "PAY_PER_REQUEST")))
            ))],
        );
    let err = deploy(
        &replay.clients(),
        &asm,
        &[],
        &[],
        DeployOptions::unattended(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "the moves Data/Table -> Data/OrdersTable come with other changes to their stacks, and CloudFormation \
         refactors only moves:\n  Data: changes resource OrdersTable\nDeploy the moves alone first (the release \
         that records them with `stack.moved`, without other changes to these stacks), then the rest"
    );
    let asked: Vec<String> = replay
        .0
        .lock()
        .unwrap()
        .calls
        .iter()
        .map(|c| c["Action"].clone())
        .collect();
    assert_eq!(
        asked,
        ["DescribeStacks", "GetTemplate"],
        "nothing was created"
    );
}

/// A table whose TableName changes: CloudFormation's change set says it is replaced.
fn replaced_table() -> String {
    "<member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>Table\
     </LogicalResourceId><PhysicalResourceId>orders</PhysicalResourceId><ResourceType>AWS::DynamoDB::Table\
     </ResourceType><Replacement>True</Replacement><Scope><member>Properties</member></Scope><Details><member>\
     <Target><Attribute>Properties</Attribute><Name>TableName</Name><RequiresRecreation>Always\
     </RequiresRecreation></Target><Evaluation>Static</Evaluation><ChangeSource>DirectModification\
     </ChangeSource></member></Details></ResourceChange></member>"
        .into()
}

#[tokio::test(start_paused = true)]
async fn a_replaced_table_is_refused_and_allow_replace_lifts_the_policy_for_that_update_only() {
    let new = json!({"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "orders-v2"}}}});
    let replay = Replay::default();
    replay
        .answer(
            "DescribeStacks",
            [
                described("Data", "UPDATE_COMPLETE"),
                described("Data", "UPDATE_COMPLETE"),
                described("Data", "UPDATE_IN_PROGRESS"),
                described("Data", "UPDATE_COMPLETE"),
            ],
        )
        .answer("CreateChangeSet", [created_change_set("Data")])
        .answer(
            "DescribeChangeSet",
            [change_set_with("Data", &replaced_table())],
        )
        .answer("DeleteChangeSet", [ok("")])
        .answer("ExecuteChangeSet", [ok("")])
        .answer(
            "DescribeStackEvents",
            [
                events(&[]),
                events(&[
                    event(
                        "Data",
                        10,
                        "Data",
                        STACK,
                        "UPDATE_IN_PROGRESS",
                        Some("User Initiated"),
                    ),
                    event(
                        "Data",
                        11,
                        "Table",
                        "AWS::DynamoDB::Table",
                        "UPDATE_COMPLETE",
                        None,
                    ),
                    event("Data", 12, "Data", STACK, "UPDATE_COMPLETE", None),
                ]),
            ],
        );
    let aws = replay.clients();

    let err = deploy_stack(&aws, &spec("Data", &new), &DeployOptions::unattended())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "refusing to deploy: 1 stateful resource(s) would be lost:\n  (!) Data/Table (AWS::DynamoDB::Table, holds \
         data) would be replaced: Properties.TableName (requires recreation: Always)\nEach loses what it holds. To \
         keep one, undo the change that replaces or removes it (for a rename or a move to another stack, record it \
         with `stack.moved(from, &resource)` so the deploy moves it instead); if losing it is intended, pass \
         --allow-replace Data/Table"
    );
    assert_eq!(
        (
            replay.count("ExecuteChangeSet"),
            replay.count("DeleteChangeSet")
        ),
        (0, 1)
    );

    let allowed = DeployOptions {
        allow_replace: vec!["Data/Table".parse().unwrap()],
        ..DeployOptions::unattended()
    };
    let outcome = deploy_stack(&aws, &spec("Data", &new), &allowed)
        .await
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Deployed { ref status, .. } if status == "UPDATE_COMPLETE"),
        "{outcome:?}"
    );
    assert_eq!(replay.count("ExecuteChangeSet"), 1);
    // The execution carried a ClientRequestToken of this tool.
    assert!(replay.calls("ExecuteChangeSet")[0]["ClientRequestToken"].starts_with("cfnkit-"));
    // Lifted for Table alone before the execution, then the strict policy again after it.
    let set = replay.policies_set();
    assert_eq!(set.len(), 2, "{set:?}");
    assert_eq!(
        set[0]["Statement"][1]["NotResource"],
        json!(["LogicalResourceId/Table"])
    );
    assert_eq!(set[1]["Statement"][1]["Resource"], "*");
}

#[tokio::test(start_paused = true)]
async fn revert_drift_creates_a_drift_aware_change_set() {
    let replay = Replay::default();
    replay
        .answer("DescribeStacks", [described("Data", "UPDATE_COMPLETE")])
        .answer("CreateChangeSet", [created_change_set("Data")])
        .answer("DescribeChangeSet", [no_changes("Data")])
        .answer("DeleteChangeSet", [ok("")]);
    let options = DeployOptions {
        revert_drift: true,
        ..DeployOptions::unattended()
    };
    let outcome = deploy_stack(
        &replay.clients(),
        &spec("Data", &json!({"Resources": {}})),
        &options,
    )
    .await
    .unwrap();
    assert_eq!(outcome, Outcome::NoChanges);
    let created = &replay.calls("CreateChangeSet")[0];
    assert_eq!(
        (
            created["ChangeSetType"].as_str(),
            created["DeploymentMode"].as_str()
        ),
        ("UPDATE", "REVERT_DRIFT")
    );
}

#[tokio::test(start_paused = true)]
async fn drift_lists_the_drifted_resources_with_paths_and_exits_as_diff_does() {
    let (_dir, asm) = assembly(data_app(false, "PAY_PER_REQUEST"));
    let detection = |status: &str, drift: &str| {
        ok(format!(
            "<StackId>{}</StackId><StackDriftDetectionId>drift-1</StackDriftDetectionId>{drift}<DetectionStatus>\
             {status}</DetectionStatus><Timestamp>{}</Timestamp>",
            stack_id("Data"),
            time(100)
        ))
    };
    let replay = Replay::default();
    replay
        .answer("DescribeStacks", [described("Data", "UPDATE_COMPLETE")])
        .answer("DetectStackDrift", [ok("<StackDriftDetectionId>drift-1</StackDriftDetectionId>")])
        .answer(
            "DescribeStackDriftDetectionStatus",
            [
                detection("DETECTION_IN_PROGRESS", ""),
                detection(
                    "DETECTION_COMPLETE",
                    "<StackDriftStatus>DRIFTED</StackDriftStatus><DriftedStackResourceCount>1\
                     </DriftedStackResourceCount>",
                ),
            ],
        )
        .answer(
            "DescribeStackResourceDrifts",
            [ok(format!(
                "<StackResourceDrifts><member><StackId>{}</StackId><LogicalResourceId>Table</LogicalResourceId>\
                 <PhysicalResourceId>orders</PhysicalResourceId><ResourceType>AWS::DynamoDB::Table</ResourceType>\
                 <StackResourceDriftStatus>MODIFIED</StackResourceDriftStatus><PropertyDifferences><member>\
                 <PropertyPath>/BillingMode</PropertyPath><ExpectedValue>PAY_PER_REQUEST</ExpectedValue>\
                 <ActualValue>PROVISIONED</ActualValue><DifferenceType>NOT_EQUAL</DifferenceType></member>\
                 </PropertyDifferences><Timestamp>{}</Timestamp></member></StackResourceDrifts>",
                stack_id("Data"),
                time(100)
            ))],
        );
    let aws = replay.clients();
    let args = cfnkit_deploy::commands::drift::Args { stacks: vec![] };
    let found = cfnkit_deploy::commands::drift::run(&aws, &asm, &args)
        .await
        .unwrap();
    assert_eq!(found, Found::Differences);
    let asked = &replay.calls("DescribeStackResourceDrifts")[0];
    assert_eq!(
        (
            asked["StackResourceDriftStatusFilters.member.1"].as_str(),
            asked["StackResourceDriftStatusFilters.member.2"].as_str()
        ),
        ("MODIFIED", "DELETED")
    );

    console::set_colors_enabled(false);
    let d = cfnkit_deploy::drift::detect(&aws.cfn, "Data")
        .await
        .unwrap();
    assert_eq!(
        cfnkit_deploy::drift::render(&d),
        "Stack Data (detected 2025-10-09T08:55:00Z)\n  [~] AWS::DynamoDB::Table Table modified\n      ~ BillingMode \
         PAY_PER_REQUEST (template) -> PROVISIONED (actual)\n"
    );
}

#[tokio::test(start_paused = true)]
async fn a_detection_that_does_not_finish_and_finds_nothing_is_an_error_not_a_clean_bill() {
    let (_dir, asm) = assembly(data_app(false, "PAY_PER_REQUEST"));
    let replay = Replay::default();
    replay
        .answer("DescribeStacks", [described("Data", "UPDATE_COMPLETE")])
        .answer("DetectStackDrift", [ok("<StackDriftDetectionId>drift-2</StackDriftDetectionId>")])
        .answer(
            "DescribeStackDriftDetectionStatus",
            [ok(format!(
                "<StackId>{}</StackId><StackDriftDetectionId>drift-2</StackDriftDetectionId><StackDriftStatus>\
                 IN_SYNC</StackDriftStatus><DetectionStatus>DETECTION_FAILED</DetectionStatus>\
                 <DetectionStatusReason>Failed to detect drift on resource [Table]: Access denied\
                 </DetectionStatusReason><Timestamp>{}</Timestamp>",
                stack_id("Data"),
                time(100)
            ))],
        )
        .answer("DescribeStackResourceDrifts", [ok("<StackResourceDrifts/>")]);
    let args = cfnkit_deploy::commands::drift::Args { stacks: vec![] };
    let err = cfnkit_deploy::commands::drift::run(&replay.clients(), &asm, &args)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "drift detection did not finish for Data, and found no drift in what it checked: Data: Failed to detect \
         drift on resource [Table]: Access denied"
    );
}

/// A VALIDATION_ERROR event of DescribeEvents.
fn validation_error(
    operation: &str,
    logical: &str,
    ty: &str,
    name: &str,
    path: &str,
    reason: &str,
) -> String {
    format!(
        "<member><EventId>v-{logical}</EventId><OperationId>{operation}</OperationId><EventType>VALIDATION_ERROR\
         </EventType><LogicalResourceId>{logical}</LogicalResourceId><ResourceType>{ty}</ResourceType><Timestamp>\
         {}</Timestamp><ValidationFailureMode>FAIL</ValidationFailureMode><ValidationName>{name}</ValidationName>\
         <ValidationStatus>FAILED</ValidationStatus><ValidationStatusReason>{}</ValidationStatusReason>\
         <ValidationPath>{path}</ValidationPath></member>",
        time(5),
        esc(reason)
    )
}

#[tokio::test(start_paused = true)]
async fn a_change_set_failing_early_validation_shows_the_findings_before_the_generic_reason() {
    let replay = Replay::default();
    replay
        .answer("DescribeStacks", [described("Data", "UPDATE_COMPLETE")])
        .answer("CreateChangeSet", [created_change_set("Data")])
        .answer(
            "DescribeChangeSet",
            [ok(format!(
                "<ChangeSetId>{CHANGE_SET}</ChangeSetId><StackId>{}</StackId><Status>FAILED</Status><StatusReason>\
                 The following hook(s)/validations failed: [AWS::EarlyValidation::ResourceExistenceCheck]. To \
                 troubleshoot Early Validation errors, use the DescribeEvents API for detailed failure \
                 information.</StatusReason>",
                stack_id("Data")
            ))],
        )
        .answer(
            "DescribeEvents",
            [ok(format!(
                "<OperationEvents>{}</OperationEvents>",
                validation_error(
                    "op-cs",
                    "Archive",
                    "AWS::S3::Bucket",
                    "ResourceExistenceCheck",
                    "/Resources/Archive/Properties/BucketName",
                    "Resource of type 'AWS::S3::Bucket' with identifier 'orders-archive' already exists."
                )
            ))],
        );
    let err = deploy_stack(
        &replay.clients(),
        &spec("Data", &json!({"Resources": {}})),
        &DeployOptions::unattended(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "stack Data: the change set failed\n  Archive (AWS::S3::Bucket): /Resources/Archive/Properties/BucketName: \
         Resource of type 'AWS::S3::Bucket' with identifier 'orders-archive' already exists. \
         [ResourceExistenceCheck]\n  CloudFormation's reason: The following hook(s)/validations failed: \
         [AWS::EarlyValidation::ResourceExistenceCheck]. To troubleshoot Early Validation errors, use the \
         DescribeEvents API for detailed failure information."
    );
    let asked = &replay.calls("DescribeEvents")[0];
    assert_eq!(
        (
            asked["ChangeSetName"].as_str(),
            asked["Filters.FailedEvents"].as_str()
        ),
        (CHANGE_SET, "true")
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_update_shows_its_validation_findings_next_to_the_resource() {
    let replay = Replay::default();
    replay
        .answer(
            "DescribeStacks",
            [
                described("Data", "UPDATE_COMPLETE"),
                described("Data", "UPDATE_ROLLBACK_COMPLETE"),
            ],
        )
        .answer("CreateChangeSet", [created_change_set("Data")])
        .answer(
            "DescribeChangeSet",
            [change_set_with("Data", &added("Archive", "AWS::S3::Bucket"))],
        )
        .answer("ExecuteChangeSet", [ok("")])
        .answer(
            "DescribeStackEvents",
            [
                events(&[]),
                events(&[
                    event("Data", 10, "Data", STACK, "UPDATE_IN_PROGRESS", Some("User Initiated")),
                    event("Data", 11, "Archive", "AWS::S3::Bucket", "CREATE_FAILED", Some("The following hook(s)/validations failed: [AWS::EarlyValidation::PropertyValidation]")),
                    event("Data", 12, "Data", STACK, "UPDATE_ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to create: [Archive].")),
                    event("Data", 13, "Data", STACK, "UPDATE_ROLLBACK_COMPLETE", None),
                ]),
            ],
        )
        .answer(
            "DescribeEvents",
            [ok(format!(
                "<OperationEvents>{}</OperationEvents>",
                validation_error(
                    "op-1",
                    "Archive",
                    "AWS::S3::Bucket",
                    "PropertyValidation",
                    "/Resources/Archive/Properties/LifecycleConfiguration/Rules/0/ExpirationInDays",
                    "#: expected minimum value: 1, found: 0"
                )
            ))],
        );
    let err = deploy_stack(
        &replay.clients(),
        &spec("Data", &json!({"Resources": {}})),
        &DeployOptions::unattended(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "stack Data did not reach a complete state: it ended in UPDATE_ROLLBACK_COMPLETE (rolled back: the stack is \
         as it was before this deploy); failed resources:\n  Archive (AWS::S3::Bucket): \
         /Resources/Archive/Properties/LifecycleConfiguration/Rules/0/ExpirationInDays: #: expected minimum value: \
         1, found: 0 [PropertyValidation]\n  Archive (AWS::S3::Bucket) CREATE_FAILED: The following \
         hook(s)/validations failed: [AWS::EarlyValidation::PropertyValidation]"
    );
    assert_eq!(replay.calls("DescribeEvents")[0]["OperationId"], "op-1");
}

#[tokio::test(start_paused = true)]
async fn a_stack_still_in_progress_from_an_interrupted_deploy_is_waited_for_then_deployed() {
    let replay = Replay::default();
    replay
        .answer(
            "DescribeStacks",
            [
                described("Data", "UPDATE_IN_PROGRESS"),
                described("Data", "UPDATE_IN_PROGRESS"),
                described("Data", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
                described("Data", "UPDATE_COMPLETE"),
            ],
        )
        .answer(
            "DescribeStackEvents",
            [events(&[event(
                "Data",
                10,
                "Data",
                STACK,
                "UPDATE_IN_PROGRESS",
                Some("User Initiated"),
            )])],
        )
        .answer("CreateChangeSet", [created_change_set("Data")])
        .answer("DescribeChangeSet", [no_changes("Data")])
        .answer("DeleteChangeSet", [ok("")]);
    let outcome = deploy_stack(
        &replay.clients(),
        &spec("Data", &json!({"Resources": {}})),
        &DeployOptions::unattended(),
    )
    .await
    .unwrap();
    // The interrupted deploy had applied the template: this one converges with nothing to do, and created its
    // change set only once the running update had finished.
    assert_eq!(outcome, Outcome::NoChanges);
    let order: Vec<String> = replay
        .0
        .lock()
        .unwrap()
        .calls
        .iter()
        .map(|c| c["Action"].clone())
        .filter(|a| a == "DescribeStacks" || a == "CreateChangeSet")
        .collect();
    assert_eq!(
        order,
        [
            "DescribeStacks",
            "DescribeStacks",
            "DescribeStacks",
            "DescribeStacks",
            "DescribeStacks",
            "CreateChangeSet"
        ]
    );
}

/// Events of an update whose rollback failed on Table.
fn failed_rollback() -> Answer {
    events(&[
        event(
            "Data",
            10,
            "Data",
            STACK,
            "UPDATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
        event(
            "Data",
            11,
            "Reader",
            "AWS::Lambda::Function",
            "UPDATE_FAILED",
            Some("Invalid handler"),
        ),
        event(
            "Data",
            12,
            "Data",
            STACK,
            "UPDATE_ROLLBACK_IN_PROGRESS",
            Some("The following resource(s) failed to update: [Reader]."),
        ),
        event(
            "Data",
            13,
            "Table",
            "AWS::DynamoDB::Table",
            "UPDATE_FAILED",
            Some("Requested resource not found: Table: orders not found"),
        ),
        event(
            "Data",
            14,
            "Data",
            STACK,
            "UPDATE_ROLLBACK_FAILED",
            Some("The following resource(s) failed to update: [Table]."),
        ),
    ])
}

#[tokio::test(start_paused = true)]
async fn a_failed_rollback_names_what_blocks_it_and_continue_rollback_skips_it() {
    let replay = Replay::default();
    replay
        .answer(
            "DescribeStacks",
            [
                described("Data", "UPDATE_ROLLBACK_FAILED"),
                described("Data", "UPDATE_ROLLBACK_FAILED"),
                described("Data", "UPDATE_ROLLBACK_FAILED"),
                described("Data", "UPDATE_ROLLBACK_IN_PROGRESS"),
                described("Data", "UPDATE_ROLLBACK_COMPLETE"),
            ],
        )
        .answer(
            "DescribeStackEvents",
            [
                failed_rollback(),
                failed_rollback(),
                failed_rollback(),
                failed_rollback(),
                events(&[
                    event(
                        "Data",
                        20,
                        "Data",
                        STACK,
                        "UPDATE_ROLLBACK_IN_PROGRESS",
                        Some("User Initiated"),
                    ),
                    event(
                        "Data",
                        21,
                        "Table",
                        "AWS::DynamoDB::Table",
                        "UPDATE_COMPLETE",
                        Some("Resource skipped during rollback"),
                    ),
                    event("Data", 22, "Data", STACK, "UPDATE_ROLLBACK_COMPLETE", None),
                ]),
            ],
        )
        .answer("ContinueUpdateRollback", [ok("")])
        .answer("CreateChangeSet", [created_change_set("Data")])
        .answer("DescribeChangeSet", [no_changes("Data")])
        .answer("DeleteChangeSet", [ok("")]);
    let aws = replay.clients();
    let data = spec("Data", &json!({"Resources": {}}));

    let err = deploy_stack(&aws, &data, &DeployOptions::unattended())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "stack Data is in UPDATE_ROLLBACK_FAILED: an update failed and rolling it back failed too, so \
             CloudFormation will not update it. The resources that failed to roll back:\n  Table \
             (AWS::DynamoDB::Table) UPDATE_FAILED: Requested resource not found: Table: orders not found\nFix what \
             blocks them"
        ),
        "{err}"
    );
    assert!(
        err.contains("cargo cfn deploy --continue-rollback Data"),
        "{err}"
    );

    // Skipping a resource whose rollback did not fail is refused before anything is asked of CloudFormation.
    let wrong = DeployOptions {
        continue_rollback: true,
        skip_resources: vec!["Data/Reader".parse().unwrap()],
        ..DeployOptions::unattended()
    };
    let err = deploy_stack(&aws, &data, &wrong)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("--skip-resource Data/Reader: its rollback did not fail"),
        "{err}"
    );
    assert_eq!(replay.count("ContinueUpdateRollback"), 0);

    let skip = DeployOptions {
        continue_rollback: true,
        skip_resources: vec!["Data/Table".parse().unwrap()],
        ..DeployOptions::unattended()
    };
    let outcome = deploy_stack(&aws, &data, &skip).await.unwrap();
    assert_eq!(outcome, Outcome::NoChanges);
    let continued = replay.calls("ContinueUpdateRollback");
    assert_eq!(continued.len(), 1);
    assert_eq!(continued[0]["ResourcesToSkip.member.1"], "Table");
    assert!(!continued[0].contains_key("ResourcesToSkip.member.2"));
}

#[tokio::test(start_paused = true)]
async fn a_second_deploy_whose_change_set_another_made_obsolete_is_refused_not_interleaved() {
    let replay = Replay::default();
    replay
        .answer("DescribeStacks", [described("Data", "UPDATE_COMPLETE")])
        .answer("CreateChangeSet", [created_change_set("Data")])
        .answer(
            "DescribeChangeSet",
            [change_set_with("Data", &added("Topic", "AWS::SNS::Topic"))],
        )
        .answer("DescribeStackEvents", [events(&[])])
        .answer(
            "ExecuteChangeSet",
            [error(
                "InvalidChangeSetStatus",
                &format!("ChangeSet [{CHANGE_SET}] cannot be executed in its current status of [OBSOLETE]"),
            )],
        );
    let err = deploy_stack(
        &replay.clients(),
        &spec("Data", &json!({"Resources": {}})),
        &DeployOptions::unattended(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        format!(
            "stack Data: another operation started on it while this deploy prepared its change set \
             (ExecuteChangeSet: ChangeSet [{CHANGE_SET}] cannot be executed in its current status of [OBSOLETE]); \
             nothing of this deploy was applied to it. Run the deploy again once that operation is done: it waits \
             for one still running"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn throttled_calls_are_retried_with_backoff() {
    let replay = Replay::default();
    // Three throttled answers in a row: more than the SDK's default of 3 attempts would survive.
    replay.answer(
        "DescribeStacks",
        [
            error("Throttling", "Rate exceeded"),
            error("Throttling", "Rate exceeded"),
            error("Throttling", "Rate exceeded"),
            described("Data", "UPDATE_COMPLETE"),
        ],
    );
    let d = cfnkit_deploy::cfn::describe(&replay.clients().cfn, "Data")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, "UPDATE_COMPLETE");
    assert_eq!(replay.count("DescribeStacks"), 4);
}

/// Api holds a function (its code at `key`, and `mode` in its environment) and a parameter of value `setting`.
fn function_app(key: &str, mode: &str, setting: &str) -> App {
    let app = App::new();
    let api = app.stack("Api");
    api.add_raw(
        "Handler",
        RawResource::new("AWS::Lambda::Function")
            .prop(
                "Code",
                json!({"S3Bucket": {"Fn::Sub": "cfnkit-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": key}),
            )
            .prop("Role", "arn:aws:iam::123456789012:role/handler")
            .prop("Environment", json!({"Variables": {"MODE": mode}})),
    );
    api.add_raw(
        "Setting",
        RawResource::new("AWS::SSM::Parameter")
            .prop("Type", "String")
            .prop("Value", setting),
    );
    app
}

#[tokio::test(start_paused = true)]
async fn hotswap_deploys_through_a_change_set_when_more_than_function_code_changes() {
    let (_dir, deployed) = assembly(function_app("assets/handler/1.zip", "a", "x"));
    let old = deployed
        .template(deployed.manifest.stack("Api").unwrap())
        .unwrap();
    // The code changes, and so does the parameter: no function is touched, the change set deploys both.
    let (_dir, asm) = assembly(function_app("assets/handler/2.zip", "b", "y"));
    let modified = "<member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>Setting\
                    </LogicalResourceId><ResourceType>AWS::SSM::Parameter</ResourceType><Replacement>False\
                    </Replacement></ResourceChange></member>";
    let replay = Replay::default();
    replay
        .answer("DescribeStacks", [described("Api", "UPDATE_COMPLETE")])
        .answer(
            "GetTemplate",
            [ok(format!("<TemplateBody>{}</TemplateBody>", esc(&old)))],
        )
        .answer("CreateChangeSet", [created_change_set("Api")])
        .answer("DescribeChangeSet", [change_set_with("Api", modified)])
        .answer("ExecuteChangeSet", [ok("")])
        .answer(
            "DescribeStackEvents",
            [
                events(&[]),
                events(&[
                    event(
                        "Api",
                        10,
                        "Api",
                        STACK,
                        "UPDATE_IN_PROGRESS",
                        Some("User Initiated"),
                    ),
                    event(
                        "Api",
                        11,
                        "Setting",
                        "AWS::SSM::Parameter",
                        "UPDATE_COMPLETE",
                        None,
                    ),
                    event("Api", 12, "Api", STACK, "UPDATE_COMPLETE", None),
                ]),
            ],
        );
    let options = DeployOptions {
        hotswap: true,
        ..DeployOptions::unattended()
    };

    deploy(&replay.clients(), &asm, &[], &[], options)
        .await
        .unwrap();

    let created = &replay.calls("CreateChangeSet")[0];
    let body: Value = serde_json::from_str(&created["TemplateBody"]).unwrap();
    assert_eq!(
        body["Resources"]["Handler"]["Properties"]["Code"]["S3Key"], "assets/handler/2.zip",
        "the change set carries the code change too"
    );
    assert_eq!(replay.count("ExecuteChangeSet"), 1);
    assert_eq!(
        replay.count("ListStackResources"),
        0,
        "nothing was planned for a hotswap"
    );
}

/// `deploy --express`, and `bootstrap --express`, which deploys its stack the same way (`deploy_stack`).
#[tokio::test(start_paused = true)]
async fn express_asks_cloudformation_for_express_mode_in_the_change_set() {
    let replay = Replay::default();
    replay
        .answer("DescribeStacks", [described("Data", "UPDATE_COMPLETE")])
        .answer("CreateChangeSet", [created_change_set("Data")])
        .answer("DescribeChangeSet", [no_changes("Data")])
        .answer("DeleteChangeSet", [ok("")]);
    let express = DeployOptions {
        express: true,
        ..DeployOptions::unattended()
    };
    let template = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}});
    let aws = replay.clients();
    deploy_stack(&aws, &spec("Data", &template), &express)
        .await
        .unwrap();
    deploy_stack(&aws, &spec("Data", &template), &DeployOptions::unattended())
        .await
        .unwrap();
    let created = replay.calls("CreateChangeSet");
    assert_eq!(
        created[0].get("DeploymentConfig.Mode").map(String::as_str),
        Some("EXPRESS")
    );
    assert_eq!(
        created[1].get("DeploymentConfig.Mode"),
        None,
        "only when asked"
    );
}

/// Api's template with a custom resource.
fn seeded_app() -> App {
    let app = App::new();
    let api = app.stack("Api");
    api.add_raw(
        "Seed",
        RawResource::new("Custom::Seed").prop(
            "ServiceToken",
            "arn:aws:lambda:us-east-1:123456789012:function:seed",
        ),
    );
    app
}

#[tokio::test(start_paused = true)]
async fn express_is_refused_for_a_stack_with_a_custom_resource_before_anything_changes() {
    let (_dir, asm) = assembly(seeded_app());
    let replay = Replay::default();
    let express = DeployOptions {
        express: true,
        ..DeployOptions::unattended()
    };
    let err = deploy(&replay.clients(), &asm, &[], &[], express)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "--express does not apply to stack Api: it has custom resources (Seed (Custom::Seed)), which are done only \
         when their handler answers; deploy it without --express"
    );
    assert!(
        replay.0.lock().unwrap().calls.is_empty(),
        "nothing was asked or changed"
    );
}

#[tokio::test(start_paused = true)]
async fn destroy_with_express_deletes_in_express_mode_unless_a_custom_resource_forbids_it() {
    let (_dir, asm) = assembly(seeded_app());
    let plain = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}});
    let replay = Replay::default();
    replay
        .answer(
            "DescribeStacks",
            [
                described("Api", "UPDATE_COMPLETE"),
                described("Api", "DELETE_IN_PROGRESS"),
                described("Api", "DELETE_COMPLETE"),
            ],
        )
        .answer(
            "GetTemplate",
            [
                ok(format!(
                    "<TemplateBody>{}</TemplateBody>",
                    esc(&plain.to_string())
                )),
                ok(format!(
                    "<TemplateBody>{}</TemplateBody>",
                    esc(&asm.template(asm.manifest.stack("Api").unwrap()).unwrap())
                )),
            ],
        )
        .answer("DeleteStack", [ok("")])
        .answer(
            "DescribeStackEvents",
            [
                events(&[]),
                events(&[
                    event(
                        "Api",
                        10,
                        "Api",
                        STACK,
                        "DELETE_IN_PROGRESS",
                        Some("User Initiated"),
                    ),
                    event("Api", 11, "Api", STACK, "DELETE_COMPLETE", None),
                ]),
            ],
        );
    let aws = replay.clients();
    cfnkit_deploy::commands::destroy::destroy(&aws, &asm, &[], true, true)
        .await
        .unwrap();
    let deleted = replay.calls("DeleteStack");
    assert_eq!(
        deleted[0].get("DeploymentConfig.Mode").map(String::as_str),
        Some("EXPRESS")
    );

    // The deployed template has the custom resource: refused before DeleteStack.
    let seeded = Replay::default();
    seeded
        .answer("DescribeStacks", [described("Api", "UPDATE_COMPLETE")])
        .answer(
            "GetTemplate",
            [ok(format!(
                "<TemplateBody>{}</TemplateBody>",
                esc(&asm.template(asm.manifest.stack("Api").unwrap()).unwrap())
            ))],
        );
    let err = cfnkit_deploy::commands::destroy::destroy(&seeded.clients(), &asm, &[], true, true)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "--express does not apply to stack Api: it has custom resources (Seed (Custom::Seed))"
        ),
        "{err}"
    );
    assert_eq!(seeded.count("DeleteStack"), 0);
}
