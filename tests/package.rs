//! `cfnkit package`: assets found in the templates, built, zipped, hashed and substituted; the manifest's asset
//! list; the refusals (wrong architecture, missing standard library, unknown binary).
//!
//! Most tests use a fake builder that writes small ELF files, so they run anywhere in milliseconds. The tests
//! named `real_*` build tests/fixtures/lambda-fixture with the real cargo-zigbuild: they run when
//! `CFNKIT_TEST_ZIGBUILD=1` (runtime/ci.sh sets it after installing the pinned tools) and then fail if the tools
//! are missing; without it they print that they were skipped.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cfnkit::assets::build::{AssetProfile, Builder, Workspace, Zigbuild};
use cfnkit::assets::package::{check_handlers, check_targets, package, Packaged};
use cfnkit::assets::{AssetError, AssetUse};
use cfnkit::cli::{run, Cli};
use cfnkit::constructs::lambda::{Architecture, Code, Function, FunctionProps, Tracing};
use cfnkit::synth::output::{render, render_with_assets};
use cfnkit::synth::{synth, Assembly};
use cfnkit::App;
use clap::Parser;
use serde_json::{json, Value};

const PLACEHOLDER_KEY: &str = "assets/hello/__CFNKIT_ASSET_HASH__.zip";

/// X-Ray's `Resource: *` (IAM5 in the rule pack) is beside the point here: tracing off.
fn props(architecture: Architecture) -> FunctionProps<'static> {
    FunctionProps {
        architecture,
        tracing: Tracing::Disabled,
        ..Default::default()
    }
}

fn app(package: &str) -> App {
    let app = App::new();
    let s = app.stack("Fns").scope();
    Function::new(
        &s,
        "Arm",
        Code::cargo_bin(package, "hello"),
        props(Architecture::Arm64),
    )
    .unwrap();
    Function::new(
        &s,
        "ArmToo",
        Code::cargo_bin(package, "hello"),
        props(Architecture::Arm64),
    )
    .unwrap();
    Function::new(
        &s,
        "Intel",
        Code::asset("hello"),
        props(Architecture::X86_64),
    )
    .unwrap();
    Function::new(
        &s,
        "Prebuilt",
        Code::cargo_bin(package, "goodbye").with_hash("abc123"),
        props(Architecture::Arm64),
    )
    .unwrap();
    app
}

fn template(assembly: &Assembly) -> Value {
    serde_json::from_str(&assembly.stack("Fns").unwrap().template.to_json()).unwrap()
}

