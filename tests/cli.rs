//! The command line: help text, synth output on disk, atomic replacement, list.

use std::fs;

use cfnkit::cli::{run, Cli, CliError};
use cfnkit::rules::{SNS2, SNS3, SQS3, SQS4};
use cfnkit::synth::output::write_atomically;
use cfnkit::{App, RawResource};
use clap::{CommandFactory, Parser};

/// The rule pack's security checks are not what these tests are about; the fixture says so where it is built.
fn fixture(handle: &cfnkit::ResourceHandle) {
    for rule in [&SQS3, &SQS4, &SNS2, &SNS3] {
        cfnkit::rules::suppress(
            handle,
            rule,
            "CLI test fixture: exercises synth output, not security defaults",
        );
    }
}

fn two_stacks() -> Result<App, String> {
    let app = App::new();
    let base = app.stack("Base");
    let q = base.add_raw("Queue", RawResource::new("AWS::SQS::Queue"));
    fixture(&q);
    let t = app.stack("Consumer").add_raw(
        "Sub",
        RawResource::new("AWS::SNS::Topic")
            .prop("TopicName", q.get_att::<String>("QueueName").into_raw()),
    );
    fixture(&t);
    Ok(app)
}

fn cli(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("cfnkit").chain(args.iter().copied())).unwrap()
}

#[test]
fn help_is_clear() {
    let mut cmd = Cli::command();
    insta::assert_snapshot!("help", cmd.render_long_help().to_string());
    let synth = cmd.find_subcommand_mut("synth").unwrap();
    insta::assert_snapshot!("help_synth", synth.render_long_help().to_string());
}

#[test]
fn synth_writes_templates_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let report = run(
        cli(&["synth", "--out", out.to_str().unwrap(), "--format", "yaml"]),
        two_stacks,
    )
    .unwrap();
    assert!(
        report.contains("wrote 2 template(s) and manifest.json"),
        "{report}"
    );
    let mut files: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "Base.template.yaml",
            "Consumer.template.yaml",
            "manifest.json"
        ]
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["stacks"][0]["name"], "Base");
    assert_eq!(manifest["stacks"][1]["dependencies"][0], "Base");
    assert_eq!(
        manifest["stacks"][1]["imports"][0]["name"],
        "Base:Queue:QueueName"
    );
    let body = fs::read(out.join("Base.template.yaml")).unwrap();
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(manifest["stacks"][0]["sha256"], hash);

    // Selecting a stack writes only that one.
    run(
        cli(&["synth", "--out", out.to_str().unwrap(), "Consumer"]),
        two_stacks,
    )
    .unwrap();
    let files: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(out.join("Consumer.template.json").exists());
}

#[test]
fn a_failed_synth_leaves_the_previous_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(cli(&["synth", "--out", out.to_str().unwrap()]), two_stacks).unwrap();
    let before = fs::read_to_string(out.join("manifest.json")).unwrap();

    let broken = || {
        let app = two_stacks()?;
        app.stack("Broken").add_raw(
            "Bad",
            RawResource::new("AWS::SQS::Queue")
                .prop("X", cfnkit::fns::ref_logical("Missing").into_raw()),
        );
        Ok::<_, String>(app)
    };
    let err = run(cli(&["synth", "--out", out.to_str().unwrap()]), broken)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stack Broken (Bad): resource Bad (Broken/Bad): refers to Missing"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(out.join("manifest.json")).unwrap(),
        before
    );

    // A failure while writing (here: a file under a name that is already a file) also leaves it, and no
    // staging directory.
    let files = vec![
        ("ok.json".to_owned(), "{}".to_owned()),
        ("ok.json/dir.json".to_owned(), "{}".to_owned()),
    ];
    assert!(write_atomically(&out, &files).is_err());
    assert_eq!(
        fs::read_to_string(out.join("manifest.json")).unwrap(),
        before
    );
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["out"]);
}

#[test]
fn unknown_stack_and_bad_format_are_clear_errors() {
    let err = run(cli(&["synth", "Nope"]), two_stacks)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "no stack named \"Nope\" in this app; its stacks are: Base, Consumer"
    );
    let err = run(cli(&["synth", "consumer"]), two_stacks)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "no stack named \"consumer\" in this app (did you mean Consumer? stack names are case-sensitive); its \
         stacks are: Base, Consumer"
    );
    let err = Cli::try_parse_from(["cfnkit", "synth", "--format", "xml"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invalid value 'xml' for '--format <FORMAT>'")
            && err.contains("[possible values: json, yaml]"),
        "{err}"
    );
}

