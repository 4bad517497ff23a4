//! The Secrets Manager service: operations over [`SecretsState`], with the
//! semantics of the real service (ARNs with a random suffix, version stages,
//! idempotent ClientRequestToken, deletion windows, replicas that follow their
//! primary). Transport, authentication and auditing live elsewhere; each
//! operation asks its caller's `Authorize` before touching a secret. Public
//! here: what a [`RotationHook`] is given, and the [`OPERATIONS`] served.

mod lifecycle;
mod listing;
mod password;
mod replies;
mod store;
#[cfg(test)]
mod tests;
mod values;
mod wire;

use std::sync::Arc;

use jiff::Timestamp;
use rand::Rng;
use serde::de::DeserializeOwned;

use crate::error::{AwsError, ErrorCode};
use crate::model::{Replication, Secret, SecretValue, SecretsState};
use store::{SecretMut, Store};

/// Stands in for a rotation Lambda: given the secret and its current value,
/// produce the next value. Returning an error fails the rotation.
pub type RotationHook =
    Arc<dyn Fn(&RotationRequest<'_>) -> Result<SecretValue, String> + Send + Sync>;

/// What a [`RotationHook`] is given: the secret being rotated.
pub struct RotationRequest<'a> {
    /// The secret's name.
    pub secret_name: &'a str,
    /// The secret's full ARN (in the region the rotation runs in).
    pub secret_arn: &'a str,
    /// The value staged AWSCURRENT, if the secret has one.
    pub current: Option<&'a SecretValue>,
}

/// Decides whether the caller may perform `action` on `resource`.
pub(crate) trait Authorize {
    fn authorize(&self, action: &str, resource: &str) -> Result<(), AwsError>;
}

/// Everything an operation knows about the call it serves.
pub(crate) struct Call<'a> {
    pub(crate) region: &'a str,
    pub(crate) now: Timestamp,
    pub(crate) authorizer: &'a dyn Authorize,
    /// ARNs of the secrets the call touched, for the audit trail.
    pub(crate) resources: Vec<String>,
}

impl Call<'_> {
    fn authorize(&mut self, action: &str, arn: &str) -> Result<(), AwsError> {
        self.resources.push(arn.to_owned());
        self.authorizer.authorize(action, arn)
    }
}

/// Every Secrets Manager operation this emulator serves, by its name in
/// `X-Amz-Target`.
pub const OPERATIONS: &[&str] = &[
    "CreateSecret",
    "GetSecretValue",
    "BatchGetSecretValue",
    "PutSecretValue",
    "UpdateSecret",
    "DescribeSecret",
    "ListSecrets",
    "ListSecretVersionIds",
    "UpdateSecretVersionStage",
    "DeleteSecret",
    "RestoreSecret",
    "RotateSecret",
    "TagResource",
    "UntagResource",
    "ReplicateSecretToRegions",
    "RemoveRegionsFromReplication",
    "GetRandomPassword",
];

/// SecretString and SecretBinary limit of the real service.
pub const MAX_SECRET_SIZE: usize = 65_536;

pub(crate) struct SecretsManager {
    store: Store,
    account_id: String,
    rotation_hook: Option<RotationHook>,
}

impl SecretsManager {
    pub(crate) fn new(account_id: impl Into<String>) -> Self {
        Self {
            store: Store::default(),
            account_id: account_id.into(),
            rotation_hook: None,
        }
    }

    pub(crate) fn set_rotation_hook(&mut self, hook: Option<RotationHook>) {
        self.rotation_hook = hook;
    }

    pub(crate) fn state(&self) -> &SecretsState {
        self.store.state()
    }

    /// Takes `state` as a whole (a snapshot restore), indexes rebuilt.
    pub(crate) fn replace_state(&mut self, state: SecretsState) {
        self.store = Store::new(state);
    }

    /// Runs one operation and answers its JSON body. `operation` is the
    /// part of `X-Amz-Target` after `secretsmanager.`.
    pub(crate) fn handle(
        &mut self,
        operation: &str,
        body: &[u8],
        call: &mut Call<'_>,
    ) -> Result<Vec<u8>, AwsError> {
        self.maintain(call.now);
        let reply = match operation {
            "CreateSecret" => self.create_secret(parse(body)?, call)?.into(),
            "GetSecretValue" => self.get_secret_value(parse(body)?, call)?,
            "BatchGetSecretValue" => self.batch_get_secret_value(parse(body)?, call)?.into(),
            "PutSecretValue" => self.put_secret_value(parse(body)?, call)?,
            "UpdateSecret" => self.update_secret(parse(body)?, call)?.into(),
            "DescribeSecret" => self.describe_secret(parse(body)?, call)?,
            "ListSecrets" => self.list_secrets(parse(body)?, call)?,
            "ListSecretVersionIds" => self.list_secret_version_ids(parse(body)?, call)?.into(),
            "UpdateSecretVersionStage" => {
                self.update_secret_version_stage(parse(body)?, call)?.into()
            }
            "DeleteSecret" => self.delete_secret(parse(body)?, call)?.into(),
            "RestoreSecret" => self.restore_secret(parse(body)?, call)?.into(),
            "RotateSecret" => self.rotate_secret(parse(body)?, call)?.into(),
            "TagResource" => self.tag_resource(parse(body)?, call)?.into(),
            "UntagResource" => self.untag_resource(parse(body)?, call)?.into(),
            "ReplicateSecretToRegions" => {
                self.replicate_secret_to_regions(parse(body)?, call)?.into()
            }
            "RemoveRegionsFromReplication" => self
                .remove_regions_from_replication(parse(body)?, call)?
                .into(),
            "GetRandomPassword" => password::get_random_password(parse(body)?, call)?.into(),
            other => {
                return Err(AwsError::new(
                    ErrorCode::UnknownOperationException,
                    format!("Unknown operation {other}"),
                ));
            }
        };
        Ok(reply.into_bytes())
    }

