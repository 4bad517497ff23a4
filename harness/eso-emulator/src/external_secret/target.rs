//! The Secret ESO writes for an ExternalSecret: created, merged into or
//! left alone by `creationPolicy`; deleted or retained by `deletionPolicy`
//! when the provider has nothing; labelled managed, with the data-hash
//! annotation, the ExternalSecret's own labels and annotations, and, when
//! it owns the Secret, the created-by label and a controller owner
//! reference; an owner's Secrets under former names deleted as orphaned.

use std::collections::BTreeMap;

use eso_api::metadata::{CONTROLLER_NAME, CREATED_BY_LABEL, DATA_HASH_ANNOTATION, MANAGED_LABEL};
use eso_api::reasons::{
    EVENT_CREATED, EVENT_DELETED, EVENT_UPDATED, MSG_CREATED, MSG_DELETED, MSG_DELETED_ORPHANED,
    MSG_RETAINED, MSG_SECRET_MISSING, MSG_SYNCED, MSG_UPDATED, REASON_DELETED,
    REASON_SECRET_MISSING, REASON_SYNCED,
};
use eso_api::{CreationPolicy, DeletionPolicy};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};

use super::View;
use super::error::SyncError;
use crate::Context;
use crate::events::EventType;
use crate::util;

/// How a sync that succeeded reads in the Ready condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Synced {
    pub(super) reason: &'static str,
    pub(super) message: &'static str,
}

const SYNCED: Synced = Synced {
    reason: REASON_SYNCED,
    message: MSG_SYNCED,
};

/// The annotation kubectl keeps the applied manifest in: ESO does not copy
/// it to the target.
const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn secret_data(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    secret
        .data
        .as_ref()
        .map(|d| d.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
        .unwrap_or_default()
}

/// Whether a Secret carries ESO's managed label (what ESO's watch of
/// Secrets and its managed-Secrets cache select).
pub(crate) fn is_managed(s: &Secret) -> bool {
    s.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_LABEL))
        .is_some_and(|v| v == "true")
}

/// "The target is valid": it exists, is labelled managed, and its data-hash
/// annotation matches its data.
pub(crate) fn target_valid(secret: Option<&Secret>) -> bool {
    let Some(s) = secret else { return false };
    let managed = is_managed(s);
    let hash = s
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DATA_HASH_ANNOTATION));
    managed && hash.is_some_and(|h| *h == util::data_hash(&secret_data(s)))
}

/// The created-by label's value for an ExternalSecret: a hash of its
/// namespace/name, so that ESO finds every Secret it created for it.
fn created_by(namespace: &str, name: &str) -> String {
    util::data_hash(&BTreeMap::from([(
        "owner".to_owned(),
        format!("{namespace}/{name}").into_bytes(),
    )]))
}

/// Writes `data`, fetched from the provider, as the policies say
/// (externalsecret_controller.go, Reconcile, v2.9.0 as v0.20.4).
pub(super) async fn write(
    ctx: &Context,
    es: &View,
    target: Option<Secret>,
    secrets: &Api<Secret>,
    data: BTreeMap<String, Vec<u8>>,
) -> Result<Synced, SyncError> {
    if data.is_empty() {
        match es.spec.target.deletion_policy {
            DeletionPolicy::Delete => {
                if target.is_some() {
                    secrets
                        .delete(&es.target_name(), &Default::default())
                        .await
                        .map_err(|e| SyncError::Update(format!("could not delete secret: {e}")))?;
                    ctx.recorder.publish(
                        &es.regarding(),
                        EventType::Normal,
                        EVENT_DELETED,
                        MSG_DELETED,
                    );
                }
                return Ok(Synced {
                    reason: REASON_DELETED,
                    message: MSG_DELETED,
                });
            }
            DeletionPolicy::Retain => {
                return Ok(Synced {
                    reason: REASON_SYNCED,
                    message: MSG_RETAINED,
                });
            }
            DeletionPolicy::Merge => {}
        }
    }
    // Merge into a Secret that is not there: ESO waits for the next
    // refresh, Ready with reason SecretMissing, no error and no event
    // (externalsecret_controller.go, CreatePolicyMerge, v2.9.0).
    if target.is_none() && es.spec.target.creation_policy == CreationPolicy::Merge {
        return Ok(Synced {
            reason: REASON_SECRET_MISSING,
            message: MSG_SECRET_MISSING,
        });
    }
    // An owner first deletes what it created under another name, e.g. the
    // old target of a renamed ExternalSecret (deleteOrphanedSecrets,
    // externalsecret_controller.go, v2.9.0 as v0.20.4).
    if es.spec.target.creation_policy == CreationPolicy::Owner {
        delete_orphaned_secrets(ctx, es, secrets).await?;
    }
    write_target(ctx, es, target, secrets, data).await?;
    Ok(SYNCED)
}

