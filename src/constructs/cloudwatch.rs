//! CloudWatch: [`Metric`] (what the constructs' `metric_*` helpers return), [`Alarm`] with actions to SNS, and
//! [`Dashboard`] with graph and alarm-status widgets.
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Ops");
//! let worker = Function::new(&stack, "Worker", Code::cargo_bin("handlers", "worker"), FunctionProps::default())?;
//! // CloudWatch can only publish to a topic encrypted with a key whose policy lets it in.
//! let key = Key::new(&stack, "OpsKey", KeyProps::default())?;
//! let ops = Topic::new(&stack, "Ops", TopicProps { master_key: Some(&key), ..Default::default() })?;
//! // Any failed invocation in 5 minutes notifies the ops topic.
//! let errors = Alarm::new(&stack, "WorkerErrors", &worker.metric_errors(), 1.0, AlarmProps::default())?;
//! errors.add_alarm_action(&ops)?;
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{Val, Value};
use cfnkit_l1::cloudwatch as l1;

use super::{human, path_of, Construct, ConstructError};
use crate::{fns, AsScope};

/// How the data points of a period are aggregated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Statistic {
    /// The mean of the data points (latencies, utilization).
    Average,
    /// The total of the data points (counts: errors, messages sent).
    Sum,
    /// The lowest data point.
    Minimum,
    /// The highest data point (the age of the oldest message).
    Maximum,
    /// How many data points there were, whatever their values.
    SampleCount,
    /// A percentile, `Percentile(99.0)` is `p99`.
    Percentile(f64),
}

impl Statistic {
    /// The statistic as CloudWatch writes it (`Sum`, `p99`).
    pub fn as_string(&self) -> String {
        match self {
            Statistic::Average => "Average".into(),
            Statistic::Sum => "Sum".into(),
            Statistic::Minimum => "Minimum".into(),
            Statistic::Maximum => "Maximum".into(),
            Statistic::SampleCount => "SampleCount".into(),
            Statistic::Percentile(p) => format!("p{p}"),
        }
    }
}

/// A CloudWatch metric: namespace, name, dimensions, and how it is aggregated (the statistic over a period).
///
/// ```
/// use cfnkit::constructs::cloudwatch::{Metric, Statistic};
/// use std::time::Duration;
/// let m = Metric::new("AWS/Lambda", "Errors")
///     .dimension("FunctionName", "orders")
///     .statistic(Statistic::Sum)
///     .period(Duration::from_secs(60));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    namespace: String,
    metric_name: String,
    dimensions: Vec<(String, Val<String>)>,
    statistic: Statistic,
    period: Duration,
    label: Option<String>,
}

impl Metric {
    /// A metric aggregated as the average over 5 minutes, like AWS CDK, until told otherwise.
    pub fn new(namespace: impl Into<String>, metric_name: impl Into<String>) -> Self {
        Metric {
            namespace: namespace.into(),
            metric_name: metric_name.into(),
            dimensions: Vec::new(),
            statistic: Statistic::Average,
            period: Duration::from_secs(300),
            label: None,
        }
    }
    /// Adds a dimension (`FunctionName`, `QueueName`).
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<Val<String>>) -> Self {
        self.dimensions.push((name.into(), value.into()));
        self
    }
    /// Sets the statistic.
    pub fn statistic(mut self, statistic: Statistic) -> Self {
        self.statistic = statistic;
        self
    }
    /// Sets the period (10 seconds, 30 seconds or a multiple of 1 minute; checked where the metric is used).
    pub fn period(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }
    /// Sets the label shown on graphs. Without it graphs show the metric name.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }
    /// The metric name.
    pub fn metric_name(&self) -> &str {
        &self.metric_name
    }
    /// The dimensions.
    pub fn dimensions(&self) -> &[(String, Val<String>)] {
        &self.dimensions
    }
    /// The statistic.
    pub fn get_statistic(&self) -> Statistic {
        self.statistic
    }
    /// The period.
    pub fn get_period(&self) -> Duration {
        self.period
    }

    fn period_seconds(&self, path: &str) -> Result<i64, ConstructError> {
        let s = self.period.as_secs();
        if self.period.subsec_nanos() == 0 && (s == 10 || s == 30 || (s > 0 && s % 60 == 0)) {
            Ok(s as i64)
        } else {
            Err(ConstructError::invalid(
                path,
                format!(
                    "the period of metric {}/{} must be 10 seconds, 30 seconds or a multiple of 1 minute, got {}",
                    self.namespace,
                    self.metric_name,
                    human(self.period)
                ),
            ))
        }
    }
}

