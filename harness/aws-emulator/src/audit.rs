//! A CloudTrail-like record of every call. It holds who did what to which
//! secret and how it ended, never a secret value or request body.

use std::collections::VecDeque;
use std::sync::Mutex;

use jiff::Timestamp;
use serde::Serialize;

/// One call, as CloudTrail would record it (field names as CloudTrail's).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// When the call was answered, on the emulator's clock.
    pub event_time: Timestamp,
    /// `secretsmanager.amazonaws.com` or `sts.amazonaws.com`.
    pub event_source: String,
    /// The operation (`GetSecretValue`, `AssumeRoleWithWebIdentity`, ...).
    pub event_name: String,
    /// The region of the call: its credential scope's, else the default.
    pub aws_region: String,
    /// The caller's ARN; absent when the call was not authenticated.
    pub principal_arn: Option<String>,
    /// The access key the call was signed with; absent when not authenticated.
    pub access_key_id: Option<String>,
    /// ARNs of the secrets the call was about.
    pub resources: Vec<String>,
    /// The AWS error code the call failed with; absent when it succeeded.
    pub error_code: Option<String>,
}

/// Bounded so a long soak cannot grow it without limit; the oldest go first.
#[derive(Debug)]
pub(crate) struct AuditLog {
    events: Mutex<VecDeque<AuditEvent>>,
    capacity: usize,
}

impl AuditLog {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            events: Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    pub(crate) fn record(&self, event: AuditEvent) {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if events.len() == self.capacity {
            events.pop_front();
        }
        events.push_back(event);
    }

    pub(crate) fn events(&self) -> Vec<AuditEvent> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn clear(&self) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
