//! Secrets Manager: [`Secret`] (a generated value, a customer-managed key when given, rotation by a Lambda
//! function, retained on stack deletion) and its grants.
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Db");
//! // A generated 32-character value that never appears in the template; retained.
//! let password = Secret::new(&stack, "DbPassword", SecretProps::default())?;
//! let app_role = Role::new(&stack, "App", Principal::service("lambda.amazonaws.com"), Default::default())?;
//! password.grant_read(&app_role);
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{RemovalPolicy, Val};
use cfnkit_l1::lambda as l1_lambda;
use cfnkit_l1::secretsmanager as l1;

use super::iam::{Grant, Grantable, PolicyStatement};
use super::kms::{Key, KeyRef};
use super::{
    actions, check_imported_arn, days_in, ArnResource, Construct, ConstructError, LambdaTarget,
    OwnScope,
};
use crate::{fns, AsScope};

const SECRETS_MANAGER_SERVICE: &str = "secretsmanager.amazonaws.com";

/// How Secrets Manager generates a secret's value.
///
/// Without a template the secret is the generated password itself; with one it is the template (a JSON
/// object, `{"username": "orders"}`) with the password added under `key` (`password`).
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateSecretString {
    /// A JSON object the password is added to. Without it the secret is the bare password.
    pub template: Option<serde_json::Value>,
    /// The key the password is added under (needs a template).
    pub key: Option<String>,
    /// Password length (1 to 4096). Without it 32 characters.
    pub length: Option<u32>,
    /// Characters the password must not contain (`"/@\""` for database passwords). Without it every printable
    /// ASCII character may appear.
    pub exclude_characters: Option<String>,
    /// No punctuation. Without it punctuation may appear.
    pub exclude_punctuation: bool,
    /// No digits.
    pub exclude_numbers: bool,
    /// No uppercase letters.
    pub exclude_uppercase: bool,
    /// No lowercase letters.
    pub exclude_lowercase: bool,
    /// Allow the space character. Without it the password has no spaces.
    pub include_space: bool,
    /// Whether the password has at least one character of every included type. On unless turned off.
    pub require_each_included_type: bool,
}

impl Default for GenerateSecretString {
    fn default() -> Self {
        GenerateSecretString {
            template: None,
            key: None,
            length: None,
            exclude_characters: None,
            exclude_punctuation: false,
            exclude_numbers: false,
            exclude_uppercase: false,
            exclude_lowercase: false,
            include_space: false,
            require_each_included_type: true,
        }
    }
}

impl GenerateSecretString {
    /// A JSON secret: `template` with a generated password under `key`
    /// (`GenerateSecretString::json(json!({"username": "orders"}), "password")`).
    pub fn json(template: serde_json::Value, key: impl Into<String>) -> Self {
        GenerateSecretString {
            template: Some(template),
            key: Some(key.into()),
            ..Default::default()
        }
    }

    /// Checks the options: a template and a key together (the key not already in the template), the length,
    /// at least one kind of character.
    fn validate(&self, path: &str) -> Result<(), ConstructError> {
        match (&self.template, &self.key) {
            (Some(serde_json::Value::Object(fields)), Some(key)) => {
                if key.is_empty() {
                    return Err(ConstructError::invalid(
                        path,
                        "generate_secret_string.key must not be empty: name the field the password goes in",
                    ));
                }
                if fields.contains_key(key) {
                    return Err(ConstructError::conflict(
                        path,
                        format!(
                            "generate_secret_string.template already has the field {key:?} the password would be \
                             generated into: remove it from the template or choose another key"
                        ),
                    ));
                }
            }
            (Some(other), Some(_)) => {
                return Err(ConstructError::invalid(
                    path,
                    format!("generate_secret_string.template must be a JSON object, got {other}"),
                ))
            }
            (None, None) => {}
            (template, _) => {
                return Err(ConstructError::conflict(
                    path,
                    format!(
                    "generate_secret_string needs both a template and a key, or neither; got {}",
                    if template.is_some() {
                        "a template without a key"
                    } else {
                        "a key without a template"
                    }
                ),
                ))
            }
        }
        if let Some(n) = self.length {
            if !(1..=4096).contains(&n) {
                return Err(ConstructError::invalid(
                    path,
                    format!("generate_secret_string.length must be from 1 to 4096, got {n}"),
                ));
            }
        }
        if self.exclude_punctuation
            && self.exclude_numbers
            && self.exclude_uppercase
            && self.exclude_lowercase
            && !self.include_space
        {
            return Err(ConstructError::invalid(
                path,
                "generate_secret_string excludes every kind of character: keep at least one of punctuation, \
                 digits, uppercase or lowercase letters",
            ));
        }
        Ok(())
    }