/// Something an alarm notifies when it fires (CDK's `IAlarmAction`): an SNS topic
/// ([`super::sns::Topic`] implements it).
///
/// The alarm module knows nothing of the services that can be actions; each implements this trait where it is
/// defined, so that `cloudwatch` depends on none of them.
pub trait AlarmAction {
    /// Lets CloudWatch alarms deliver to the action (resource and key policies) and returns the ARN the alarm's
    /// `AlarmActions` names; an error names what keeps the alarm from using it, and the fix.
    fn bind_to_alarm(&self) -> Result<Val<String>, ConstructError>;
}

/// How an alarm compares the metric with the threshold.
pub use l1::alarm::ComparisonOperator;
/// How an alarm treats periods without data.
pub use l1::alarm::TreatMissingData;

/// Props of an [`Alarm`].
#[derive(Clone, Debug)]
pub struct AlarmProps {
    /// How the metric is compared with the threshold. Without it the alarm fires when the metric is greater than
    /// or equal to the threshold.
    pub comparison: ComparisonOperator,
    /// How many recent periods are evaluated (at least 1). Without it one period.
    pub evaluation_periods: u32,
    /// How many of the evaluated periods must breach (1 to `evaluation_periods`). Without it all of them.
    pub datapoints_to_alarm: Option<u32>,
    /// How periods without data count. Without it they count as not breaching, so an idle function's error
    /// alarm stays OK.
    pub treat_missing_data: TreatMissingData,
    /// What the alarm means and what to do, shown in notifications. Without it the alarm has no description.
    pub description: Option<String>,
    /// A fixed alarm name. Without it CloudFormation generates a unique name.
    pub alarm_name: Option<Val<String>>,
}

impl Default for AlarmProps {
    fn default() -> Self {
        AlarmProps {
            comparison: ComparisonOperator::GreaterThanOrEqualToThreshold,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            treat_missing_data: TreatMissingData::NotBreaching,
            description: None,
            alarm_name: None,
        }
    }
}

impl AlarmProps {
    /// Every check of the props (with the alarm's `metric` and `threshold`), before anything is built: the
    /// metric's period, the evaluation periods and datapoints, a finite threshold. Returns the period in seconds.
    fn validate(&self, path: &str, metric: &Metric, threshold: f64) -> Result<i64, ConstructError> {
        let period = metric.period_seconds(path)?;
        if self.evaluation_periods == 0 {
            return Err(ConstructError::invalid(
                path,
                "evaluation_periods must be at least 1, got 0",
            ));
        }
        if let Some(d) = self.datapoints_to_alarm {
            if d == 0 || d > self.evaluation_periods {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "datapoints_to_alarm must be from 1 to evaluation_periods ({}), got {d}",
                        self.evaluation_periods
                    ),
                ));
            }
        }
        if !threshold.is_finite() {
            return Err(ConstructError::invalid(
                path,
                format!("threshold must be a finite number, got {threshold}"),
            ));
        }
        Ok(period)
    }
}

/// A CloudWatch alarm on one metric.
///
/// An alarm without an action notifies no one; it is allowed (a dashboard may show it), but the rule pack
/// reports it. Add one with [`Alarm::add_alarm_action`].
#[derive(Clone, Debug)]
pub struct Alarm {
    handle: l1::AlarmHandle,
}

