//! The labels, annotations and finalizer ESO puts in objects' metadata, and
//! the names it writes under (v2.9.0 as v0.20.4).

/// On a target Secret ESO manages: `true`. ESO watches Secrets by it.
pub const MANAGED_LABEL: &str = "reconcile.external-secrets.io/managed";
/// On a target Secret ESO owns (creationPolicy Owner): a hash of its
/// ExternalSecret's namespace/name, so that a renamed target's old Secret
/// is found and deleted as orphaned.
pub const CREATED_BY_LABEL: &str = "reconcile.external-secrets.io/created-by";
/// On a target Secret: a hash of its data, so that an edit by hand is seen.
pub const DATA_HASH_ANNOTATION: &str = "reconcile.external-secrets.io/data-hash";
/// On every ExternalSecret ESO reconciles, removed when it is deleted.
pub const FINALIZER: &str = "externalsecrets.external-secrets.io/externalsecret-cleanup";
/// On a ServiceAccount (EKS's IRSA): the IAM role its tokens assume.
pub const IRSA_ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// On a ServiceAccount (EKS's IRSA): the audience ESO asks its token for,
/// where it names one (`sts.amazonaws.com` otherwise).
pub const IRSA_AUDIENCE_ANNOTATION: &str = "eks.amazonaws.com/audience";
/// The audience of an IRSA token when the ServiceAccount names none.
pub const IRSA_DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";
/// The field manager of ESO's writes and the source component of its events.
pub const CONTROLLER_NAME: &str = "external-secrets";
