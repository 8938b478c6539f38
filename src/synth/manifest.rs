//! `manifest.json`: what synth wrote, for the deploy command, for CI, and for people.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Assembly, Problem};

/// The manifest's format version; bumped on incompatible changes.
pub const VERSION: u32 = 1;

/// `manifest.json`: the stacks synth wrote and the assets they need, which `cargo cfn deploy` and `package` read,
/// and the next synth compares with (`removed_exports`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// The format version ([`VERSION`]) the manifest was written with.
    pub version: u32,
    /// `json` or `yaml`.
    pub format: String,
    /// Stacks in deploy order.
    pub stacks: Vec<ManifestStack>,
    /// Files the templates refer to (Lambda code bundles), uploaded before deploying.
    pub assets: Vec<ManifestAsset>,
}

/// One stack of the manifest: its template file and what deploying it needs to know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestStack {
    /// The CloudFormation stack name.
    pub name: String,
    /// The template's file name, relative to the manifest.
    pub template: String,
    /// SHA-256 of the template file, hex.
    pub sha256: String,
    /// The template file's size, which decides `requires_s3_upload`.
    pub bytes: usize,
    /// Over 51,200 bytes: deploy through an S3 upload rather than in the request body.
    pub requires_s3_upload: bool,
    /// Stacks that must be deployed first (they export what this one imports, or it was told to wait), sorted.
    pub dependencies: Vec<String>,
    /// The account and region the stack deploys to.
    pub environment: ManifestEnvironment,
    /// Whether CloudFormation refuses to delete the stack.
    pub termination_protection: bool,
    /// Stack tags (the app's, then the stack's own), which CloudFormation passes on to taggable resources.
    pub tags: BTreeMap<String, String>,
    /// The stack's exports; the next synth reads them to refuse removing one still imported.
    pub exports: Vec<ManifestExport>,
    /// The exports of other stacks this stack imports.
    pub imports: Vec<ManifestImport>,
    /// Outputs that stacks of other environments read with `Fn::GetStackOutput`; absent when there are none.
    /// Unlike exports, CloudFormation does not stop their removal (see `removed_exports`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weak_outputs: Vec<ManifestWeakOutput>,
    /// Outputs of stacks of other environments this stack reads with `Fn::GetStackOutput`; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weak_references: Vec<ManifestWeakReference>,
    /// Resources of this stack that were elsewhere before (`Stack::moved`); absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<ManifestMove>,
}

/// A resource of the stack that had another logical ID, or lived in another stack, in the deployed stacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestMove {
    /// The stack it was in (this stack, for a rename).
    pub from_stack: String,
    /// Its logical ID there.
    pub from: String,
    /// Its logical ID in this stack now.
    pub to: String,
}

/// Where a stack deploys; a `None` part is taken from the deploying credentials.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManifestEnvironment {
    /// The AWS account ID, when the stack names one.
    pub account: Option<String>,
    /// The region, when the stack names one.
    pub region: Option<String>,
}

/// An export of a stack: made by synth for a cross-stack reference, or kept by `Stack::export_value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestExport {
    /// The export name (`Base:EventBus:Arn`), which importers name in `Fn::ImportValue`.
    pub name: String,
    /// The logical ID of the output that carries it.
    pub output: String,
    /// The construct path of the exported element.
    pub element: String,
    /// The exported attribute (`Arn`), or `Ref` for a `Ref`.
    pub attribute: String,
    /// The stacks that import it; while one does, removing the export fails the deploy.
    pub imported_by: Vec<String>,
    /// Kept with `Stack::export_value`, so it stays even without importers.
    pub kept: bool,
}

/// An output made for stacks of other environments (a weak reference's producer side).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestWeakOutput {
    /// The output's logical ID (`OutputPlatformKeyArn`), which readers name in `Fn::GetStackOutput`.
    pub output: String,
    /// The construct path of the element whose value it carries.
    pub element: String,
    /// The attribute it carries (`Arn`), or `Ref` for a `Ref`.
    pub attribute: String,
    /// The stacks that read it.
    pub read_by: Vec<String>,
}

/// An output of another environment's stack that this stack reads with `Fn::GetStackOutput`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestWeakReference {
    /// The producing stack's name.
    pub from: String,
    /// The logical ID of the producer's output.
    pub output: String,
    /// The producer's region, when it is not this stack's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The producer's account, when it is not this stack's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// An export of another stack (same account and region) that this stack reads with `Fn::ImportValue`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestImport {
    /// The export name.
    pub name: String,
    /// The stack that exports it, which is deployed first.
    pub from: String,
}