fn key_of(t: &Value, id: &str) -> String {
    t["Resources"][id]["Properties"]["Code"]["S3Key"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An ELF header for `arch` followed by `body`: what the package step reads.
fn fake_elf(arch: Architecture, body: &str) -> Vec<u8> {
    let mut b = vec![0u8; 64];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[18] = match arch {
        Architecture::Arm64 => 0xb7,
        Architecture::X86_64 => 0x3e,
    };
    b.extend_from_slice(body.as_bytes());
    b
}

/// Writes `<dir>/<arch>/<bin>` as a fake ELF of `claimed` (or of the requested architecture) and records calls.
struct FakeBuilder {
    dir: PathBuf,
    claimed: Option<Architecture>,
    profile: AssetProfile,
    calls: RefCell<Vec<(String, Vec<String>, Architecture)>>,
}

impl FakeBuilder {
    fn new(dir: &Path) -> FakeBuilder {
        FakeBuilder {
            dir: dir.to_path_buf(),
            claimed: None,
            profile: AssetProfile::Release,
            calls: RefCell::new(Vec::new()),
        }
    }
}

impl Builder for FakeBuilder {
    fn build(
        &self,
        package: &str,
        bins: &[String],
        architecture: Architecture,
    ) -> Result<BTreeMap<String, PathBuf>, AssetError> {
        self.calls
            .borrow_mut()
            .push((package.to_owned(), bins.to_vec(), architecture));
        let dir = self.dir.join(architecture.as_str());
        std::fs::create_dir_all(&dir).unwrap();
        Ok(bins
            .iter()
            .map(|b| {
                let p = dir.join(b);
                let arch = self.claimed.unwrap_or(architecture);
                std::fs::write(&p, fake_elf(arch, &format!("{package}/{b}"))).unwrap();
                (b.clone(), p)
            })
            .collect())
    }

    fn profile(&self) -> AssetProfile {
        self.profile
    }
}

fn resolve_to(package: &'static str) -> impl Fn(&AssetUse) -> Result<String, AssetError> {
    move |u| Ok(u.spec.package.clone().unwrap_or_else(|| package.to_owned()))
}

#[test]
fn plain_synth_keeps_the_placeholder_and_lists_the_assets_unpackaged() {
    let assembly = synth(&app("fixture")).unwrap();
    let t = template(&assembly);
    assert_eq!(key_of(&t, "Arm"), PLACEHOLDER_KEY);
    assert_eq!(key_of(&t, "Intel"), PLACEHOLDER_KEY);
    assert_eq!(key_of(&t, "Prebuilt"), "assets/goodbye/abc123.zip");
    assert_eq!(
        t["Resources"]["Intel"]["Metadata"]["cfnkit:asset"],
        json!({"architecture": "x86_64", "bin": "hello"})
    );
    let manifest = render(&assembly, Default::default(), &[]).unwrap().manifest;
    let listed = serde_json::to_value(&manifest.assets).unwrap();
    assert_eq!(
        listed,
        json!([
            {
                "name": "goodbye", "package": "fixture", "bin": "goodbye", "architecture": "arm64",
                "target": "aarch64-unknown-linux-gnu.2.34", "packaged": false, "path": null, "sha256": null,
                "bytes": null, "bucket": "cfnkit-assets-${AWS::AccountId}-${AWS::Region}",
                "key": "assets/goodbye/abc123.zip", "usedBy": ["Fns/Prebuilt"]
            },
            {
                "name": "hello", "package": "fixture", "bin": "hello", "architecture": "arm64",
                "target": "aarch64-unknown-linux-gnu.2.34", "packaged": false, "path": null, "sha256": null,
                "bytes": null, "bucket": "cfnkit-assets-${AWS::AccountId}-${AWS::Region}",
                "key": PLACEHOLDER_KEY, "usedBy": ["Fns/Arm", "Fns/ArmToo"]
            },
            {
                "name": "hello", "package": null, "bin": "hello", "architecture": "x86_64",
                "target": "x86_64-unknown-linux-gnu.2.34", "packaged": false, "path": null, "sha256": null,
                "bytes": null, "bucket": "cfnkit-assets-${AWS::AccountId}-${AWS::Region}",
                "key": PLACEHOLDER_KEY, "usedBy": ["Fns/Intel"]
            }
        ])
    );
    // Synthesizing again gives the same bytes: nothing depends on a build.
    let again = render(&synth(&app("fixture")).unwrap(), Default::default(), &[]).unwrap();
    assert_eq!(
        render(&assembly, Default::default(), &[]).unwrap().files,
        again.files
    );
}

#[test]
fn package_builds_each_package_and_architecture_once_and_substitutes_the_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let builder = FakeBuilder::new(dir.path());
    let mut assembly = synth(&app("fixture")).unwrap();
    let packaged = package(&mut assembly, &[], resolve_to("fixture"), &builder).unwrap();

    // The prebuilt one (hash given in code) is not built; arm64 and x86_64 are two builds.
    assert_eq!(
        *builder.calls.borrow(),
        [
            (
                "fixture".to_owned(),
                vec!["hello".to_owned()],
                Architecture::Arm64
            ),
            (
                "fixture".to_owned(),
                vec!["hello".to_owned()],
                Architecture::X86_64
            ),
        ]
    );
    assert_eq!(packaged.len(), 2);
    let arm = packaged
        .iter()
        .find(|p| p.spec.architecture == Architecture::Arm64)
        .unwrap();
    let intel = packaged
        .iter()
        .find(|p| p.spec.architecture == Architecture::X86_64)
        .unwrap();
    assert_ne!(
        arm.sha256, intel.sha256,
        "different binaries, different keys"
    );
    assert_eq!(arm.sha256, cfnkit::assets::bundle::sha256_hex(&arm.zip));
    assert_eq!(arm.package, "fixture");
    assert_eq!(intel.package, "fixture", "resolved for Code::asset");

    let t = template(&assembly);
    assert_eq!(
        key_of(&t, "Arm"),
        format!("assets/hello/{}.zip", arm.sha256)
    );
    assert_eq!(key_of(&t, "ArmToo"), key_of(&t, "Arm"));
    assert_eq!(
        key_of(&t, "Intel"),
        format!("assets/hello/{}.zip", intel.sha256)
    );
    assert_eq!(key_of(&t, "Prebuilt"), "assets/goodbye/abc123.zip");
    assert!(!assembly
        .stack("Fns")
        .unwrap()
        .template
        .to_json()
        .contains("__CFNKIT_ASSET_HASH__"));

    let manifest = render_with_assets(&assembly, Default::default(), &[], &packaged)
        .unwrap()
        .manifest;
    let entry = |arch: &str| {
        manifest
            .assets
            .iter()
            .find(|a| a.architecture == arch && a.bin == "hello")
            .unwrap()
            .clone()
    };
    let a = entry("arm64");
    assert!(a.packaged);
    assert_eq!(a.sha256.as_deref(), Some(arm.sha256.as_str()));
    assert_eq!(a.key, format!("assets/hello/{}.zip", arm.sha256));
    assert_eq!(
        a.path.as_deref(),
        Some(a.key.as_str()),
        "the zip's path is its key"
    );
    assert_eq!(a.bytes, Some(arm.zip.len() as u64));
    assert_eq!(a.used_by, ["Fns/Arm", "Fns/ArmToo"]);
    let i = entry("x86_64");
    assert_eq!(i.package.as_deref(), Some("fixture"));
    assert!(i.packaged);
    let files = cfnkit::assets::package::files(&packaged);
    assert!(files
        .iter()
        .any(|(name, bytes)| *name == a.key && *bytes == arm.zip));
}

#[test]
fn a_dev_build_is_keyed_dev_so_it_is_never_taken_for_a_release_zip() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = FakeBuilder::new(dir.path());
    builder.profile = AssetProfile::Dev;
    let mut assembly = synth(&app("fixture")).unwrap();
    let packaged = package(&mut assembly, &[], resolve_to("fixture"), &builder).unwrap();
    let arm = packaged
        .iter()
        .find(|p| p.spec.architecture == Architecture::Arm64)
        .unwrap();
    assert_eq!(arm.profile, AssetProfile::Dev);
    let dev_key = format!("assets/hello/dev-{}.zip", arm.sha256);
    assert_eq!(arm.key(), dev_key);
    assert_eq!(key_of(&template(&assembly), "Arm"), dev_key);
    // A hash given in code is not built, so it keeps its key.
    assert_eq!(
        key_of(&template(&assembly), "Prebuilt"),
        "assets/goodbye/abc123.zip"
    );
    let manifest = render_with_assets(&assembly, Default::default(), &[], &packaged)
        .unwrap()
        .manifest;
    let entry = manifest
        .assets
        .iter()
        .find(|a| a.architecture == "arm64" && a.bin == "hello")
        .unwrap();
    assert!(entry.packaged);
    assert_eq!(entry.key, dev_key);
    assert_eq!(entry.path.as_deref(), Some(dev_key.as_str()));
    assert_eq!(
        entry.sha256.as_deref(),
        Some(arm.sha256.as_str()),
        "the hash is the zip's own"
    );
    assert!(cfnkit::assets::package::files(&packaged)
        .iter()
        .any(|(name, _)| *name == dev_key));
}

