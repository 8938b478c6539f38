//! A synthetic app for the synth benchmark: 10 stacks of 500 resources, each stack importing 50 values from the
//! previous one. Run it like the platform: `cargo run --release --example synthetic -- synth --out DIR`.

use cfnkit::{fns, App, RawResource, TagFormat, Value};

const STACKS: usize = 10;
const RESOURCES: usize = 500;
const IMPORTS: usize = 50;

fn app() -> Result<App, String> {
    let app = App::new();
    app.add_tag("bench", "synthetic");
    let mut previous: Vec<cfnkit::ResourceHandle> = Vec::new();
    for s in 0..STACKS {
        let stack = app.stack(&format!("Synthetic{s}"));
        let mut current = Vec::with_capacity(RESOURCES);
        for r in 0..RESOURCES {
            let mut q = RawResource::new("AWS::SQS::Queue")
                .prop("VisibilityTimeout", 180)
                .prop("MessageRetentionPeriod", 1_209_600)
                .prop("KmsMasterKeyId", "alias/aws/sqs")
                .prop(
                    "QueueName",
                    fns::sub(format!("${{AWS::StackName}}-q{r}")).into_raw(),
                )
                .taggable(TagFormat::LIST);
            if let Some(dlq) = previous.get(r).filter(|_| r < IMPORTS) {
                q = q.prop(
                    "RedrivePolicy",
                    Value::map([
                        (
                            "deadLetterTargetArn",
                            dlq.get_att::<String>("Arn").into_raw(),
                        ),
                        ("maxReceiveCount", Value::from(3)),
                    ]),
                );
            }
            let handle = stack.add_raw(&format!("Queue{r}"), q);
            // The benchmark measures synth, not security defaults; the rule pack still runs over every queue.
            for rule in [&cfnkit::rules::SQS3, &cfnkit::rules::SQS4] {
                cfnkit::rules::suppress(&handle, rule, "synth benchmark fixture");
            }
            current.push(handle);
        }
        previous = current;
    }
    Ok(app)
}

fn main() -> std::process::ExitCode {
    cfnkit::cli::main(app)
}