/// A Lambda code zip the templates refer to (see `cfnkit::assets`). After `synth` it is not built yet
/// (`packaged: false`, the key has the hash placeholder); after `package` the zip is at `path` and the templates
/// name it by `key`: upload it to the bucket under that key before deploying.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestAsset {
    /// The binary's name, which is also the key's folder.
    pub name: String,
    /// The cargo package with the binary; `null` after `synth` for code given by binary name only
    /// (`Code::asset`), which `package` looks up in the workspace.
    pub package: Option<String>,
    /// The cargo binary target.
    pub bin: String,
    /// `arm64` or `x86_64`: the zip's binary runs on it, and so do the functions that use it.
    pub architecture: String,
    /// The Rust target the binary is (or will be) built for, with the glibc version (`...-gnu.2.34`).
    pub target: String,
    /// Whether `package` built the zip (`path`, `sha256`, `bytes` are then set).
    pub packaged: bool,
    /// The zip, relative to the manifest.
    #[serde(default)]
    pub path: Option<String>,
    /// Hex SHA-256 of the zip, as in the key.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The zip's size.
    #[serde(default)]
    pub bytes: Option<u64>,
    /// The bucket, an `Fn::Sub` pattern (`cfnkit-assets-${AWS::AccountId}-${AWS::Region}`).
    pub bucket: String,
    /// The S3 key the templates use.
    pub key: String,
    /// `Stack/LogicalId` of each function whose code it is.
    pub used_by: Vec<String>,
}

/// An OpenAPI document synth wrote beside the templates (`apis` in `manifest.json`, see [`crate::openapi`]).
///
/// Listed apart from [`Manifest`]'s fields (`Manifest::to_json_with_apis`), so that readers of the manifest that
/// predate the documents, and code that builds a `Manifest`, are unaffected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestApi {
    /// The stack that defines the API.
    pub stack: String,
    /// The API's logical ID.
    pub api: String,
    /// Which kind of API Gateway API it is (REST or HTTP), which decides the document's extensions.
    pub kind: crate::openapi::ApiKind,
    /// The document's file name, relative to the manifest (`<Stack>.<Api>.openapi.json`).
    pub document: String,
    /// SHA-256 of the document file, hex.
    pub sha256: String,
}

impl Manifest {
    /// The manifest as pretty-printed JSON with a final newline, without `apis` (see [`Manifest::to_json_with_apis`]).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the manifest serializes");
        s.push('\n');
        s
    }

    /// `manifest.json` as synth writes it: these fields, plus `apis` when the stacks define APIs.
    pub fn to_json_with_apis(&self, apis: &[ManifestApi]) -> String {
        if apis.is_empty() {
            return self.to_json();
        }
        #[derive(Serialize)]
        struct WithApis<'a> {
            #[serde(flatten)]
            manifest: &'a Manifest,
            apis: &'a [ManifestApi],
        }
        let mut s = serde_json::to_string_pretty(&WithApis {
            manifest: self,
            apis,
        })
        .expect("the manifest serializes");
        s.push('\n');
        s
    }

    /// The OpenAPI documents listed in a `manifest.json` text (none for a manifest without `apis`).
    pub fn apis_of(manifest_json: &str) -> Result<Vec<ManifestApi>, serde_json::Error> {
        #[derive(Deserialize)]
        struct Apis {
            #[serde(default)]
            apis: Vec<ManifestApi>,
        }
        Ok(serde_json::from_str::<Apis>(manifest_json)?.apis)
    }

    /// The stack of this name, if the manifest lists it.
    pub fn stack(&self, name: &str) -> Option<&ManifestStack> {
        self.stacks.iter().find(|s| s.name == name)
    }
}

/// The hazard of CDK issues 7602, 3414 and 5304: an export that another stack imported in the previous synth is
/// gone from its producer. Deploying the producer first fails (CloudFormation will not delete an export in use),
/// and deploying in dependency order does exactly that.
///
/// Weak references (`weakOutputs`, read with `Fn::GetStackOutput` across environments) are not checked:
/// CloudFormation lets their producer change or remove the output, and a consumer keeps the value it read at its
/// last deploy until it is deployed again, so there is no deploy that fails.
pub fn removed_exports(previous: &Manifest, next: &Assembly) -> Vec<Problem> {
    let mut problems = Vec::new();
    for old in &previous.stacks {
        let Some(new) = next.stack(&old.name) else {
            continue;
        };
        for e in old.exports.iter().filter(|e| !e.imported_by.is_empty()) {
            if new.exports.iter().any(|n| n.name == e.name) {
                continue;
            }
            problems.push(Problem::new(
                &old.name,
                Some(&e.element),
                format!(
                    "no longer exports {} ({} of {}), which {} imported in the previous synth. Deploying {} would \
                     fail while they still import it. Keep it one more release with \
                     `stack.export_value(&handle.{})`, deploy, then remove that call; or pass \
                     --allow-export-removal if the importers are already deployed without it",
                    e.name,
                    e.attribute,
                    e.element,
                    e.imported_by.join(", "),
                    old.name,
                    if e.attribute == "Ref" { "ref_()".to_owned() } else { format!("get_att(\"{}\")", e.attribute) },
                ),
            ));
        }
    }
    problems
}
