//! ESO's condition reasons and messages, and its events' reasons and
//! messages, as v2.9.0 writes them (`apis/externalsecrets/v1`,
//! `pkg/controllers/externalsecret/externalsecret_controller.go`,
//! `pkg/controllers/secretstore/common.go`; v0.20.4 has the same).

// The ExternalSecret's Ready condition: reasons.

/// Ready True: the target Secret holds the provider's data.
pub const REASON_SYNCED: &str = "SecretSynced";
/// Ready False: the last sync failed.
pub const REASON_SYNCED_ERROR: &str = "SecretSyncedError";
/// Ready True: the provider's secrets are gone and deletionPolicy Delete
/// removed the target.
pub const REASON_DELETED: &str = "SecretDeleted";
/// Ready True: creationPolicy Merge found no Secret to merge into.
pub const REASON_SECRET_MISSING: &str = "SecretMissing";

// The ExternalSecret's Ready condition: messages.

/// With [`REASON_SYNCED`].
pub const MSG_SYNCED: &str = "secret synced";
/// With [`REASON_SYNCED`]: nothing came from the provider and
/// deletionPolicy Retain kept the target as it was.
pub const MSG_RETAINED: &str = "secret retained due to DeletionPolicy=Retain";
/// With [`REASON_DELETED`]; also the message of the Normal
/// [`EVENT_DELETED`] event.
pub const MSG_DELETED: &str = "secret deleted due to DeletionPolicy=Delete";
/// With [`REASON_SECRET_MISSING`].
pub const MSG_SECRET_MISSING: &str = "secret will not be created due to CreationPolicy=Merge";
/// With [`REASON_SYNCED_ERROR`]: the store, its client or a fetch failed.
pub const MSG_PROVIDER_ERROR: &str = "could not get secret data from provider";
/// With [`REASON_SYNCED_ERROR`]: writing or deleting the target failed.
pub const MSG_UPDATE_ERROR: &str = "could not update secret";
/// With [`REASON_SYNCED_ERROR`]: deleting an orphaned target failed.
pub const MSG_DELETE_ORPHANED_ERROR: &str = "could not delete orphaned secrets";
/// With [`REASON_SYNCED_ERROR`], not retried: another ExternalSecret
/// controls the target.
pub const MSG_IS_OWNED_ERROR: &str = "target is owned by another ExternalSecret";
/// With [`REASON_SYNCED_ERROR`], not retried: another controller of
/// another kind controls the target, and creationPolicy is Owner.
pub const MSG_BECOME_OWNER_ERROR: &str = "failed to take ownership of target secret";
/// With [`REASON_SYNCED_ERROR`], not retried: the target is immutable and
/// its data would change.
pub const MSG_IMMUTABLE_ERROR: &str = "could not update secret, target is immutable";

// Events about an ExternalSecret.

/// Warning: a sync failed (its message is the error).
pub const EVENT_UPDATE_FAILED: &str = "UpdateFailed";
/// Normal: the target was created ([`MSG_CREATED`]).
pub const EVENT_CREATED: &str = "Created";
/// Normal: the target was updated ([`MSG_UPDATED`]).
pub const EVENT_UPDATED: &str = "Updated";
/// Normal: the target ([`MSG_DELETED`]) or an orphaned Secret
/// ([`MSG_DELETED_ORPHANED`]) was deleted.
pub const EVENT_DELETED: &str = "Deleted";
/// Normal: a secret is gone at the provider and deletionPolicy is not
/// Retain, so it was skipped ([`missing_provider_secret`]).
pub const EVENT_MISSING_PROVIDER_SECRET: &str = "MissingProviderSecret";
/// With [`EVENT_CREATED`].
pub const MSG_CREATED: &str = "secret created";
/// With [`EVENT_UPDATED`].
pub const MSG_UPDATED: &str = "secret updated";
/// With [`EVENT_DELETED`], for each orphaned Secret deleted.
pub const MSG_DELETED_ORPHANED: &str = "secret deleted because it was orphaned";

/// The message of [`EVENT_MISSING_PROVIDER_SECRET`] for the `index`th
/// entry, with its remote key for a `spec.data` entry. ESO names
/// `spec.dataFrom` for both (its two format strings say so).
pub fn missing_provider_secret(index: usize, data_key: Option<&str>) -> String {
    match data_key {
        None => format!("secret does not exist at provider using spec.dataFrom[{index}]"),
        Some(key) => {
            format!("secret does not exist at provider using spec.dataFrom[{index}] (key={key})")
        }
    }
}

// A store's Ready condition, and the events of its validation (reason and
// message alike).

/// Ready True, and a Normal event with [`MSG_STORE_VALIDATED`].
pub const REASON_VALID: &str = "Valid";
/// Ready False, and a Warning event with the error.
pub const REASON_INVALID_PROVIDER_CONFIG: &str = "InvalidProviderConfig";
/// Ready Unknown: the provider cannot tell.
pub const REASON_VALIDATION_UNKNOWN: &str = "ValidationUnknown";
/// With [`REASON_VALID`].
pub const MSG_STORE_VALIDATED: &str = "store validated";
/// With [`REASON_INVALID_PROVIDER_CONFIG`]: making the provider's client
/// failed (reading the Secrets or ServiceAccount the store names).
pub const MSG_UNABLE_TO_CREATE_CLIENT: &str = "unable to create client";
/// With [`REASON_INVALID_PROVIDER_CONFIG`]: the client was made, retrieving
/// credentials with it failed.
pub const MSG_UNABLE_TO_VALIDATE_STORE: &str = "unable to validate store";

#[cfg(test)]
mod tests {
    #[test]
    fn missing_provider_secret_names_data_from_for_both() {
        assert_eq!(
            super::missing_provider_secret(1, None),
            "secret does not exist at provider using spec.dataFrom[1]"
        );
        assert_eq!(
            super::missing_provider_secret(0, Some("app/db")),
            "secret does not exist at provider using spec.dataFrom[0] (key=app/db)"
        );
    }
}