#[test]
fn a_binary_of_the_wrong_architecture_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = FakeBuilder::new(dir.path());
    builder.claimed = Some(Architecture::X86_64);
    let mut assembly = synth(&app("fixture")).unwrap();
    let e = package(&mut assembly, &[], resolve_to("fixture"), &builder)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("is an x86_64 executable, but it is packaged for Fns/Arm, Fns/ArmToo, which run(s) on arm64"),
        "{e}"
    );
}

#[test]
fn a_missing_standard_library_is_refused_before_building() {
    let assembly = synth(&app("fixture")).unwrap();
    let e = check_targets(&assembly, &[], |a| a == Architecture::X86_64)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Fns/Arm, Fns/ArmToo run(s) on arm64, but the Rust standard library for aarch64-unknown-linux-gnu is not \
         installed, so hello cannot be built for it. Install it (`rustup target add aarch64-unknown-linux-gnu`), \
         or make the function's architecture one this toolchain builds (FunctionProps::architecture)"
    );
    check_targets(&assembly, &[], |_| true).unwrap();
}

#[test]
fn a_selection_packages_only_the_chosen_stacks_assets() {
    let app = app("fixture");
    Function::new(
        &app.stack("Other").scope(),
        "Other",
        Code::cargo_bin("fixture", "other"),
        props(Architecture::Arm64),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let builder = FakeBuilder::new(dir.path());
    let mut assembly = synth(&app).unwrap();
    let packaged = package(
        &mut assembly,
        &["Other".to_owned()],
        resolve_to("fixture"),
        &builder,
    )
    .unwrap();
    assert_eq!(packaged.len(), 1);
    assert_eq!(packaged[0].spec.bin, "other");
    assert_eq!(key_of(&template(&assembly), "Arm"), PLACEHOLDER_KEY);
}

#[test]
fn a_bad_asset_name_is_refused_at_construction() {
    let app = App::new();
    let e = Function::new(
        &app.stack("Fns").scope(),
        "F",
        Code::cargo_bin("fixture", "../etc"),
        props(Architecture::Arm64),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "Fns/F: an asset's binary must be letters, digits, `-` or `_` (a cargo package or binary name, a hex \
         hash), got \"../etc\""
    );
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lambda-fixture")
}

/// A copy of the fixture crate at `dest` (so builds at two paths can be compared).
fn copy_fixture(dest: &Path) {
    for rel in [
        "Cargo.toml",
        "Cargo.lock",
        "src/bin/hello.rs",
        "src/bin/goodbye.rs",
    ] {
        let to = dest.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture_dir().join(rel), to).unwrap();
    }
}

