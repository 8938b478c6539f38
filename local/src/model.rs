//! The app as the local run sees it: resources with every intrinsic resolved to its local value.
//!
//! The local run gives each resource the physical name and ARN it has in the emulator (account
//! [`LocalApp::account`], region [`LocalApp::region`]), then resolves `Ref`, `Fn::GetAtt`, `Fn::Sub`,
//! `Fn::Join`, `Fn::ImportValue` and parameters across stacks, so every module downstream reads plain JSON.
//!
//! Names are made as CloudFormation makes them (`<stack>-<LogicalId>-<SUFFIX>`, truncated to the type's limit,
//! lower case for buckets, `.fifo` kept for FIFO queues), with a suffix derived from the stack and logical ID
//! instead of a random one, so two runs of the same app name everything alike.
//!
//! ```
//! use cfnkit::{App, RawResource};
//! use cfnkit_local::model::{LoadOptions, Templates};
//!
//! let app = App::new();
//! let stack = app.stack("Demo");
//! stack.add_raw("Jobs", RawResource::new("AWS::SQS::Queue"));
//! let local = Templates::from_app(&app).unwrap().resolve(&LoadOptions::default()).unwrap();
//! let queue = local.resource("Demo", "Jobs").unwrap();
//! assert!(queue.physical_id.starts_with("https://sqs.us-east-1.amazonaws.com/123456789012/Demo-Jobs-"));
//! ```

mod names;
mod resolve;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use names::arn_of;

/// moto's default account: what the emulator answers for every request that does not name another.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The region the local run plays unless told otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Every stack of the app, resolved.
#[derive(Clone, Debug, Default)]
pub struct LocalApp {
    /// The account the emulator plays (moto's default, `123456789012`).
    pub account: String,
    /// The region the emulator plays.
    pub region: String,
    /// The stacks, in deploy order.
    pub stacks: Vec<LocalStack>,
}

/// One stack's resources, resolved.
#[derive(Clone, Debug, Default)]
pub struct LocalStack {
    /// The stack name (`Order`).
    pub name: String,
    /// By logical ID.
    pub resources: BTreeMap<String, LocalResource>,
    /// The stack's outputs by logical ID, resolved.
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// The stack's exports by export name, resolved.
    pub exports: BTreeMap<String, serde_json::Value>,
    /// The value each parameter took (its default, or an override).
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// The OpenAPI document of each REST and HTTP API, by the API's logical ID: what synth writes as
    /// `<Stack>.<Api>.openapi.json`, read off the unresolved template ([`cfnkit::openapi`]), so the local API
    /// serves the same document at `/openapi.json`.
    pub openapi: BTreeMap<String, serde_json::Value>,
}

/// One resource with its intrinsics resolved.
#[derive(Clone, Debug)]
pub struct LocalResource {
    /// The logical ID.
    pub logical_id: String,
    /// The CloudFormation type (`AWS::Lambda::Function`).
    pub type_name: String,
    /// `Properties`, with every intrinsic replaced by its local value (plain JSON).
    pub properties: serde_json::Value,
    /// What `Ref` returns locally (a table's name, a queue's URL, a function's name...).
    pub physical_id: String,
    /// The resource's ARN locally, for types that have one.
    pub arn: Option<String>,
    /// The template's `Metadata` (cfnkit's asset metadata names a function's package and binary).
    pub metadata: serde_json::Value,
    /// Its name where the type has one beside `Ref` (a queue's name, a topic's name, a secret's name).
    pub name: String,
}

impl LocalApp {
    /// A resource by stack name and logical ID.
    pub fn resource(&self, stack: &str, logical_id: &str) -> Option<&LocalResource> {
        self.stacks
            .iter()
            .find(|s| s.name == stack)
            .and_then(|s| s.resources.get(logical_id))
    }

