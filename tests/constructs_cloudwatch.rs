//! CloudWatch constructs: metrics from the constructs, alarms with SNS actions, dashboards.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::cloudwatch::{
    Alarm, AlarmProps, ComparisonOperator, Dashboard, DashboardProps, Metric, Statistic, Widget,
};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps};
use cfnkit::constructs::sns::{Topic, TopicProps};
use cfnkit::constructs::sqs::{Queue, QueueProps};
use cfnkit::App;
use constructs_support::*;
use serde_json::json;

fn example(app: &App) {
    let s = app.stack("Cw");
    let scope = s.scope();
    let key = Key::new(&scope, "OpsKey", KeyProps::default()).unwrap();
    let topic = Topic::new(
        &scope,
        "Ops",
        TopicProps {
            master_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let queue = Queue::new(&scope, "Jobs", QueueProps::default()).unwrap();
    let f = Function::new(
        &scope,
        "Worker",
        Code::asset("worker"),
        FunctionProps::default(),
    )
    .unwrap();
    let errors = Alarm::new(
        &scope,
        "WorkerErrors",
        &f.metric_errors().period(Duration::from_secs(60)),
        1.0,
        AlarmProps {
            description: Some("The worker fails: read its log group".into()),
            evaluation_periods: 5,
            datapoints_to_alarm: Some(3),
            ..Default::default()
        },
    )
    .unwrap();
    errors.add_alarm_action(&topic).unwrap();
    let backlog = Alarm::new(
        &scope,
        "JobsBacklog",
        &queue.metric_approximate_number_of_messages_visible(),
        100.0,
        AlarmProps {
            comparison: ComparisonOperator::GreaterThanThreshold,
            ..Default::default()
        },
    )
    .unwrap();
    backlog.add_alarm_action(&topic).unwrap();
    let d = Dashboard::new(&scope, "OpsDashboard", DashboardProps::default()).unwrap();
    d.add_widgets([
        Widget::text("# Orders ${not a variable}"),
        Widget::graph("Worker", [f.metric_errors(), f.metric_throttles()]),
        Widget::graph(
            "Worker latency",
            [f.metric_duration().statistic(Statistic::Percentile(99.0))],
        ),
        Widget::alarm_status("Alarms", &[&errors, &backlog]),
    ])
    .unwrap();
}

#[test]
fn an_alarm_renders_the_metric_and_publishes_to_the_topic() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Cw");
    let p = &resource(&t, "WorkerErrors")["Properties"];
    assert_eq!(p["Namespace"], "AWS/Lambda");
    assert_eq!(p["MetricName"], "Errors");
    assert_eq!(
        p["Dimensions"],
        json!([{"Name": "FunctionName", "Value": {"Ref": "Worker"}}])
    );
    assert_eq!(p["Statistic"], "Sum");
    assert_eq!(p["Period"], 60);
    assert_eq!(p["EvaluationPeriods"], 5);
    assert_eq!(p["DatapointsToAlarm"], 3);
    assert_eq!(p["Threshold"], 1.0);
    assert_eq!(p["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    assert_eq!(p["TreatMissingData"], "notBreaching");
    assert_eq!(
        p["AlarmActions"],
        json!([{"Fn::GetAtt": ["Ops", "TopicArn"]}])
    );
    let q = &resource(&t, "JobsBacklog")["Properties"];
    assert_eq!(q["Namespace"], "AWS/SQS");
    assert_eq!(q["MetricName"], "ApproximateNumberOfMessagesVisible");
    assert_eq!(
        q["Dimensions"][0]["Value"],
        json!({"Fn::GetAtt": ["Jobs", "QueueName"]})
    );
    // CloudWatch may publish to the topic and use its key.
    let topic_policy = statements(&resource(&t, "OpsPolicy")["Properties"]["PolicyDocument"]);
    assert!(topic_policy
        .iter()
        .any(|s| s["Principal"] == json!({"Service": "cloudwatch.amazonaws.com"})));
    let key_policy = statements(&resource(&t, "OpsKey")["Properties"]["KeyPolicy"]);
    assert!(key_policy
        .iter()
        .any(|s| s["Principal"] == json!({"Service": "cloudwatch.amazonaws.com"})));
}

#[test]
fn an_alarm_action_to_a_topic_with_the_aws_managed_key_is_refused() {
    let app = App::new();
    let s = app.stack("Cw");
    let topic = Topic::new(&s.scope(), "Plain", TopicProps::default()).unwrap();
    let a = Alarm::new(
        &s.scope(),
        "A",
        &Metric::new("Custom", "Things"),
        1.0,
        AlarmProps::default(),
    )
    .unwrap();
    assert!(!a.has_alarm_actions());
    let e = a.add_alarm_action(&topic).unwrap_err();
    assert!(e.to_string().contains("customer-managed key"), "{e}");
}

#[test]
fn bad_periods_and_datapoints_are_refused() {
    let app = App::new();
    let s = app.stack("Cw");
    let e = Alarm::new(
        &s.scope(),
        "A",
        &Metric::new("Custom", "Things").period(Duration::from_secs(45)),
        1.0,
        AlarmProps::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Cw/A: the period of metric Custom/Things must be 10 seconds, 30 seconds or a multiple of 1 minute, \
         got 45 seconds"
    );
    let e = Alarm::new(
        &s.scope(),
        "B",
        &Metric::new("Custom", "Things"),
        1.0,
        AlarmProps {
            evaluation_periods: 2,
            datapoints_to_alarm: Some(3),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Cw/B: datapoints_to_alarm must be from 1 to evaluation_periods (2), got 3"
    );
}

#[test]
fn a_percentile_uses_extended_statistic() {
    let app = App::new();
    let s = app.stack("Cw");
    Alarm::new(
        &s.scope(),
        "P99",
        &Metric::new("Custom", "Latency").statistic(Statistic::Percentile(99.0)),
        500.0,
        AlarmProps::default(),
    )
    .unwrap();
    let t = template(&app, "Cw");
    let p = &resource(&t, "P99")["Properties"];
    assert_eq!(p["ExtendedStatistic"], "p99");
    assert!(p.get("Statistic").is_none());
}

#[test]
fn the_dashboard_body_is_a_sub_with_laid_out_widgets() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Cw");
    let body = &resource(&t, "OpsDashboard")["Properties"]["DashboardBody"]["Fn::Sub"];
    let (text, vars) = (body[0].as_str().unwrap(), &body[1]);
    assert_eq!(
        vars,
        &json!({
            "V0": {"Ref": "Worker"},
            "V1": {"Fn::GetAtt": ["WorkerErrors", "Arn"]},
            "V2": {"Fn::GetAtt": ["JobsBacklog", "Arn"]}
        })
    );
    let parsed: serde_json::Value = serde_json::from_str(text).unwrap();
    let w = parsed["widgets"].as_array().unwrap();
    assert_eq!(w.len(), 4);
    assert_eq!(
        w[0]["properties"]["markdown"],
        "# Orders ${!not a variable}"
    );
    assert_eq!((w[1]["x"].as_u64(), w[1]["y"].as_u64()), (Some(0), Some(2)));
    assert_eq!(
        (w[2]["x"].as_u64(), w[2]["y"].as_u64()),
        (Some(12), Some(2))
    );
    assert_eq!((w[3]["x"].as_u64(), w[3]["y"].as_u64()), (Some(0), Some(8)));
    assert_eq!(w[1]["properties"]["region"], "${AWS::Region}");
    assert_eq!(
        w[1]["properties"]["metrics"][0],
        json!(["AWS/Lambda", "Errors", "FunctionName", "${V0}", {"stat": "Sum", "period": 300}])
    );
    assert_eq!(w[3]["properties"]["alarms"], json!(["${V1}", "${V2}"]));
}

#[test]
fn example_stack_snapshot() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Cw");
    insta::assert_snapshot!(
        "cloudwatch_example",
        serde_json::to_string_pretty(&t).unwrap()
    );
}

#[test]
fn example_stack_passes_cfn_lint() {
    let app = App::new();
    example(&app);
    lint_or_skip(&app);
}