#[test]
fn removing_an_imported_export_is_refused_until_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    run(cli(&["synth", "--out", out_s]), two_stacks).unwrap();
    let without_consumer = || {
        let app = App::new();
        fixture(
            &app.stack("Base")
                .add_raw("Queue", RawResource::new("AWS::SQS::Queue")),
        );
        fixture(
            &app.stack("Consumer")
                .add_raw("Sub", RawResource::new("AWS::SNS::Topic")),
        );
        Ok::<_, String>(app)
    };
    let err = run(cli(&["synth", "--out", out_s]), without_consumer)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no longer exports Base:Queue:QueueName"),
        "{err}"
    );
    run(
        cli(&["synth", "--out", out_s, "--allow-export-removal"]),
        without_consumer,
    )
    .unwrap();
}

#[test]
fn rule_pack_errors_fail_synth_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let insecure = || {
        let app = App::new();
        app.stack("Base")
            .add_raw("Topic", RawResource::new("AWS::SNS::Topic"));
        Ok::<_, String>(app)
    };
    let err = run(cli(&["synth", "--out", out.to_str().unwrap()]), insecure).unwrap_err();
    assert!(matches!(err, CliError::Rules(_)), "{err}");
    let err = err.to_string();
    assert!(
        err.starts_with("the rule pack found errors; nothing was written:\n")
            && err.contains("error[SNS2] stack Base, Base/Topic (Topic)"),
        "{err}"
    );
    assert!(!out.exists());
    // Suppressed findings are counted, and listed with their reason only when asked.
    let report = run(cli(&["synth", "--out", out.to_str().unwrap()]), two_stacks).unwrap();
    assert!(!report.contains("suppressed[SQS4]"), "{report}");
    assert!(
        report.contains("suppressed (--show-suppressed lists them with their reasons)"),
        "{report}"
    );
    let report = run(
        cli(&["synth", "--show-suppressed", "--out", out.to_str().unwrap()]),
        two_stacks,
    )
    .unwrap();
    assert!(
        report.contains("suppressed[SQS4] stack Base, Base/Queue (Queue)"),
        "{report}"
    );
    assert!(report.contains("CLI test fixture"), "{report}");
}

#[test]
fn list_prints_deploy_order_with_dependencies() {
    let out = run(cli(&["list"]), two_stacks).unwrap();
    assert_eq!(out, "Base\nConsumer  after Base\n");
}

#[test]
fn out_must_be_new_empty_or_an_earlier_output() {
    let dir = tempfile::tempdir().unwrap();
    // A directory with other files (a source tree given by mistake) is refused, and left as it was.
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("main.rs"), "fn main() {}").unwrap();
    let err = run(cli(&["synth", "--out", src.to_str().unwrap()]), two_stacks)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is a directory that is not a synth output")
            && err.contains("choose a new or empty directory"),
        "{err}"
    );
    let left: Vec<_> = fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["main.rs"]);
    // An empty directory is taken, and then, holding a manifest, replaced again.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    for _ in 0..2 {
        run(
            cli(&["synth", "--out", empty.to_str().unwrap()]),
            two_stacks,
        )
        .unwrap();
    }
    assert!(empty.join("manifest.json").is_file());
    // A file, and a path with no name of its own, are refused with the fix.
    let file = empty.join("manifest.json");
    let err = run(cli(&["synth", "--out", file.to_str().unwrap()]), two_stacks)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("exists and is not a directory: choose another --out"),
        "{err}"
    );
    let err = run(cli(&["synth", "--out", "."]), two_stacks)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "could not write .: names no directory of its own: choose a new one, e.g. --out cfnkit.out"
    );
    // Where the staging directory cannot be made, the error names --out and the fix, not only our staging path.
    // (/proc takes no new directories, even from root.)
    #[cfg(target_os = "linux")]
    {
        let err = run(cli(&["synth", "--out", "/proc/cfnkit-out"]), two_stacks)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "could not write /proc/cfnkit-out: cannot create /proc/.cfnkit-out.staging-"
            ) && err.ends_with("choose an --out in a writable directory"),
            "{err}"
        );
    }
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
