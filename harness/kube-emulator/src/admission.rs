//! Admission: a caller (such as an operator's emulator) adds validating and
//! mutating rules for kinds it owns, as a webhook would on a real cluster.

use serde_json::Value;

/// The write a request makes, as an admission webhook is told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A POST (or a PUT or apply that creates).
    Create,
    /// A PUT or PATCH of an object that exists, its status included.
    Update,
    /// A DELETE (hooks validate it; there is no object to mutate).
    Delete,
}

/// What an admission hook sees of a request.
pub struct AdmissionRequest<'a> {
    /// Which write it is.
    pub operation: Operation,
    /// The object's API group (empty for the core group).
    pub group: &'a str,
    /// The version the object is stored in.
    pub version: &'a str,
    /// The object's kind.
    pub kind: &'a str,
    /// Its namespace (empty for a cluster-scoped kind).
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The object as stored before this request (None on create).
    pub old: Option<&'a Value>,
}

/// A validating and mutating admission webhook, in process: what an
/// embedder adds for the kinds it owns (ESO's emulator refuses an invalid
/// ExternalSecret with it, as ESO's webhook does).
pub trait AdmissionHook: Send + Sync + 'static {
    /// Whether this hook looks at objects of `group`/`kind`.
    fn handles(&self, group: &str, kind: &str) -> bool;

    /// May change the object. Runs before validation.
    fn mutate(&self, _req: &AdmissionRequest<'_>, _object: &mut Value) {}

    /// `Err(message)` refuses the request; the client sees the message, as
    /// with a webhook's denial.
    fn validate(&self, req: &AdmissionRequest<'_>, object: &Value) -> Result<(), String>;
}