    /// Work the real service does in the background: purging secrets whose
    /// recovery window ended and running scheduled rotations that fell due.
    /// Only what is due is touched: the store keeps both on a timeline.
    pub(crate) fn maintain(&mut self, now: Timestamp) {
        for (region, name) in self.store.due_purges(now) {
            self.store.remove(&region, &name);
        }
        let mut due = self.store.due_rotations(now);
        // In the order of a walk of every region by name, which is the order
        // the hook has always been called in.
        due.sort();
        for (region, name) in due {
            if let Err(error) = self.rotate_now(&region, &name, None, now) {
                tracing::warn!(secret = %name, %region, %error, "scheduled rotation failed");
                // Push the schedule on, so a failing hook is not retried on every call.
                if let Some(mut secret) = self.secret_mut(&region, &name)
                    && let Some(rot) = secret.rotation.as_mut()
                {
                    rot.last_rotated = Some(now);
                }
            }
        }
    }

    /// Finds a secret by name, full ARN or partial ARN (an ARN without the
    /// random suffix), as the real service does.
    fn resolve(&self, region: &str, secret_id: &str) -> Option<&Secret> {
        if let Some(s) = self.store.get(region, secret_id) {
            return Some(s);
        }
        if secret_id.starts_with("arn:") {
            return self.store.by_arn(region, secret_id);
        }
        None
    }

    fn secret_mut<'a>(&'a mut self, region: &'a str, name: &'a str) -> Option<SecretMut<'a>> {
        self.store.get_mut(region, name)
    }

    /// Resolves `secret_id` and authorizes `action` on it. A secret that does
    /// not exist is authorized against the ARN it would have, so a caller
    /// without permission learns nothing about what exists.
    fn authorized(
        &self,
        action: &str,
        secret_id: Option<String>,
        call: &mut Call<'_>,
    ) -> Result<(String, String), AwsError> {
        let secret_id = wire::required(secret_id, "secretId")?;
        match self.resolve(call.region, &secret_id) {
            Some(s) => {
                let (name, arn) = (s.name.clone(), s.arn.clone());
                call.authorize(action, &arn)?;
                Ok((name, arn))
            }
            None => {
                let would_be = if secret_id.starts_with("arn:") {
                    secret_id
                } else {
                    format!(
                        "arn:aws:secretsmanager:{}:{}:secret:{secret_id}",
                        call.region, self.account_id
                    )
                };
                call.authorize(action, &would_be)?;
                Err(AwsError::secret_not_found())
            }
        }
    }

    /// Like [`Self::authorized`], for operations that write: refuses replicas.
    fn authorized_primary(
        &self,
        action: &str,
        secret_id: Option<String>,
        call: &mut Call<'_>,
    ) -> Result<(String, String), AwsError> {
        let (name, arn) = self.authorized(action, secret_id, call)?;
        if self
            .resolve(call.region, &name)
            .is_some_and(Secret::is_replica)
        {
            return Err(AwsError::not_permitted_on_replica());
        }
        Ok((name, arn))
    }

    fn new_arn(&self, region: &str, name: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        let suffix: String = (0..6)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        format!(
            "arn:aws:secretsmanager:{region}:{}:secret:{name}-{suffix}",
            self.account_id
        )
    }

    /// Copies a primary onto each of its replicas, which is how replicas follow.
    fn sync_replicas(&mut self, region: &str, name: &str) {
        let Some(primary) = self.resolve(region, name) else {
            return;
        };
        // Most secrets have no replica: then nothing is copied, not even the
        // primary with its versions.
        let Replication::Primary { replicas } = &primary.replication else {
            return;
        };
        if !replicas.iter().any(|r| r.status == "InSync") {
            return;
        }
        let primary = primary.clone();
        let Replication::Primary { replicas } = &primary.replication else {
            return;
        };
        for replica in replicas.iter().filter(|r| r.status == "InSync") {
            let mut copy = primary.clone();
            copy.arn = replica_arn(&primary.arn, region, &replica.region);
            copy.replication = Replication::Replica {
                primary_region: region.to_owned(),
            };
            copy.kms_key_id = replica.kms_key_id.clone();
            self.store.insert(&replica.region, name, copy);
        }
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        AwsError::new(
            ErrorCode::SerializationException,
            format!("Start of structure or map found where not expected, or the request body is not valid JSON (line {}, column {})", e.line(), e.column()),
        )
    })
}

/// The ARN without its `-XXXXXX` suffix.
fn partial_arn(arn: &str) -> &str {
    arn.len()
        .checked_sub(7)
        .and_then(|cut| arn.get(..cut))
        .unwrap_or(arn)
}

fn replica_arn(arn: &str, from: &str, to: &str) -> String {
    arn.replacen(&format!(":{from}:"), &format!(":{to}:"), 1)
}

fn new_version_id() -> String {
    emulator_core::ids::uuid_v4()
}