    /// Every resource of a type, with its stack's name.
    pub fn of_type<'a>(
        &'a self,
        type_name: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a LocalResource)> + 'a {
        self.stacks.iter().flat_map(move |s| {
            s.resources
                .values()
                .filter(move |r| r.type_name == type_name)
                .map(move |r| (s.name.as_str(), r))
        })
    }

    /// Every resource of the app, with its stack's name.
    pub fn resources(&self) -> impl Iterator<Item = (&str, &LocalResource)> + '_ {
        self.stacks
            .iter()
            .flat_map(|s| s.resources.values().map(move |r| (s.name.as_str(), r)))
    }

    /// The resource whose ARN, `Ref` value or name is `value`, of type `type_name`: how event sources, targets
    /// and subscriptions find what a resolved property names.
    pub fn find(&self, type_name: &str, value: &str) -> Option<(&str, &LocalResource)> {
        self.resources().find(|(_, r)| {
            r.type_name == type_name
                && (r.arn.as_deref() == Some(value) || r.physical_id == value || r.name == value)
        })
    }
}

/// The values the local run chooses, and the parameter values it is given.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The account (moto's default unless changed).
    pub account: String,
    /// The region.
    pub region: String,
    /// Parameter values: `KEY` for every stack that declares it, `STACK:KEY` for one (which wins).
    pub parameters: BTreeMap<String, String>,
    /// Attribute values only the emulator knows once the resource exists (a table's `StreamArn`, a secret's
    /// ARN with its random suffix), by `(stack, logical ID)` then attribute (`Ref` for the `Ref` value).
    pub actual: BTreeMap<(String, String), BTreeMap<String, String>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            account: DEFAULT_ACCOUNT.to_owned(),
            region: DEFAULT_REGION.to_owned(),
            parameters: BTreeMap::new(),
            actual: BTreeMap::new(),
        }
    }
}

/// Why the app could not be loaded or resolved.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file of the cloud assembly could not be read.
    #[error("cannot read {path}: {source}; run the app's synth first (`cargo run -- synth`)")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file of the cloud assembly is not what synth writes.
    #[error("{path} is not a cfnkit manifest or template: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The app failed to synthesize.
    #[error("the app does not synthesize: {0}")]
    Synth(String),
    /// A stack named on the command line is not in the app.
    #[error("no stack {name} in the app; its stacks are: {available}")]
    UnknownStack {
        /// The name given.
        name: String,
        /// The app's stacks.
        available: String,
    },
    /// A parameter has neither a value nor a default.
    #[error("stack {stack}: parameter {key} has no default; give it with --parameters {stack}:{key}=VALUE")]
    MissingParameter {
        /// The stack.
        stack: String,
        /// The parameter.
        key: String,
    },
    /// A parameter value was given for a parameter no stack declares.
    #[error(
        "--parameters {given}: no selected stack declares {key}; the parameters are: {declared}"
    )]
    UnknownParameter {
        /// As given (`STACK:KEY` or `KEY`).
        given: String,
        /// The key.
        key: String,
        /// `STACK:KEY` of every declared parameter.
        declared: String,
    },
    /// An intrinsic the local run cannot evaluate, or one that names something that does not exist.
    #[error("{stack}/{element}: {message}")]
    Unresolvable {
        /// The stack.
        stack: String,
        /// The resource, output or parameter, with the property path.
        element: String,
        /// What is wrong, and the fix where there is one.
        message: String,
    },
}

/// One stack's template as synth wrote it.
#[derive(Clone, Debug)]
pub struct StackTemplate {
    /// The stack name.
    pub name: String,
    /// The template as JSON.
    pub template: serde_json::Value,
}

/// The templates of an app in deploy order, before resolution.
#[derive(Clone, Debug, Default)]
pub struct Templates {
    /// In deploy order.
    pub stacks: Vec<StackTemplate>,
}

impl Templates {
    /// Synthesizes `app` in process (`cfnkit::synth::synth`).
    pub fn from_app(app: &cfnkit::App) -> Result<Templates, ModelError> {
        let assembly = cfnkit::synth::synth(app).map_err(|e| ModelError::Synth(e.to_string()))?;
        Ok(Templates::from_assembly(&assembly))
    }

    /// The templates of an in-process synth.
    pub fn from_assembly(assembly: &cfnkit::synth::Assembly) -> Templates {
        Templates {
            stacks: assembly
                .stacks
                .iter()
                .map(|s| StackTemplate {
                    name: s.name.clone(),
                    template: serde_json::to_value(&s.template).expect("a template is JSON"),
                })
                .collect(),
        }
    }

