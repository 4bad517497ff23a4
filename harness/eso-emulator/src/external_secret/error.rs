//! How a reconcile fails, and what is done about it: [`ReconcileError`]
//! names each failure with what ESO writes for it (the Ready reason and
//! message, the event), and [`error_policy`] decides when to try again, as
//! a kube-runtime controller's `error_policy(obj, &err, ctx) -> Action`
//! does (ESO's is controller-runtime's rate limiter: back off, or not at
//! all for what retrying cannot fix).

use eso_api::reasons::{
    EVENT_UPDATE_FAILED, MSG_BECOME_OWNER_ERROR, MSG_DELETE_ORPHANED_ERROR, MSG_IMMUTABLE_ERROR,
    MSG_IS_OWNED_ERROR, MSG_PROVIDER_ERROR, MSG_UPDATE_ERROR, REASON_SYNCED_ERROR,
};

use crate::Context;
use crate::queue::Next;

/// A reconcile that did not end as it should. Each names its
/// ExternalSecret (`namespace/name`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReconcileError {
    #[error("error getting ExternalSecret {es}: {source}")]
    Get { es: String, source: kube::Error },
    #[error("error removing the finalizer of {es}: {source}")]
    RemoveFinalizer { es: String, source: kube::Error },
    #[error("error adding the finalizer of {es}: {source}")]
    AddFinalizer { es: String, source: kube::Error },
    #[error("ExternalSecret {es}: invalid spec: {source}")]
    InvalidSpec {
        es: String,
        source: serde_json::Error,
    },
    #[error("error getting target Secret {target}: {source}")]
    GetTarget { target: String, source: kube::Error },
    #[error("error updating status of ExternalSecret {es}: {source}")]
    UpdateStatus { es: String, source: kube::Error },
    /// The sync failed: its condition and event are written already.
    #[error("error reconciling ExternalSecret {es}: {source}")]
    Sync { es: String, source: SyncError },
}

/// A sync that failed, as ESO reports it: Ready False with reason
/// [`REASON_SYNCED_ERROR`] and [`SyncError::message`], and a Warning
/// [`EVENT_UPDATE_FAILED`] event whose message is the error's text.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum SyncError {
    /// The store, its client, or a fetch from the provider.
    #[error("{0}")]
    Provider(String),
    /// Writing or deleting the target.
    #[error("{0}")]
    Update(String),
    /// Deleting a Secret the ExternalSecret created under another name.
    #[error("{0}")]
    DeleteOrphaned(String),
    /// Another ExternalSecret controls the target.
    #[error("{0}")]
    IsOwned(String),
    /// Another controller of another kind controls the target
    /// (creationPolicy Owner).
    #[error("{0}")]
    BecomeOwner(String),
    /// The target is immutable and its data would change.
    #[error("{0}")]
    Immutable(String),
}

impl SyncError {
    /// The Ready condition's reason.
    pub(crate) fn reason(&self) -> &'static str {
        REASON_SYNCED_ERROR
    }

    /// The Ready condition's message.
    pub(crate) fn message(&self) -> &'static str {
        match self {
            SyncError::Provider(_) => MSG_PROVIDER_ERROR,
            SyncError::Update(_) => MSG_UPDATE_ERROR,
            SyncError::DeleteOrphaned(_) => MSG_DELETE_ORPHANED_ERROR,
            SyncError::IsOwned(_) => MSG_IS_OWNED_ERROR,
            SyncError::BecomeOwner(_) => MSG_BECOME_OWNER_ERROR,
            SyncError::Immutable(_) => MSG_IMMUTABLE_ERROR,
        }
    }

    /// The Warning event's reason (its message is the error's text).
    pub(crate) fn event_reason(&self) -> &'static str {
        EVENT_UPDATE_FAILED
    }

    /// Whether trying again can help: ESO does not requeue a target it may
    /// not write (externalsecret_controller.go, v2.9.0 as v0.20.4).
    pub(crate) fn retryable(&self) -> bool {
        !matches!(
            self,
            SyncError::IsOwned(_) | SyncError::BecomeOwner(_) | SyncError::Immutable(_)
        )
    }
}

impl ReconcileError {
    fn retryable(&self) -> bool {
        match self {
            ReconcileError::Sync { source, .. } => source.retryable(),
            _ => true,
        }
    }
}

/// What to do after a failed reconcile: it goes to the controller's log,
/// and the ExternalSecret is tried again after its backoff, or, when
/// retrying cannot help, only once it (or its target) changes.
pub(crate) fn error_policy(err: &ReconcileError, ctx: &Context) -> Next {
    ctx.log(err.to_string());
    if err.retryable() {
        Next::Backoff
    } else {
        Next::Idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_target_eso_may_not_write_is_not_retried() {
        let sync = |source: SyncError| ReconcileError::Sync {
            es: "ns/es".into(),
            source,
        };
        for (e, retried) in [
            (SyncError::Provider("p".into()), true),
            (SyncError::Update("u".into()), true),
            (SyncError::DeleteOrphaned("d".into()), true),
            (SyncError::IsOwned("o".into()), false),
            (SyncError::BecomeOwner("b".into()), false),
            (SyncError::Immutable("i".into()), false),
        ] {
            assert_eq!(e.reason(), REASON_SYNCED_ERROR);
            assert_eq!(sync(e.clone()).retryable(), retried, "{e:?}");
        }
        let invalid = serde_json::from_str::<u8>("x").unwrap_err();
        assert!(
            ReconcileError::InvalidSpec {
                es: "ns/es".into(),
                source: invalid
            }
            .retryable()
        );
    }

    #[test]
    fn the_log_line_names_the_external_secret_and_the_cause() {
        let e = ReconcileError::Sync {
            es: "ns/es".into(),
            source: SyncError::Provider("error processing spec.data[0] (key: k), err: gone".into()),
        };
        assert_eq!(
            e.to_string(),
            "error reconciling ExternalSecret ns/es: error processing spec.data[0] (key: k), err: gone"
        );
    }
}
