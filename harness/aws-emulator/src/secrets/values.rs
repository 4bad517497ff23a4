//! Operations that create and read secret values.

use serde_json::{Map, Value, json};

use super::replies::{self, PutSecretValueReply, Reply, SecretValueReply};
use super::wire::{self, *};
use super::{Call, MAX_SECRET_SIZE, SecretsManager, new_version_id};
use crate::error::{AwsError, ErrorCode};
use crate::model::{AWSCURRENT, AWSPREVIOUS, Replication, Secret, SecretValue, Version};

/// Versions with no stage left are dropped beyond this many, as AWS does.
const MAX_VERSIONS: usize = 100;

fn validate_name(name: &str) -> Result<(), AwsError> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-!".contains(c));
    if name.is_empty() || name.len() > 512 || !valid_chars {
        return Err(AwsError::new(
            ErrorCode::ValidationException,
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
        ));
    }
    Ok(())
}

fn validate_token(token: &str) -> Result<(), AwsError> {
    if !(32..=64).contains(&token.len()) {
        return Err(AwsError::new(
            ErrorCode::ValidationException,
            "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 64",
        ));
    }
    Ok(())
}

/// The value of a request, checked against the service's limits.
fn request_value(
    string: Option<String>,
    binary: Option<String>,
) -> Result<Option<SecretValue>, AwsError> {
    match (string, binary) {
        (Some(_), Some(_)) => Err(AwsError::invalid_parameter(
            "You can't specify both a binary secret value and a string secret value in the same secret.",
        )),
        (Some(s), None) if s.len() > MAX_SECRET_SIZE => {
            Err(AwsError::too_long("secretString", MAX_SECRET_SIZE))
        }
        (Some(s), None) => Ok(Some(SecretValue::String(s))),
        (None, Some(b)) => {
            let bytes = wire::decode_binary(&b)?;
            if bytes.len() > MAX_SECRET_SIZE {
                return Err(AwsError::too_long("secretBinary", MAX_SECRET_SIZE));
            }
            Ok(Some(SecretValue::Binary(bytes)))
        }
        (None, None) => Ok(None),
    }
}

/// How a ClientRequestToken relates to the versions a secret already has.
enum TokenUse {
    /// No version has it: a new version may be created with it.
    Fresh(String),
    /// A version has it with the same value: the call is a retry.
    Retry(String),
}

fn check_token(
    secret: &Secret,
    token: Option<String>,
    value: &SecretValue,
) -> Result<TokenUse, AwsError> {
    let token = match token {
        Some(t) => {
            validate_token(&t)?;
            t
        }
        None => return Ok(TokenUse::Fresh(new_version_id())),
    };
    match secret.version(&token) {
        None => Ok(TokenUse::Fresh(token)),
        Some(v) if &v.value == value => Ok(TokenUse::Retry(token)),
        Some(_) => Err(AwsError::new(
            ErrorCode::ResourceExistsException,
            format!(
                "You can't use ClientRequestToken {token} because that value is already in use for a version of secret {}.",
                secret.arn
            ),
        )),
    }
}

/// Adds a version carrying `stages`, moving those stages off other versions;
/// when AWSCURRENT moves, the version it left becomes AWSPREVIOUS.
pub(super) fn add_version(
    secret: &mut Secret,
    id: String,
    value: SecretValue,
    mut stages: Vec<String>,
    now: jiff::Timestamp,
) {
    if secret.versions.is_empty() && !stages.iter().any(|s| s == AWSCURRENT) {
        stages.push(AWSCURRENT.to_owned());
    }
    if stages.iter().any(|s| s == AWSCURRENT) {
        let old_current = secret.version_with_stage(AWSCURRENT).map(|v| v.id.clone());
        if let Some(old) = old_current {
            secret.remove_stage_everywhere(AWSPREVIOUS);
            if let Some(v) = secret.version_mut(&old) {
                v.stages.push(AWSPREVIOUS.to_owned());
            }
        }
    }
    for stage in &stages {
        secret.remove_stage_everywhere(stage);
    }
    secret.versions.push(Version {
        id,
        stages,
        value,
        created: now,
        last_accessed: None,
    });
    secret.last_changed = now;
    while secret.versions.len() > MAX_VERSIONS {
        match secret.versions.iter().position(|v| v.stages.is_empty()) {
            Some(oldest) => drop(secret.versions.remove(oldest)),
            None => break,
        }
    }
}