    fn to_l1(&self) -> l1::secret::GenerateSecretString {
        let flag = |on: bool| on.then(|| true.into());
        l1::secret::GenerateSecretString {
            secret_string_template: self.template.as_ref().map(|t| t.to_string().into()),
            generate_string_key: self.key.as_deref().map(Val::from),
            password_length: self.length.map(Val::from),
            exclude_characters: self.exclude_characters.as_deref().map(Val::from),
            exclude_punctuation: flag(self.exclude_punctuation),
            exclude_numbers: flag(self.exclude_numbers),
            exclude_uppercase: flag(self.exclude_uppercase),
            exclude_lowercase: flag(self.exclude_lowercase),
            include_space: flag(self.include_space),
            require_each_included_type: Some(self.require_each_included_type.into()),
        }
    }
}

/// Props of a [`Secret`].
#[derive(Clone, Debug)]
pub struct SecretProps<'a> {
    /// A fixed secret name. Without it CloudFormation generates one from the stack and the logical ID.
    pub secret_name: Option<Val<String>>,
    /// What the secret is for, shown in the console. Without it the secret has no description.
    pub description: Option<String>,
    /// A customer-managed key for the secret. Without it Secrets Manager encrypts with its AWS-managed key
    /// `aws/secretsmanager`, which checkov's CKV_AWS_149 reports: give a key to be clean. Grants on the secret
    /// then also grant the key, through Secrets Manager only. The key's policy needs nothing more, because its
    /// account-root statement lets IAM policies (and so grants, and the deploying role) use it.
    pub encryption_key: Option<&'a Key>,
    /// How the value is generated. Without it Secrets Manager generates a 32-character password with every kind
    /// of character; the value never appears in the template.
    pub generate_secret_string: GenerateSecretString,
    /// What happens to the secret when it leaves the stack. Without it the secret is retained: deleting it would
    /// lose a credential something may still use.
    pub removal_policy: RemovalPolicy,
}

impl Default for SecretProps<'_> {
    fn default() -> Self {
        SecretProps {
            secret_name: None,
            description: None,
            encryption_key: None,
            generate_secret_string: GenerateSecretString::default(),
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

impl SecretProps<'_> {
    /// Every check of the props, before anything is built: how the value is generated.
    fn validate(&self, path: &str) -> Result<(), ConstructError> {
        self.generate_secret_string.validate(path)
    }
}

/// A Secrets Manager secret whose value Secrets Manager generates, so it is never in the template.
///
/// Rotation is added with [`Secret::add_rotation_schedule`]; checkov's rotation check for CloudFormation
/// looks for a rotation schedule on every secret.
#[derive(Clone, Debug)]
pub struct Secret {
    reference: SecretRef,
    scope: OwnScope,
    handle: l1::SecretHandle,
    rotation: Rc<Cell<bool>>,
}

/// A secret as grants see it: its ARN and its customer-managed key. A [`Secret`] made here derefs to one;
/// [`Secret::from_arn`] and [`Secret::from_attributes`] make one for a secret made elsewhere.
#[derive(Clone, Debug)]
pub struct SecretRef {
    secret_arn: Val<String>,
    key: Option<KeyRef>,
}

impl SecretRef {
    /// Lets the grantee read the secret's value (and decrypt it with the customer-managed key, through
    /// Secrets Manager only).
    pub fn grant_read(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::SECRETS_READ, actions::SECRETS_KMS_READ)
    }
    /// Lets the grantee write new values (and encrypt them with the customer-managed key, through Secrets
    /// Manager only).
    pub fn grant_write(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::SECRETS_WRITE, actions::SECRETS_KMS_WRITE)
    }
    /// What a rotation function needs on this secret: read it, write the new version and move its stages
    /// (and use the customer-managed key for both, through Secrets Manager only).
    pub fn grant_rotate(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::SECRETS_ROTATE, actions::SECRETS_KMS_WRITE)
    }
    /// The secret ARN (`Ref`).
    pub fn secret_arn(&self) -> Val<String> {
        self.secret_arn.clone()
    }
    /// The customer-managed key, when the secret uses one.
    pub fn encryption_key(&self) -> Option<&KeyRef> {
        self.key.as_ref()
    }

    fn grant(
        &self,
        grantee: &(impl Grantable + ?Sized),
        secret_actions: &[&str],
        key_actions: &[&str],
    ) -> Grant {
        let grant = grantee
            .grant_role()
            .grant(secret_actions, [self.secret_arn()]);
        grant.with_key(self.key.as_ref().map(|key| {
            // Only requests Secrets Manager makes on the grantee's behalf may use the key.
            Grant::add_to_principal_policy(
                grantee,
                PolicyStatement::allow()
                    .actions(key_actions)
                    .resource(key.key_arn())
                    .condition(
                        "StringEquals",
                        "kms:ViaService",
                        fns::sub("secretsmanager.${AWS::Region}.amazonaws.com"),
                    ),
            )
        }))
    }
}

/// What [`Secret::from_attributes`] needs to know of a secret made elsewhere.
#[derive(Clone, Debug)]
pub struct SecretAttributes<'a> {
    /// The secret's full ARN (`arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`; a
    /// literal one is checked).
    pub secret_arn: Val<String>,
    /// The customer-managed key the secret is encrypted with, so grants also grant its use (through Secrets
    /// Manager only). Without it grants name the secret only (right for `aws/secretsmanager`).
    pub encryption_key: Option<&'a KeyRef>,
}