impl Alarm {
    /// An alarm at `<scope>/<id>` (logical ID `<Id>`) that fires when `metric` compared with `threshold` breaches.
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        metric: &Metric,
        threshold: f64,
        props: AlarmProps,
    ) -> Result<Alarm, ConstructError> {
        let scope = scope.as_scope().child(id);
        let period = props.validate(scope.path(), metric, threshold)?;
        let (statistic, extended) = match metric.statistic {
            Statistic::Average => (Some(l1::alarm::Statistic::Average), None),
            Statistic::Sum => (Some(l1::alarm::Statistic::Sum), None),
            Statistic::Minimum => (Some(l1::alarm::Statistic::Minimum), None),
            Statistic::Maximum => (Some(l1::alarm::Statistic::Maximum), None),
            Statistic::SampleCount => (Some(l1::alarm::Statistic::SampleCount), None),
            p @ Statistic::Percentile(_) => (None, Some(p.as_string())),
        };
        let alarm = l1::Alarm {
            alarm_name: props.alarm_name,
            alarm_description: props.description.map(Val::from),
            namespace: Some(metric.namespace.as_str().into()),
            metric_name: Some(metric.metric_name.as_str().into()),
            dimensions: (!metric.dimensions.is_empty()).then(|| {
                Val::from(
                    metric
                        .dimensions
                        .iter()
                        .map(|(k, v)| l1::alarm::Dimension {
                            name: Some(k.as_str().into()),
                            value: Some(v.clone()),
                        })
                        .collect::<Vec<_>>(),
                )
            }),
            statistic: statistic.map(Val::from),
            extended_statistic: extended.map(Val::from),
            period: Some(period.into()),
            evaluation_periods: Some(props.evaluation_periods.into()),
            datapoints_to_alarm: props.datapoints_to_alarm.map(Val::from),
            threshold: Some(Val::from(threshold)),
            comparison_operator: Some(props.comparison.into()),
            treat_missing_data: Some(props.treat_missing_data.into()),
            ..Default::default()
        };
        Ok(Alarm {
            handle: scope.add("Resource", alarm),
        })
    }

    /// Notifies `action` (an SNS topic) when the alarm fires. The action is bound first: a topic lets
    /// `cloudwatch.amazonaws.com` publish and use its key, and fails, naming the fix, when it is encrypted with
    /// the AWS-managed key (see [`AlarmAction`]).
    pub fn add_alarm_action(
        &self,
        action: &(impl AlarmAction + ?Sized),
    ) -> Result<(), ConstructError> {
        let arn = action.bind_to_alarm()?;
        let mut r = self.handle.resource_mut();
        let actions = r.alarm_actions.get_or_insert_with(Default::default);
        if !matches!(actions.raw(), Value::List(items) if items.contains(arn.raw())) {
            actions.push(arn);
        }
        Ok(())
    }

    /// Whether the alarm has at least one alarm action.
    pub fn has_alarm_actions(&self) -> bool {
        self.handle
            .resource()
            .alarm_actions
            .as_ref()
            .is_some_and(|a| !matches!(a.raw(), Value::List(items) if items.is_empty()))
    }
    /// The alarm ARN.
    pub fn alarm_arn(&self) -> Val<String> {
        self.handle.attr_arn()
    }
    /// The alarm name.
    pub fn alarm_name(&self) -> Val<String> {
        self.handle.ref_()
    }
}

impl Construct for Alarm {
    type L1 = l1::Alarm;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::AlarmHandle {
        &self.handle
    }
}