impl SecretsManager {
    pub(super) fn create_secret(
        &mut self,
        input: CreateSecretInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let name = wire::required(input.name, "name")?;
        validate_name(&name)?;
        let value = request_value(input.secret_string, input.secret_binary)?;
        if let Some(existing) = self.resolve(call.region, &name) {
            call.authorize("secretsmanager:CreateSecret", &existing.arn.clone())?;
            if existing.is_replica() {
                return Err(AwsError::not_permitted_on_replica());
            }
            if existing.is_deleted() {
                return Err(AwsError::invalid_request(
                    "You can't create this secret because a secret with this name is already scheduled for deletion.",
                ));
            }
            if let (Some(token), Some(value)) = (input.client_request_token.clone(), value.as_ref())
                && let TokenUse::Retry(id) = check_token(existing, Some(token), value)?
            {
                return Ok(json!({ "ARN": existing.arn, "Name": existing.name, "VersionId": id }));
            }
            return Err(AwsError::new(
                ErrorCode::ResourceExistsException,
                format!("The operation failed because the secret {name} already exists."),
            ));
        }
        let arn = self.new_arn(call.region, &name);
        call.authorize("secretsmanager:CreateSecret", &arn)?;
        if let Some(t) = &input.client_request_token {
            validate_token(t)?;
        }
        let replicas = input.add_replica_regions.unwrap_or_default();
        self.check_replica_regions(call.region, &replicas)?;
        let mut secret = Secret {
            name: name.clone(),
            arn: arn.clone(),
            description: input.description,
            kms_key_id: input.kms_key_id,
            tags: input.tags.unwrap_or_default(),
            created: call.now,
            last_changed: call.now,
            last_accessed: None,
            deletion: None,
            rotation: None,
            versions: Vec::new(),
            replication: Replication::Primary {
                replicas: Vec::new(),
            },
        };
        let version_id = value.map(|value| {
            let id = input.client_request_token.unwrap_or_else(new_version_id);
            add_version(
                &mut secret,
                id.clone(),
                value,
                vec![AWSCURRENT.to_owned()],
                call.now,
            );
            id
        });
        self.store.insert(call.region, &name, secret);
        let statuses = self.add_replicas(
            call.region,
            &name,
            &replicas,
            input.force_overwrite_replica_secret.unwrap_or(false),
        );
        let mut out = Map::new();
        out.insert("ARN".into(), json!(arn));
        out.insert("Name".into(), json!(name));
        if let Some(id) = version_id {
            out.insert("VersionId".into(), json!(id));
        }
        if !statuses.is_empty() {
            out.insert("ReplicationStatus".into(), Value::Array(statuses));
        }
        Ok(Value::Object(out))
    }

    pub(super) fn get_secret_value(
        &mut self,
        input: GetSecretValueInput,
        call: &mut Call<'_>,
    ) -> Result<Reply, AwsError> {
        let (name, _) = self.authorized("secretsmanager:GetSecretValue", input.secret_id, call)?;
        let (secret, version) = self.read_value(
            call.region,
            &name,
            input.version_id.as_deref(),
            input.version_stage.as_deref(),
            call.now,
        )?;
        Ok(Reply::json(&SecretValueReply::of(secret, version)))
    }

    /// GetSecretValue once the caller is authorized: the version asked for,
    /// its access recorded.
    fn read_value(
        &mut self,
        region: &str,
        name: &str,
        version_id: Option<&str>,
        version_stage: Option<&str>,
        now: jiff::Timestamp,
    ) -> Result<(&Secret, &Version), AwsError> {
        let mut secret = self
            .secret_mut(region, name)
            .ok_or_else(AwsError::secret_not_found)?;
        if secret.is_deleted() {
            return Err(AwsError::marked_for_deletion());
        }
        let found = match (version_id, version_stage) {
            (Some(id), stage) => {
                let v = secret.versions.iter().position(|v| v.id == id).ok_or_else(|| {
                    AwsError::new(
                        ErrorCode::ResourceNotFoundException,
                        format!("Secrets Manager can't find the specified secret value for VersionId: {id}"),
                    )
                })?;
                if stage.is_some_and(|st| !secret.versions[v].stages.iter().any(|s| s == st)) {
                    return Err(AwsError::invalid_request(
                        "You provided a VersionStage that is not associated to the provided VersionId.",
                    ));
                }
                v
            }
            (None, stage) => {
                let stage = stage.unwrap_or(AWSCURRENT);
                secret
                    .versions
                    .iter()
                    .position(|v| v.stages.iter().any(|s| s == stage))
                    .ok_or_else(|| {
                        AwsError::new(
                            ErrorCode::ResourceNotFoundException,
                            format!("Secrets Manager can't find the specified secret value for staging label: {stage}"),
                        )
                    })?
            }
        };
        secret.last_accessed = Some(wire::day_of(now));
        if let Some(v) = secret.versions.get_mut(found) {
            v.last_accessed = Some(now);
        }
        // Dropped to re-index the secret; then read again, unborrowed.
        drop(secret);
        let secret = self
            .resolve(region, name)
            .ok_or_else(AwsError::secret_not_found)?;
        let version = secret
            .versions
            .get(found)
            .ok_or_else(AwsError::secret_not_found)?;
        Ok((secret, version))
    }

