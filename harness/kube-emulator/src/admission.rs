//! Admission: a caller (such as an operator's emulator) adds validating and
//! mutating rules for kinds it owns, as a webhook would on a real cluster.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

/// What an admission hook sees of a request.
pub struct AdmissionRequest<'a> {
    pub operation: Operation,
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub old: Option<&'a Value>,
}

pub trait AdmissionHook: Send + Sync + 'static {
    /// Whether this hook looks at objects of `group`/`kind`.
    fn handles(&self, group: &str, kind: &str) -> bool;

    /// May change the object. Runs before validation.
    fn mutate(&self, _req: &AdmissionRequest<'_>, _object: &mut Value) {}

    /// `Err(message)` refuses the request; the client sees the message, as
    /// with a webhook's denial.
    fn validate(&self, req: &AdmissionRequest<'_>, object: &Value) -> Result<(), String>;
}