/// Deletes every Secret of the namespace labelled as created by this
/// ExternalSecret but not named as its target now, with one event each.
async fn delete_orphaned_secrets(
    ctx: &Context,
    es: &View,
    secrets: &Api<Secret>,
) -> Result<(), SyncError> {
    let target = es.target_name();
    let owner = created_by(&es.namespace, &es.name);
    if !ctx.created_by.others_than(&es.namespace, &owner, &target) {
        return Ok(());
    }
    let selector = format!("{CREATED_BY_LABEL}={owner}");
    let failed = |e: kube::Error| SyncError::DeleteOrphaned(e.to_string());
    let listed = secrets
        .list(&kube::api::ListParams::default().labels(&selector))
        .await
        .map_err(failed)?;
    for s in listed.items {
        let Some(name) = s.metadata.name else {
            continue;
        };
        if name == target {
            continue;
        }
        match secrets.delete(&name, &Default::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(failed(e)),
        }
        // ESO emits it even when the Secret was gone already.
        ctx.recorder.publish(
            &es.regarding(),
            EventType::Normal,
            EVENT_DELETED,
            MSG_DELETED_ORPHANED,
        );
        ctx.log(format!(
            "deleted orphaned Secret {}/{name} of ExternalSecret {}",
            es.namespace, es.name
        ));
    }
    Ok(())
}