impl std::ops::Deref for Secret {
    type Target = SecretRef;
    fn deref(&self) -> &SecretRef {
        &self.reference
    }
}

impl Secret {
    /// A secret made elsewhere, by ARN (encrypted with `aws/secretsmanager`): grants name it.
    pub fn from_arn(
        id: &str,
        secret_arn: impl Into<Val<String>>,
    ) -> Result<SecretRef, ConstructError> {
        Secret::from_attributes(
            id,
            SecretAttributes {
                secret_arn: secret_arn.into(),
                encryption_key: None,
            },
        )
    }

    /// A secret made elsewhere, with its customer-managed key: grants also grant the key usage they need.
    pub fn from_attributes(
        id: &str,
        attributes: SecretAttributes<'_>,
    ) -> Result<SecretRef, ConstructError> {
        check_imported_arn(
            id,
            "secret_arn",
            &attributes.secret_arn,
            "secretsmanager",
            ArnResource::Colon("secret"),
        )?;
        Ok(SecretRef {
            secret_arn: attributes.secret_arn,
            key: attributes.encryption_key.cloned(),
        })
    }

    /// A secret at `<scope>/<id>` (logical ID `<Id>`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: SecretProps<'_>,
    ) -> Result<Secret, ConstructError> {
        let scope = scope.as_scope().child(id);
        props.validate(scope.path())?;
        let key = props.encryption_key.cloned();
        let secret = l1::Secret {
            name: props.secret_name,
            description: props.description.map(Val::from),
            kms_key_id: key.as_ref().map(|k| k.key_arn()),
            generate_secret_string: Some(Val::from(props.generate_secret_string.to_l1())),
            ..Default::default()
        };
        let handle: l1::SecretHandle = scope.add("Resource", secret);
        handle.apply_removal_policy(props.removal_policy);
        if key.is_none() {
            crate::rules::skip_checkov(
                &handle,
                "CKV_AWS_149",
                "no SecretProps.encryption_key: the secret is encrypted with Secrets Manager's AWS-managed key \
                 aws/secretsmanager, usable by every principal of the account that may read the secret; give a \
                 customer-managed key to control and audit its use apart",
            );
        }
        Ok(Secret {
            reference: SecretRef {
                secret_arn: handle.ref_(),
                key: key.as_deref().cloned(),
            },
            scope: OwnScope(scope),
            handle,
            rotation: Rc::default(),
        })
    }

    /// Rotates the secret with `function` every `every` (whole days, 1 to 1000): an
    /// `AWS::SecretsManager::RotationSchedule` at `<id>/RotationSchedule` and the function's invoke permission
    /// for Secrets Manager on this secret only (`<id>/RotationPermission`), which the schedule depends on because
    /// Secrets Manager invokes the function as soon as the schedule exists.
    ///
    /// The function also needs to read and write the secret: call [`SecretRef::grant_rotate`] with it (a
    /// [`super::lambda::Function`] is both a target and a grantee). A function that generates passwords with
    /// `GetRandomPassword` needs that action on `*`, the only resource AWS accepts for it.
    pub fn add_rotation_schedule(
        &self,
        function: &(impl LambdaTarget + ?Sized),
        every: Duration,
    ) -> Result<l1::RotationScheduleHandle, ConstructError> {
        if self.rotation.get() {
            return Err(ConstructError::conflict(
                self.path(),
                "the secret already has a rotation schedule: a secret rotates on one schedule only",
            ));
        }
        let days = days_in(self.path(), "rotation interval", every, 1, 1000)?;
        let permission: l1_lambda::PermissionHandle = self.scope.add(
            "RotationPermission",
            l1_lambda::Permission {
                action: Some(actions::LAMBDA_INVOKE[0].into()),
                function_name: Some(function.function_arn()),
                principal: Some(SECRETS_MANAGER_SERVICE.into()),
                source_arn: Some(self.secret_arn()),
                ..Default::default()
            },
        );
        let schedule: l1::RotationScheduleHandle = self.scope.add(
            "RotationSchedule",
            l1::RotationSchedule {
                secret_id: Some(self.secret_arn()),
                rotation_lambda_arn: Some(function.function_arn()),
                rotation_rules: Some(Val::from(l1::rotation_schedule::RotationRules {
                    automatically_after_days: Some(days.into()),
                    ..Default::default()
                })),
                ..Default::default()
            },
        );
        schedule.add_depends_on(&permission);
        self.rotation.set(true);
        Ok(schedule)
    }

    /// Whether a rotation schedule was added.
    pub fn is_rotated(&self) -> bool {
        self.rotation.get()
    }
}

impl Construct for Secret {
    type L1 = l1::Secret;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::SecretHandle {
        &self.handle
    }
}