/// Type-checking on the host needs only cargo (no zig, no Lambda target), so it runs everywhere.
#[test]
fn check_handlers_type_checks_the_binaries_the_templates_name_and_reports_the_compiler_error() {
    let tmp = tempfile::tempdir().unwrap();
    let ws_dir = tmp.path().join("ws");
    copy_fixture(&ws_dir);
    let ws = Workspace::load(&ws_dir).unwrap();
    let assembly = synth(&app("lambda-fixture")).unwrap();
    // The prebuilt `goodbye` (a hash given in code) is not built by `package`, so not checked either.
    assert_eq!(
        check_handlers(&assembly, &[], &ws).unwrap(),
        ["lambda-fixture/hello"]
    );

    std::fs::write(
        ws_dir.join("src/bin/hello.rs"),
        "fn main() {\n    let n: u32 = \"three\";\n    println!(\"{n}\");\n}\n",
    )
    .unwrap();
    let e = check_handlers(&assembly, &[], &ws).unwrap_err().to_string();
    assert!(
        e.contains("a binary that a function runs does not compile on this machine"),
        "{e}"
    );
    assert!(e.contains("error[E0308]: mismatched types"), "{e}");
    assert!(
        e.contains("src/bin/hello.rs:2:18"),
        "the compiler's location: {e}"
    );
}

#[test]
fn check_handlers_refuses_a_binary_the_workspace_does_not_have_before_compiling() {
    let tmp = tempfile::tempdir().unwrap();
    let ws_dir = tmp.path().join("ws");
    copy_fixture(&ws_dir);
    let ws = Workspace::load(&ws_dir).unwrap();
    let app = App::new();
    Function::new(
        &app.stack("Fns").scope(),
        "Renamed",
        Code::cargo_bin("lambda-fixture", "helo"),
        props(Architecture::Arm64),
    )
    .unwrap();
    let e = check_handlers(&synth(&app).unwrap(), &[], &ws)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "package \"lambda-fixture\" has no binary named \"helo\" (used by Fns/Renamed); its binaries are: goodbye, hello"
    );
}

fn real_tests_enabled(name: &str) -> bool {
    let on = std::env::var("CFNKIT_TEST_ZIGBUILD").as_deref() == Ok("1");
    if !on {
        eprintln!(
            "{name}: skipped (set CFNKIT_TEST_ZIGBUILD=1 with cargo-zigbuild and zig on PATH)"
        );
    }
    on
}

fn real_package(workspace: &Path, target_dir: &Path) -> Vec<Packaged> {
    let mut ws = Workspace::load(workspace).unwrap();
    ws.target_dir = target_dir.to_path_buf();
    let builder = Zigbuild::new(ws.clone());
    let mut assembly = synth(&app("lambda-fixture")).unwrap();
    package(
        &mut assembly,
        &[],
        |u| {
            ws.resolve(
                u.spec.package.as_deref(),
                &u.spec.bin,
                &u.used_by.join(", "),
            )
        },
        &builder,
    )
    .unwrap()
}

#[test]
fn real_zigbuild_gives_the_same_zips_from_another_path_and_target_dir() {
    if !real_tests_enabled("real_zigbuild_gives_the_same_zips_from_another_path_and_target_dir") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (
        tmp.path().join("one/src-a"),
        tmp.path().join("two/elsewhere/src-b"),
    );
    copy_fixture(&one);
    copy_fixture(&two);
    let a = real_package(&one, &tmp.path().join("target-a"));
    let b = real_package(&two, &tmp.path().join("target-b"));
    let hashes = |v: &[Packaged]| {
        v.iter()
            .map(|p| (p.spec.clone(), p.sha256.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(a.len(), 2);
    assert_eq!(hashes(&a), hashes(&b));

    // The x86_64 bootstrap runs here (the host is x86_64 with a newer glibc than the 2.34 it was linked for).
    if cfg!(target_arch = "x86_64") {
        let intel = a
            .iter()
            .find(|p| p.spec.architecture == Architecture::X86_64)
            .unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&intel.zip)).unwrap();
        let bootstrap = tmp.path().join("bootstrap");
        let mut out = std::fs::File::create(&bootstrap).unwrap();
        std::io::copy(&mut archive.by_name("bootstrap").unwrap(), &mut out).unwrap();
        drop(out);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ran = std::process::Command::new(&bootstrap).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&ran.stdout), "hello from x86_64\n");
    }
}