async fn write_target(
    ctx: &Context,
    es: &View,
    target: Option<Secret>,
    secrets: &Api<Secret>,
    data: BTreeMap<String, Vec<u8>>,
) -> Result<(), SyncError> {
    let policy = es.spec.target.creation_policy;
    if policy == CreationPolicy::None {
        return Ok(());
    }
    let name = es.target_name();
    let mut secret = match (target, policy) {
        (Some(t), _) => t,
        (None, CreationPolicy::Merge) => {
            return Err(SyncError::Update(format!(
                "secret \"{name}\" not found: will not create it with creationPolicy=Merge"
            )));
        }
        (None, _) => Secret {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(es.namespace.clone()),
                ..Default::default()
            },
            ..Default::default()
        },
    };
    let created = secret.metadata.resource_version.is_none();
    let before_edit = (!created).then(|| secret.clone());
    // ESO's mutation refuses a target whose controller is another
    // ExternalSecret (by kind and name, whatever the policy), and, for
    // Owner, one another kind controls (SetControllerReference);
    // externalsecret_controller.go, v2.9.0 as v0.20.4. Neither is retried.
    let controller = secret
        .metadata
        .owner_references
        .as_ref()
        .and_then(|refs| refs.iter().find(|r| r.controller == Some(true)));
    if let Some(other) = controller {
        let is_es = other.kind == "ExternalSecret"
            && other.api_version.split('/').next() == Some(eso_api::GROUP);
        if is_es && other.name != es.name {
            return Err(SyncError::IsOwned(format!(
                "unable to mutate secret {name}: secret is owned by another ExternalSecret: {}",
                other.name
            )));
        }
        if !is_es && policy == CreationPolicy::Owner {
            return Err(SyncError::BecomeOwner(format!(
                "unable to mutate secret {name}: could not set controller reference on secret: Object {}/{name} is already owned by another {} controller {}",
                es.namespace, other.kind, other.name
            )));
        }
    }
    let old_data = secret_data(&secret);
    // An immutable target that exists keeps its data, labels and
    // annotations: ESO applies the template (which copies them) only to a
    // Secret it creates or may change (objectDoesNotExistOrCanBeMutated).
    let frozen = !created && es.spec.target.immutable;
    let mut new_data = if policy == CreationPolicy::Merge || frozen {
        old_data.clone()
    } else {
        BTreeMap::new()
    };
    if !frozen {
        new_data.extend(data);
    }
    // Without a template, the ExternalSecret's own labels and annotations are copied.
    let mut labels = secret.metadata.labels.clone().unwrap_or_default();
    let mut annotations = secret.metadata.annotations.clone().unwrap_or_default();
    if es.spec.target.template.is_none() && !frozen {
        labels.extend(es.labels.clone());
        annotations.extend(
            es.annotations
                .clone()
                .into_iter()
                .filter(|(k, _)| k != LAST_APPLIED_ANNOTATION),
        );
    }
    labels.insert(MANAGED_LABEL.into(), "true".into());
    annotations.insert(DATA_HASH_ANNOTATION.into(), util::data_hash(&new_data));
    secret.metadata.labels = Some(labels);
    secret.metadata.annotations = Some(annotations);
    // ESO labels a target it owns with a hash of its ExternalSecret's
    // namespace/name (LabelOwner), to find it again when the target is
    // renamed; the hash differs from ESO's (SHA3-224 of Go's %+v), the label
    // is there.
    {
        let labels = secret.metadata.labels.get_or_insert_with(Default::default);
        if policy == CreationPolicy::Owner {
            labels.insert(CREATED_BY_LABEL.into(), created_by(&es.namespace, &es.name));
        } else {
            labels.remove(CREATED_BY_LABEL);
        }
    }
    if policy == CreationPolicy::Owner {
        let owner = k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: eso_api::API_VERSION.into(),
            kind: "ExternalSecret".into(),
            name: es.name.clone(),
            uid: es.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        };
        let mut refs = secret.metadata.owner_references.take().unwrap_or_default();
        refs.retain(|r| r.uid != es.uid);
        refs.push(owner);
        secret.metadata.owner_references = Some(refs);
    }
    let before = before_edit;
    secret.data = Some(
        new_data
            .into_iter()
            .map(|(k, v)| (k, ByteString(v)))
            .collect(),
    );
    secret.string_data = None;
    if es.spec.target.immutable {
        secret.immutable = Some(true);
    }
    // ESO updates, and emits Updated, whenever the Secret would change at
    // all, metadata included (updateSecret: DeepEqual of the whole object),
    // and writes nothing when it would not.
    let changed = before.as_ref() != Some(&secret);
    if !created && !changed {
        return Ok(());
    }
    // A Secret that is immutable already takes a change of its metadata
    // only: ESO writes that, then fails if its data or type would change
    // (updateSecret, v2.9.0 as v0.20.4).
    if let Some(before) = before.as_ref().filter(|b| b.immutable == Some(true)) {
        let mut only_metadata = before.clone();
        only_metadata.metadata = secret.metadata.clone();
        if only_metadata.metadata != before.metadata {
            let written = secrets
                .replace(&name, &eso_writes(), &only_metadata)
                .await
                .map_err(|e| SyncError::Update(format!("unable to update secret {name}: {e}")))?;
            ctx.created_by.written(&written);
            ctx.secrets.wrote(&written);
        }
        if only_metadata != secret {
            return Err(SyncError::Immutable(format!(
                "unable to update secret {name}: secret is immutable"
            )));
        }
        return Ok(());
    }
    let write = if created {
        secrets.create(&eso_writes(), &secret).await
    } else {
        secrets.replace(&name, &eso_writes(), &secret).await
    };
    let written = write
        .map_err(|e| SyncError::Update(format!("could not write target secret {name}: {e}")))?;
    ctx.created_by.written(&written);
    ctx.secrets.wrote(&written);
    let (reason, message) = if created {
        (EVENT_CREATED, MSG_CREATED)
    } else {
        (EVENT_UPDATED, MSG_UPDATED)
    };
    ctx.recorder
        .publish(&es.regarding(), EventType::Normal, reason, message);
    Ok(())
}

/// How ESO writes a Secret: as the field manager `external-secrets`.
fn eso_writes() -> PostParams {
    PostParams {
        field_manager: Some(CONTROLLER_NAME.into()),
        ..Default::default()
    }
}
