//! Operations that change a secret's life: deletion and restore, rotation,
//! version stages, tags and replication.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::listing::replica_status;
use super::values::add_version;
use super::wire::{self, *};
use super::{Call, RotationRequest, SecretsManager, new_version_id};
use crate::error::{AwsError, ErrorCode};
use crate::model::{
    AWSCURRENT, AWSPENDING, AWSPREVIOUS, Deletion, ReplicaStatus, Replication, Rotation, Secret,
};

const DAY: i64 = 86_400;

/// When a secret with rotation enabled is next rotated.
pub(super) fn next_rotation(secret: &Secret) -> Option<Timestamp> {
    let rot = secret.rotation.as_ref().filter(|r| r.enabled)?;
    let days = rot.automatically_after_days?;
    let from = rot.last_rotated.unwrap_or(secret.created);
    from.checked_add(SignedDuration::from_secs(days.checked_mul(DAY)?))
        .ok()
}

fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

impl SecretsManager {
    pub(super) fn delete_secret(
        &mut self,
        input: DeleteSecretInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let force = input.force_delete_without_recovery.unwrap_or(false);
        if let Some(days) = input.recovery_window_in_days {
            if force {
                return Err(AwsError::invalid_parameter(
                    "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
                ));
            }
            if !(7..=30).contains(&days) {
                return Err(AwsError::invalid_parameter(
                    "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
                ));
            }
        }
        let (name, arn) =
            self.authorized_primary("secretsmanager:DeleteSecret", input.secret_id, call)?;
        let mut secret = self
            .secret_mut(call.region, &name)
            .ok_or_else(AwsError::secret_not_found)?;
        if let Replication::Primary { replicas } = &secret.replication
            && !replicas.is_empty()
        {
            let regions: Vec<&str> = replicas.iter().map(|r| r.region.as_str()).collect();
            return Err(AwsError::invalid_request(format!(
                "You can't delete secret {name} that still has replica regions [{}]",
                regions.join(",")
            )));
        }
        if secret.is_deleted() && !force {
            return Err(AwsError::marked_for_deletion());
        }
        let purge_at = if force {
            call.now
        } else {
            let days = input.recovery_window_in_days.unwrap_or(30);
            call.now
                .checked_add(SignedDuration::from_secs(days * DAY))
                .unwrap_or(Timestamp::MAX)
        };
        if force {
            drop(secret);
            self.store.remove(call.region, &name);
        } else {
            secret.deletion = Some(Deletion {
                requested: call.now,
                purge_at,
            });
        }
        Ok(json!({ "ARN": arn, "Name": name, "DeletionDate": wire::epoch(purge_at) }))
    }

    pub(super) fn restore_secret(
        &mut self,
        input: SecretIdInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let (name, arn) =
            self.authorized_primary("secretsmanager:RestoreSecret", input.secret_id, call)?;
        if let Some(mut secret) = self.secret_mut(call.region, &name) {
            secret.deletion = None;
        }
        Ok(json!({ "ARN": arn, "Name": name }))
    }

    pub(super) fn rotate_secret(
        &mut self,
        input: RotateSecretInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let (name, arn) =
            self.authorized_primary("secretsmanager:RotateSecret", input.secret_id, call)?;
        if let Some(days) = input
            .rotation_rules
            .as_ref()
            .and_then(|r| r.automatically_after_days)
            && !(1..=1000).contains(&days)
        {
            return Err(AwsError::invalid_parameter(
                "RotationRules.AutomaticallyAfterDays must be within 1-1000.",
            ));
        }
        let mut secret = self
            .secret_mut(call.region, &name)
            .ok_or_else(AwsError::secret_not_found)?;
        if secret.is_deleted() {
            return Err(AwsError::marked_for_deletion());
        }
        if secret
            .version_with_stage(AWSPENDING)
            .is_some_and(|v| !v.stages.iter().any(|s| s == AWSCURRENT))
        {
            return Err(AwsError::invalid_request(
                "A previous rotation isn't complete. That rotation will be reattempted.",
            ));
        }
        let rot = secret.rotation.get_or_insert(Rotation {
            enabled: false,
            lambda_arn: None,
            automatically_after_days: None,
            schedule_expression: None,
            duration: None,
            last_rotated: None,
        });
        if let Some(l) = input.rotation_lambda_arn {
            rot.lambda_arn = Some(l);
        }
        if let Some(rules) = input.rotation_rules {
            rot.automatically_after_days = rules.automatically_after_days;
            rot.schedule_expression = rules.schedule_expression;
            rot.duration = rules.duration;
        }
        rot.enabled = rot.automatically_after_days.is_some() || rot.schedule_expression.is_some();
        drop(secret);
        let version_id = if input.rotate_immediately.unwrap_or(true) {
            Some(self.rotate_now(call.region, &name, input.client_request_token, call.now)?)
        } else {
            None
        };
        self.sync_replicas(call.region, &name);
        let mut out = json!({ "ARN": arn, "Name": name });
        if let (Some(id), Value::Object(map)) = (version_id, &mut out) {
            map.insert("VersionId".into(), json!(id));
        }
        Ok(out)
    }

