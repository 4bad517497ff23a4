//! A CloudTrail-like record of every call. It holds who did what to which
//! secret and how it ended, never a secret value or request body.

use std::collections::VecDeque;
use std::sync::Mutex;

use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub event_time: Timestamp,
    /// `secretsmanager.amazonaws.com` or `sts.amazonaws.com`.
    pub event_source: String,
    pub event_name: String,
    pub aws_region: String,
    /// The caller's ARN; absent when the call was not authenticated.
    pub principal_arn: Option<String>,
    pub access_key_id: Option<String>,
    /// ARNs of the secrets the call was about.
    pub resources: Vec<String>,
    pub error_code: Option<String>,
}

/// Bounded so a long soak cannot grow it without limit; the oldest go first.
#[derive(Debug)]
pub struct AuditLog {
    events: Mutex<VecDeque<AuditEvent>>,
    capacity: usize,
}

impl AuditLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            events: Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    pub fn record(&self, event: AuditEvent) {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if events.len() == self.capacity {
            events.pop_front();
        }
        events.push_back(event);
    }

    pub fn events(&self) -> Vec<AuditEvent> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