/// A widget of a [`Dashboard`]. Widgets are laid out left to right in rows 24 units wide, in the order added.
#[derive(Clone, Debug)]
pub enum Widget {
    /// A time-series graph of metrics.
    Graph {
        /// The title above the graph.
        title: String,
        /// The metrics drawn, one line each.
        metrics: Vec<Metric>,
        /// Width in grid units (of 24 per row).
        width: u32,
        /// Height in grid units.
        height: u32,
    },
    /// The state of alarms.
    AlarmStatus {
        /// The title above the alarms.
        title: String,
        /// The alarms' ARNs.
        alarms: Vec<Val<String>>,
        /// Width in grid units (of 24 per row).
        width: u32,
        /// Height in grid units.
        height: u32,
    },
    /// A Markdown text block.
    Text {
        /// The text, in Markdown.
        markdown: String,
        /// Width in grid units (of 24 per row).
        width: u32,
        /// Height in grid units.
        height: u32,
    },
}

impl Widget {
    /// A graph of `metrics`, 12 units wide and 6 high.
    pub fn graph(title: impl Into<String>, metrics: impl IntoIterator<Item = Metric>) -> Self {
        Widget::Graph {
            title: title.into(),
            metrics: metrics.into_iter().collect(),
            width: 12,
            height: 6,
        }
    }
    /// The status of `alarms`, 24 units wide and 3 high.
    pub fn alarm_status(title: impl Into<String>, alarms: &[&Alarm]) -> Self {
        Widget::AlarmStatus {
            title: title.into(),
            alarms: alarms.iter().map(|a| a.alarm_arn()).collect(),
            width: 24,
            height: 3,
        }
    }
    /// A Markdown text block, 24 units wide and 2 high.
    pub fn text(markdown: impl Into<String>) -> Self {
        Widget::Text {
            markdown: markdown.into(),
            width: 24,
            height: 2,
        }
    }
    /// Sets the size (width 1 to 24 units).
    pub fn size(mut self, w: u32, h: u32) -> Self {
        match &mut self {
            Widget::Graph { width, height, .. }
            | Widget::AlarmStatus { width, height, .. }
            | Widget::Text { width, height, .. } => {
                *width = w;
                *height = h;
            }
        }
        self
    }
    fn dims(&self) -> (u32, u32) {
        match self {
            Widget::Graph { width, height, .. }
            | Widget::AlarmStatus { width, height, .. }
            | Widget::Text { width, height, .. } => (*width, *height),
        }
    }
}

/// Props of a [`Dashboard`].
#[derive(Clone, Debug, Default)]
pub struct DashboardProps {
    /// A fixed dashboard name. Without it CloudFormation generates a unique name.
    pub dashboard_name: Option<Val<String>>,
}

/// A CloudWatch dashboard. Its body is a JSON string built with `Fn::Sub` (the region and the references of
/// metric dimensions and alarms are substituted), rewritten each time a widget is added; keys are sorted, so the
/// template is deterministic.
#[derive(Clone, Debug)]
pub struct Dashboard {
    handle: l1::DashboardHandle,
    widgets: Rc<RefCell<Vec<Widget>>>,
}