    /// One rotation: the hook (standing in for the Lambda's createSecret step)
    /// makes the AWSPENDING value, which finishSecret then makes AWSCURRENT.
    pub(super) fn rotate_now(
        &mut self,
        region: &str,
        name: &str,
        token: Option<String>,
        now: Timestamp,
    ) -> Result<String, AwsError> {
        let hook = self.rotation_hook.clone().ok_or_else(|| {
            AwsError::new(
                ErrorCode::AccessDeniedException,
                "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.",
            )
        })?;
        let mut secret = self
            .secret_mut(region, name)
            .ok_or_else(AwsError::secret_not_found)?;
        let next = {
            let current = secret.version_with_stage(AWSCURRENT).map(|v| &v.value);
            hook(&RotationRequest {
                secret_name: &secret.name,
                secret_arn: &secret.arn,
                current,
            })
            .map_err(|reason| AwsError::invalid_request(format!("Rotation failed: {reason}")))?
        };
        let id = token.unwrap_or_else(new_version_id);
        add_version(
            &mut secret,
            id.clone(),
            next,
            vec![AWSPENDING.to_owned()],
            now,
        );
        // finishSecret: AWSCURRENT moves to the new version, AWSPENDING is removed.
        let old = secret.version_with_stage(AWSCURRENT).map(|v| v.id.clone());
        secret.remove_stage_everywhere(AWSPENDING);
        if let Some(old) = old {
            secret.remove_stage_everywhere(AWSPREVIOUS);
            if let Some(v) = secret.version_mut(&old) {
                v.stages.retain(|s| s != AWSCURRENT);
                v.stages.push(AWSPREVIOUS.to_owned());
            }
        }
        if let Some(v) = secret.version_mut(&id) {
            v.stages.push(AWSCURRENT.to_owned());
        }
        if let Some(rot) = secret.rotation.as_mut() {
            rot.last_rotated = Some(now);
        }
        drop(secret);
        self.sync_replicas(region, name);
        Ok(id)
    }

    pub(super) fn update_secret_version_stage(
        &mut self,
        input: UpdateSecretVersionStageInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let stage = wire::required(input.version_stage, "versionStage")?;
        let (name, arn) = self.authorized_primary(
            "secretsmanager:UpdateSecretVersionStage",
            input.secret_id,
            call,
        )?;
        let mut secret = self
            .secret_mut(call.region, &name)
            .ok_or_else(AwsError::secret_not_found)?;
        if secret.is_deleted() {
            return Err(AwsError::marked_for_deletion());
        }
        for id in [&input.remove_from_version_id, &input.move_to_version_id]
            .into_iter()
            .flatten()
        {
            if secret.version(id).is_none() {
                return Err(AwsError::invalid_parameter(format!(
                    "Not a valid version: {id}"
                )));
            }
        }
        let holder = secret.version_with_stage(&stage).map(|v| v.id.clone());
        match (&input.remove_from_version_id, &holder) {
            (Some(from), _) if holder.as_deref() != Some(from.as_str()) => {
                return Err(AwsError::invalid_parameter(format!(
                    "Version stage {stage} not found in version {from}"
                )));
            }
            (None, Some(holder))
                if input.move_to_version_id.as_deref() != Some(holder.as_str()) =>
            {
                return Err(AwsError::invalid_parameter(format!(
                    "The parameter RemoveFromVersionId can't be empty. Staging label {stage} is currently attached to version {holder}, so you must explicitly reference that version in RemoveFromVersionId."
                )));
            }
            _ => {}
        }
        secret.remove_stage_everywhere(&stage);
        if stage == AWSCURRENT
            && let Some(from) = &input.remove_from_version_id
            && input.move_to_version_id.as_deref() != Some(from.as_str())
        {
            secret.remove_stage_everywhere(AWSPREVIOUS);
            if let Some(v) = secret.version_mut(from) {
                v.stages.push(AWSPREVIOUS.to_owned());
            }
        }
        if let Some(to) = &input.move_to_version_id
            && let Some(v) = secret.version_mut(to)
        {
            if stage == AWSCURRENT {
                v.stages.retain(|s| s != AWSPREVIOUS);
            }
            v.stages.push(stage.clone());
        }
        secret.last_changed = call.now;
        drop(secret);
        self.sync_replicas(call.region, &name);
        Ok(json!({ "ARN": arn, "Name": name }))
    }