    /// Reads a cloud assembly: `<dir>/manifest.json` and the templates it names (JSON or YAML).
    pub fn from_dir(dir: &Path) -> Result<Templates, ModelError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Read {
            path: path.clone(),
            source,
        })?;
        let manifest: cfnkit::synth::manifest::Manifest =
            serde_json::from_str(&text).map_err(|e| ModelError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let mut stacks = Vec::new();
        for s in &manifest.stacks {
            let path = dir.join(&s.template);
            let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Read {
                path: path.clone(),
                source,
            })?;
            let template = if manifest.format == "yaml" {
                serde_yaml::from_str(&text).map_err(|e| e.to_string())
            } else {
                serde_json::from_str(&text).map_err(|e| e.to_string())
            }
            .map_err(|message| ModelError::Parse {
                path: path.clone(),
                message,
            })?;
            stacks.push(StackTemplate {
                name: s.name.clone(),
                template,
            });
        }
        Ok(Templates { stacks })
    }

    /// The named stacks and every stack they import from or read outputs of, in deploy order (all stacks when none
    /// are named).
    pub fn select(&self, names: &[String]) -> Result<Templates, ModelError> {
        if names.is_empty() {
            return Ok(self.clone());
        }
        let available = || {
            self.stacks
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = names.to_vec();
        while let Some(name) = todo.pop() {
            let Some(stack) = self.stacks.iter().find(|s| s.name == name) else {
                return Err(ModelError::UnknownStack {
                    name,
                    available: available(),
                });
            };
            if !wanted.insert(name.clone()) {
                continue;
            }
            let mut imports = BTreeSet::new();
            resolve::imports_of(&stack.template, &mut imports);
            for import in imports {
                if let Some(producer) = self.stacks.iter().find(|s| exports(&s.template, &import)) {
                    todo.push(producer.name.clone());
                }
            }
            let mut read = BTreeSet::new();
            resolve::stack_outputs_read(&stack.template, &mut read);
            todo.extend(
                read.into_iter()
                    .filter(|r| self.stacks.iter().any(|s| s.name == *r)),
            );
        }
        Ok(Templates {
            stacks: self
                .stacks
                .iter()
                .filter(|s| wanted.contains(&s.name))
                .cloned()
                .collect(),
        })
    }

    /// Resolves every stack: names, ARNs, parameters, conditions and intrinsics.
    pub fn resolve(&self, options: &LoadOptions) -> Result<LocalApp, ModelError> {
        self.check_parameter_overrides(options)?;
        let mut app = LocalApp {
            account: options.account.clone(),
            region: options.region.clone(),
            stacks: Vec::new(),
        };
        let mut produced = resolve::Produced::default();
        for stack in &self.stacks {
            let resolved = resolve::StackResolver::new(stack, options, &produced)?.run()?;
            produced.exports.extend(resolved.exports.clone());
            produced
                .outputs
                .insert(stack.name.clone(), resolved.outputs.clone());
            app.stacks.push(resolved);
        }
        Ok(app)
    }

    fn check_parameter_overrides(&self, options: &LoadOptions) -> Result<(), ModelError> {
        let declared: Vec<(String, String)> = self
            .stacks
            .iter()
            .flat_map(|s| {
                s.template["Parameters"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(move |(k, _)| (s.name.clone(), k.clone()))
            })
            .collect();
        for given in options.parameters.keys() {
            let known = match given.split_once(':') {
                Some((stack, key)) => declared.iter().any(|(s, k)| s == stack && k == key),
                None => declared.iter().any(|(_, k)| k == given),
            };
            if !known {
                return Err(ModelError::UnknownParameter {
                    given: given.clone(),
                    key: given
                        .split_once(':')
                        .map_or(given.as_str(), |(_, k)| k)
                        .to_owned(),
                    declared: if declared.is_empty() {
                        "(none)".to_owned()
                    } else {
                        declared
                            .iter()
                            .map(|(s, k)| format!("{s}:{k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                });
            }
        }
        Ok(())
    }
}

fn exports(template: &serde_json::Value, name: &str) -> bool {
    template["Outputs"]
        .as_object()
        .into_iter()
        .flatten()
        .any(|(_, o)| o["Export"]["Name"] == name)
}

#[cfg(test)]
mod tests;