    pub(super) fn batch_get_secret_value(
        &mut self,
        input: BatchGetSecretValueInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        call.authorize("secretsmanager:BatchGetSecretValue", "*")?;
        let ids: Vec<String> = match (input.secret_id_list, input.filters) {
            (Some(ids), None) => {
                if input.max_results.is_some() {
                    return Err(AwsError::invalid_parameter(
                        "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.",
                    ));
                }
                ids
            }
            (None, Some(filters)) => {
                let page = self.list_page(
                    call.region,
                    &super::listing::Query {
                        filters: &filters,
                        include_deleted: false,
                        ascending: false,
                    },
                    input.max_results,
                    input.next_token.as_deref(),
                    20,
                )?;
                let names: Vec<String> = page.items.iter().map(|s| s.name.clone()).collect();
                let next_token = page.next_token;
                let mut out = self.batch_values(names, call);
                if let (Some(token), Value::Object(map)) = (next_token, &mut out) {
                    map.insert("NextToken".into(), json!(token));
                }
                return Ok(out);
            }
            _ => {
                return Err(AwsError::invalid_parameter(
                    "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
                ));
            }
        };
        Ok(self.batch_values(ids, call))
    }

    fn batch_values(&mut self, ids: Vec<String>, call: &mut Call<'_>) -> Value {
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for id in ids {
            let result = self
                .authorized("secretsmanager:GetSecretValue", Some(id.clone()), call)
                .and_then(|(name, _)| {
                    let (secret, version) =
                        self.read_value(call.region, &name, None, None, call.now)?;
                    Ok(replies::to_value(&SecretValueReply::of(secret, version)))
                });
            match result {
                Ok(v) => values.push(v),
                Err(e) => errors.push(
                    json!({ "SecretId": id, "ErrorCode": e.code.as_str(), "Message": e.message }),
                ),
            }
        }
        json!({ "SecretValues": values, "Errors": errors })
    }

    pub(super) fn put_secret_value(
        &mut self,
        input: PutSecretValueInput,
        call: &mut Call<'_>,
    ) -> Result<Reply, AwsError> {
        let (name, arn) =
            self.authorized_primary("secretsmanager:PutSecretValue", input.secret_id, call)?;
        let value = request_value(input.secret_string, input.secret_binary)?.ok_or_else(|| {
            AwsError::invalid_parameter("You must provide either SecretString or SecretBinary.")
        })?;
        let stages = input
            .version_stages
            .unwrap_or_else(|| vec![AWSCURRENT.to_owned()]);
        let mut secret = self
            .secret_mut(call.region, &name)
            .ok_or_else(AwsError::secret_not_found)?;
        if secret.is_deleted() {
            return Err(AwsError::marked_for_deletion());
        }
        let id = match check_token(&secret, input.client_request_token, &value)? {
            TokenUse::Retry(id) => id,
            TokenUse::Fresh(id) => {
                add_version(&mut secret, id.clone(), value, stages, call.now);
                id
            }
        };
        let stages = secret
            .version(&id)
            .map(|v| v.stages.clone())
            .unwrap_or_default();
        drop(secret);
        self.sync_replicas(call.region, &name);
        Ok(Reply::json(&PutSecretValueReply {
            arn: &arn,
            name: &name,
            version_id: &id,
            version_stages: &stages,
        }))
    }

    pub(super) fn update_secret(
        &mut self,
        input: UpdateSecretInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let (name, arn) =
            self.authorized_primary("secretsmanager:UpdateSecret", input.secret_id, call)?;
        let value = request_value(input.secret_string, input.secret_binary)?;
        let mut secret = self
            .secret_mut(call.region, &name)
            .ok_or_else(AwsError::secret_not_found)?;
        if secret.is_deleted() {
            return Err(AwsError::marked_for_deletion());
        }
        // Check the token before changing anything, so a refused call changes nothing.
        let token_use = value
            .as_ref()
            .map(|v| check_token(&secret, input.client_request_token, v))
            .transpose()?;
        if let Some(d) = input.description {
            secret.description = Some(d);
            secret.last_changed = call.now;
        }
        if let Some(k) = input.kms_key_id {
            secret.kms_key_id = Some(k);
            secret.last_changed = call.now;
        }
        let version_id = match (token_use, value) {
            (Some(TokenUse::Retry(id)), _) => Some(id),
            (Some(TokenUse::Fresh(id)), Some(value)) => {
                add_version(
                    &mut secret,
                    id.clone(),
                    value,
                    vec![AWSCURRENT.to_owned()],
                    call.now,
                );
                Some(id)
            }
            _ => None,
        };
        drop(secret);
        self.sync_replicas(call.region, &name);
        let mut out = Map::new();
        out.insert("ARN".into(), json!(arn));
        out.insert("Name".into(), json!(name));
        if let Some(id) = version_id {
            out.insert("VersionId".into(), json!(id));
        }
        Ok(Value::Object(out))
    }
}
