//! Prometheus metrics with ESO's names, in the text exposition format.

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
struct Counters {
    /// (name, namespace) → count
    sync_calls_total: BTreeMap<(String, String), u64>,
    sync_calls_error: BTreeMap<(String, String), u64>,
    /// (name, namespace, condition, status) → 0/1
    status_condition: BTreeMap<(String, String, String, String), u8>,
    /// (provider, call, status) → count
    provider_api_calls: BTreeMap<(String, String, String), u64>,
}

/// The controller's counters and gauges, under ESO's metric names.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Counters>,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Counters) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A sync of the ExternalSecret `namespace/name` ran.
    pub(crate) fn sync_call(&self, name: &str, namespace: &str, failed: bool) {
        self.with(|c| {
            *c.sync_calls_total
                .entry((name.into(), namespace.into()))
                .or_default() += 1;
            if failed {
                *c.sync_calls_error
                    .entry((name.into(), namespace.into()))
                    .or_default() += 1;
            }
        });
    }

    /// Its Ready condition is now `ready`.
    pub(crate) fn condition(&self, name: &str, namespace: &str, ready: bool) {
        self.with(|c| {
            for status in ["True", "False"] {
                let v = u8::from((status == "True") == ready);
                c.status_condition.insert(
                    (name.into(), namespace.into(), "Ready".into(), status.into()),
                    v,
                );
            }
        });
    }

    /// It is gone: its gauge goes.
    pub(crate) fn forget(&self, name: &str, namespace: &str) {
        self.with(|c| {
            c.status_condition
                .retain(|(n, ns, _, _), _| !(n == name && ns == namespace))
        });
    }

    /// A call to Secrets Manager ended, well or not.
    pub(crate) fn provider_call(&self, call: &str, ok: bool) {
        self.with(|c| {
            let status = if ok { "success" } else { "error" };
            *c.provider_api_calls
                .entry(("AWS/SecretsManager".into(), call.into(), status.into()))
                .or_default() += 1;
        });
    }

    /// `externalsecret_sync_calls_total` of `namespace/name`.
    pub fn sync_calls_total(&self, name: &str, namespace: &str) -> u64 {
        self.with(|c| {
            c.sync_calls_total
                .get(&(name.to_owned(), namespace.to_owned()))
                .copied()
                .unwrap_or(0)
        })
    }

    /// `externalsecret_sync_calls_error` of `namespace/name`.
    pub fn sync_calls_error(&self, name: &str, namespace: &str) -> u64 {
        self.with(|c| {
            c.sync_calls_error
                .get(&(name.to_owned(), namespace.to_owned()))
                .copied()
                .unwrap_or(0)
        })
    }

    /// The exposition text, as `:8080/metrics` serves it.
    pub fn render(&self) -> String {
        self.with(|c| {
            let mut out = String::new();
            out.push_str("# HELP externalsecret_sync_calls_total Total number of the External Secret sync calls\n# TYPE externalsecret_sync_calls_total counter\n");
            for ((n, ns), v) in &c.sync_calls_total {
                out.push_str(&format!("externalsecret_sync_calls_total{{name=\"{n}\",namespace=\"{ns}\"}} {v}\n"));
            }
            out.push_str("# HELP externalsecret_sync_calls_error Total number of the External Secret sync errors\n# TYPE externalsecret_sync_calls_error counter\n");
            for ((n, ns), v) in &c.sync_calls_error {
                out.push_str(&format!("externalsecret_sync_calls_error{{name=\"{n}\",namespace=\"{ns}\"}} {v}\n"));
            }
            out.push_str("# HELP externalsecret_status_condition The status condition of a specific External Secret\n# TYPE externalsecret_status_condition gauge\n");
            for ((n, ns, cond, st), v) in &c.status_condition {
                out.push_str(&format!("externalsecret_status_condition{{condition=\"{cond}\",name=\"{n}\",namespace=\"{ns}\",status=\"{st}\"}} {v}\n"));
            }
            out.push_str("# HELP externalsecret_provider_api_calls_count Number of API calls towards the secret provider\n# TYPE externalsecret_provider_api_calls_count counter\n");
            for ((p, call, st), v) in &c.provider_api_calls {
                out.push_str(&format!("externalsecret_provider_api_calls_count{{call=\"{call}\",provider=\"{p}\",status=\"{st}\"}} {v}\n"));
            }
            out
        })
    }
}