    pub(super) fn tag_resource(
        &mut self,
        input: TagResourceInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let (name, _) =
            self.authorized_primary("secretsmanager:TagResource", input.secret_id, call)?;
        let tags = wire::required(input.tags, "tags")?;
        let mut secret = self
            .secret_mut(call.region, &name)
            .ok_or_else(AwsError::secret_not_found)?;
        for tag in tags {
            match secret.tags.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value,
                None => secret.tags.push(tag),
            }
        }
        if secret.tags.len() > 50 {
            return Err(AwsError::new(
                ErrorCode::LimitExceededException,
                "The request exceeds the tag limit of 50.",
            ));
        }
        drop(secret);
        self.sync_replicas(call.region, &name);
        Ok(json!({}))
    }

    pub(super) fn untag_resource(
        &mut self,
        input: UntagResourceInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let (name, _) =
            self.authorized_primary("secretsmanager:UntagResource", input.secret_id, call)?;
        let keys = wire::required(input.tag_keys, "tagKeys")?;
        let mut secret = self
            .secret_mut(call.region, &name)
            .ok_or_else(AwsError::secret_not_found)?;
        secret.tags.retain(|t| !keys.contains(&t.key));
        drop(secret);
        self.sync_replicas(call.region, &name);
        Ok(json!({}))
    }

    pub(super) fn check_replica_regions(
        &self,
        primary: &str,
        regions: &[ReplicaRegion],
    ) -> Result<(), AwsError> {
        for r in regions {
            let region = r.region.as_deref().unwrap_or_default();
            if region == primary || !is_region(region) {
                return Err(AwsError::invalid_parameter("Invalid replica region."));
            }
        }
        Ok(())
    }

    /// Adds replicas to a primary and copies it there; a region that already
    /// holds a secret of that name fails unless overwriting was asked for.
    pub(super) fn add_replicas(
        &mut self,
        region: &str,
        name: &str,
        add: &[ReplicaRegion],
        force: bool,
    ) -> Vec<Value> {
        let mut added = Vec::new();
        for r in add {
            let target = r.region.clone().unwrap_or_default();
            let taken = self.resolve(&target, name).is_some();
            let (status, status_message) = if taken && !force {
                (
                    "Failed",
                    Some(format!(
                        "Replication failed: Secret name {name} already exists in region {target}."
                    )),
                )
            } else {
                ("InSync", None)
            };
            added.push(ReplicaStatus {
                region: target,
                kms_key_id: r.kms_key_id.clone(),
                status: status.into(),
                status_message,
            });
        }
        if let Some(mut secret) = self.secret_mut(region, name)
            && let Replication::Primary { replicas } = &mut secret.replication
        {
            replicas.retain(|existing| !added.iter().any(|a| a.region == existing.region));
            replicas.extend(added);
        }
        self.sync_replicas(region, name);
        match self.resolve(region, name).map(|s| &s.replication) {
            Some(Replication::Primary { replicas }) => {
                replicas.iter().map(replica_status).collect()
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn replicate_secret_to_regions(
        &mut self,
        input: ReplicateSecretToRegionsInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let (name, arn) = self.authorized_primary(
            "secretsmanager:ReplicateSecretToRegions",
            input.secret_id,
            call,
        )?;
        let regions = wire::required(input.add_replica_regions, "addReplicaRegions")?;
        self.check_replica_regions(call.region, &regions)?;
        let statuses = self.add_replicas(
            call.region,
            &name,
            &regions,
            input.force_overwrite_replica_secret.unwrap_or(false),
        );
        Ok(json!({ "ARN": arn, "ReplicationStatus": statuses }))
    }

    pub(super) fn remove_regions_from_replication(
        &mut self,
        input: RemoveRegionsFromReplicationInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let (name, arn) = self.authorized_primary(
            "secretsmanager:RemoveRegionsFromReplication",
            input.secret_id,
            call,
        )?;
        let remove = wire::required(input.remove_replica_regions, "removeReplicaRegions")?;
        let mut removed_in_sync = Vec::new();
        let mut statuses = Vec::new();
        if let Some(mut secret) = self.secret_mut(call.region, &name)
            && let Replication::Primary { replicas } = &mut secret.replication
        {
            replicas.retain(|r| {
                let keep = !remove.contains(&r.region);
                if !keep && r.status == "InSync" {
                    removed_in_sync.push(r.region.clone());
                }
                keep
            });
            statuses = replicas.iter().map(replica_status).collect::<Vec<_>>();
        }
        // A removed replica becomes a standalone secret in its region, as in AWS.
        for region in removed_in_sync {
            if let Some(mut s) = self.secret_mut(&region, &name) {
                s.replication = Replication::Primary {
                    replicas: Vec::new(),
                };
            }
        }
        Ok(json!({ "ARN": arn, "ReplicationStatus": statuses }))
    }
}