impl Dashboard {
    /// An empty dashboard at `<scope>/<id>` (logical ID `<Id>`); CloudFormation needs at least one widget, so
    /// add some.
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: DashboardProps,
    ) -> Result<Dashboard, ConstructError> {
        let scope = scope.as_scope().child(id);
        let dashboard = l1::Dashboard {
            dashboard_name: props.dashboard_name,
            dashboard_body: Some(Val::from(r#"{"widgets":[]}"#)),
        };
        Ok(Dashboard {
            handle: scope.add("Resource", dashboard),
            widgets: Rc::default(),
        })
    }

    /// Adds widgets, after those already there.
    pub fn add_widgets(
        &self,
        widgets: impl IntoIterator<Item = Widget>,
    ) -> Result<(), ConstructError> {
        let path = self.path().to_owned();
        let mut all = self.widgets.borrow_mut();
        for w in widgets {
            let (width, height) = w.dims();
            if !(1..=24).contains(&width) || height == 0 || height > 1000 {
                return Err(ConstructError::invalid(
                    &path,
                    format!("a widget must be 1 to 24 units wide and 1 to 1000 high, got {width}x{height}"),
                ));
            }
            if let Widget::Graph { metrics, .. } = &w {
                for m in metrics {
                    m.period_seconds(&path)?;
                }
            }
            all.push(w);
        }
        self.handle.resource_mut().dashboard_body = Some(render_body(&all));
        Ok(())
    }

    /// The dashboard name.
    pub fn dashboard_name(&self) -> Val<String> {
        self.handle.ref_()
    }
}

impl Construct for Dashboard {
    type L1 = l1::Dashboard;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::DashboardHandle {
        &self.handle
    }
}

/// Values of the body that are CloudFormation expressions, as `${V<n>}` variables of the `Fn::Sub`.
#[derive(Default)]
struct Vars {
    values: Vec<Val<String>>,
}

impl Vars {
    /// A JSON string for `v`: literals escaped for `Fn::Sub`, expressions as a variable.
    fn text(&mut self, v: &Val<String>) -> serde_json::Value {
        match v.raw() {
            Value::String(s) => serde_json::Value::String(escape(s)),
            _ => {
                let i = match self.values.iter().position(|x| x == v) {
                    Some(i) => i,
                    None => {
                        self.values.push(v.clone());
                        self.values.len() - 1
                    }
                };
                serde_json::Value::String(format!("${{V{i}}}"))
            }
        }
    }
}

/// `${` starts a variable in `Fn::Sub`; `${!` writes it literally.
fn escape(s: &str) -> String {
    s.replace("${", "${!")
}

fn render_body(widgets: &[Widget]) -> Val<String> {
    use serde_json::json;
    let mut vars = Vars::default();
    let (mut x, mut y, mut row_height) = (0u32, 0u32, 0u32);
    let mut rendered = Vec::new();
    for w in widgets {
        let (width, height) = w.dims();
        if x + width > 24 {
            x = 0;
            y += row_height;
            row_height = 0;
        }
        let (kind, properties) = match w {
            Widget::Graph { title, metrics, .. } => {
                let lines: Vec<serde_json::Value> = metrics
                    .iter()
                    .map(|m| {
                        let mut line =
                            vec![json!(escape(&m.namespace)), json!(escape(&m.metric_name))];
                        for (k, v) in &m.dimensions {
                            line.push(json!(escape(k)));
                            line.push(vars.text(v));
                        }
                        let mut opts = serde_json::Map::new();
                        opts.insert("stat".into(), json!(m.statistic.as_string()));
                        opts.insert("period".into(), json!(m.period.as_secs()));
                        if let Some(l) = &m.label {
                            opts.insert("label".into(), json!(escape(l)));
                        }
                        line.push(serde_json::Value::Object(opts));
                        serde_json::Value::Array(line)
                    })
                    .collect();
                (
                    "metric",
                    json!({
                        "title": escape(title),
                        "view": "timeSeries",
                        "region": "${AWS::Region}",
                        "stacked": false,
                        "metrics": lines,
                    }),
                )
            }
            Widget::AlarmStatus { title, alarms, .. } => (
                "alarm",
                json!({
                    "title": escape(title),
                    "alarms": alarms.iter().map(|a| vars.text(a)).collect::<Vec<_>>(),
                }),
            ),
            Widget::Text { markdown, .. } => ("text", json!({ "markdown": escape(markdown) })),
        };
        rendered.push(json!({
            "type": kind,
            "x": x,
            "y": y,
            "width": width,
            "height": height,
            "properties": properties,
        }));
        x += width;
        row_height = row_height.max(height);
    }
    // serde_json's map is sorted by key (no `preserve_order`), so the body is deterministic.
    let body = serde_json::to_string(&json!({ "widgets": rendered })).expect("JSON of literals");
    let vars: BTreeMap<String, Val<String>> = vars
        .values
        .into_iter()
        .enumerate()
        .map(|(i, v)| (format!("V{i}"), v))
        .collect();
    fns::sub_with(body, vars)
}