#[test]
fn real_package_command_writes_templates_manifest_and_zips() {
    if !real_tests_enabled("real_package_command_writes_templates_manifest_and_zips") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    copy_fixture(&ws);
    let out = tmp.path().join("out");
    let cli = Cli::try_parse_from([
        "cfnkit",
        "package",
        "--workspace",
        ws.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    let report = run(cli, || Ok::<_, String>(app("lambda-fixture"))).unwrap();
    assert!(report.contains("packaged 2 asset(s)"), "{report}");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let template = std::fs::read_to_string(out.join("Fns.template.json")).unwrap();
    for a in manifest["assets"].as_array().unwrap() {
        if a["bin"] == "goodbye" {
            assert_eq!(a["packaged"], false);
            continue;
        }
        assert_eq!(a["packaged"], true);
        let zip = std::fs::read(out.join(a["path"].as_str().unwrap())).unwrap();
        assert_eq!(
            cfnkit::assets::bundle::sha256_hex(&zip),
            a["sha256"].as_str().unwrap()
        );
        assert!(template.contains(a["key"].as_str().unwrap()));
    }
    assert!(!template.contains("__CFNKIT_ASSET_HASH__"));
}

#[test]
fn real_dev_zigbuild_gives_dev_keys_and_a_bootstrap_that_runs() {
    if !real_tests_enabled("real_dev_zigbuild_gives_dev_keys_and_a_bootstrap_that_runs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ws_dir = tmp.path().join("ws");
    copy_fixture(&ws_dir);
    let ws = Workspace::load(&ws_dir).unwrap();
    let builder = Zigbuild {
        profile: AssetProfile::Dev,
        ..Zigbuild::new(ws.clone())
    };
    let mut assembly = synth(&app("lambda-fixture")).unwrap();
    let packaged = package(
        &mut assembly,
        &[],
        |u| {
            ws.resolve(
                u.spec.package.as_deref(),
                &u.spec.bin,
                &u.used_by.join(", "),
            )
        },
        &builder,
    )
    .unwrap();
    assert_eq!(packaged.len(), 2);
    for p in &packaged {
        assert_eq!(p.key(), format!("assets/hello/dev-{}.zip", p.sha256));
    }
    assert!(ws
        .target_dir
        .join("aarch64-unknown-linux-gnu/lambda-dev/hello")
        .is_file());
    if cfg!(target_arch = "x86_64") {
        let intel = packaged
            .iter()
            .find(|p| p.spec.architecture == Architecture::X86_64)
            .unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&intel.zip)).unwrap();
        let bootstrap = tmp.path().join("bootstrap");
        let mut out = std::fs::File::create(&bootstrap).unwrap();
        std::io::copy(&mut archive.by_name("bootstrap").unwrap(), &mut out).unwrap();
        drop(out);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ran = std::process::Command::new(&bootstrap).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&ran.stdout), "hello from x86_64\n");
    }
}

/// A gradually deployed function's version names its code's key, so new code publishes a new version: `package`
/// puts the function's own hash there too (the two `hello` builds differ by architecture).
#[test]
fn package_puts_the_hash_in_a_gradually_deployed_functions_version() {
    let dir = tempfile::tempdir().unwrap();
    let builder = FakeBuilder::new(dir.path());
    let app = App::new();
    let s = app.stack("Fns").scope();
    Function::new(
        &s,
        "Arm",
        Code::cargo_bin("fixture", "hello"),
        props(Architecture::Arm64),
    )
    .unwrap();
    let mut intel = Function::new(
        &s,
        "Intel",
        Code::cargo_bin("fixture", "hello"),
        props(Architecture::X86_64),
    )
    .unwrap();
    intel
        .deploy_gradually(cfnkit::constructs::codedeploy::DeployGraduallyProps::default())
        .unwrap();
    let mut assembly = synth(&app).unwrap();
    package(&mut assembly, &[], resolve_to("fixture"), &builder).unwrap();
    let t = template(&assembly);
    let description = t["Resources"]["IntelVersion"]["Properties"]["Description"]
        .as_str()
        .unwrap();
    assert!(
        description.starts_with(&format!("code {}, configuration ", key_of(&t, "Intel"))),
        "{description}"
    );
    assert_ne!(key_of(&t, "Intel"), key_of(&t, "Arm"));
}
