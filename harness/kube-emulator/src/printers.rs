//! The real server's table printers of the built-in kinds the emulator
//! runs (Event, Deployment, ReplicaSet, Pod): their columns, in their order
//! and with their priorities (priority 1 is shown by `-o wide` only), and
//! how each cell is computed from the object. The server always sends every
//! column; kubectl hides the wide ones.

use emulator_core::Clock;
use serde_json::{Value, json};

use crate::kinds::{Column, ColumnSource, col, name_col};

/// One cell of a printer's row.
pub(crate) type CellFn = fn(&Value, &Clock) -> Value;

fn computed(name: &str, type_: &str, priority: i64, f: CellFn) -> Column {
    let mut c = col(name, type_, ColumnSource::Printer(f));
    c.priority = priority;
    c
}

fn age_col() -> Column {
    col("Age", "string", ColumnSource::Age)
}

/// Go's `duration.HumanDuration`, which every built-in printer's ages use:
/// 45s, 3m20s, 15m, 5h30m, 12h, 3d4h, 20d, 2y30d.
pub(crate) fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let secs = secs.max(0);
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        return match secs % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// Time since a timestamp, as the printers show it (`<unknown>` without one).
pub(crate) fn since(at: Option<&str>, clock: &Clock) -> String {
    match at.and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
        Some(t) => human_duration(clock.now().duration_since(t).as_secs()),
        None => "<unknown>".into(),
    }
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A field of core/v1 Events, or its events.k8s.io/v1 name.
fn either<'a>(obj: &'a Value, core: &str, v1: &str) -> &'a str {
    match str_at(obj, core) {
        "" => str_at(obj, v1),
        s => s,
    }
}

fn int_at(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

// Events: LAST SEEN, TYPE, REASON, OBJECT, SUBOBJECT*, SOURCE*, MESSAGE,
// FIRST SEEN*, COUNT*, NAME* (* wide only).
pub(crate) fn event_columns() -> Vec<Column> {
    vec![
        computed("Last Seen", "string", 0, event_last_seen),
        computed("Type", "string", 0, |o, _| json!(str_at(o, "/type"))),
        computed("Reason", "string", 0, |o, _| json!(str_at(o, "/reason"))),
        col("Object", "string", ColumnSource::InvolvedObject),
        computed("Subobject", "string", 1, |o, _| {
            json!(str_at(o, "/involvedObject/fieldPath"))
        }),
        computed("Source", "string", 1, event_source),
        computed("Message", "string", 0, |o, _| {
            json!(either(o, "/message", "/note").trim())
        }),
        computed("First Seen", "string", 1, |o, clock| {
            let first = either(o, "/firstTimestamp", "/deprecatedFirstTimestamp");
            let first = if first.is_empty() {
                str_at(o, "/eventTime")
            } else {
                first
            };
            json!(since(Some(first), clock))
        }),
        computed("Count", "string", 1, |o, _| {
            let n = o
                .pointer("/series/count")
                .and_then(Value::as_i64)
                .unwrap_or_else(|| int_at(o, "/count").max(int_at(o, "/deprecatedCount")));
            json!(n.max(1))
        }),
        {
            let mut c = computed("Name", "string", 1, |o, _| {
                json!(str_at(o, "/metadata/name"))
            });
            c.format = "name".into();
            c
        },
    ]
}

fn event_last_seen(o: &Value, clock: &Clock) -> Value {
    let at = o
        .pointer("/series/lastObservedTime")
        .or_else(|| o.get("lastTimestamp"))
        .or_else(|| o.get("deprecatedLastTimestamp"))
        .filter(|t| !t.is_null())
        .or_else(|| o.get("eventTime"))
        .and_then(Value::as_str);
    json!(since(at, clock))
}

fn event_source(o: &Value, _: &Clock) -> Value {
    let component = either(o, "/source/component", "/deprecatedSource/component");
    let component = if component.is_empty() {
        either(o, "/reportingComponent", "/reportingController")
    } else {
        component
    };
    match either(o, "/source/host", "/deprecatedSource/host") {
        "" => json!(component),
        host => json!(format!("{component}, {host}")),
    }
}

fn containers(o: &Value, _: &Clock) -> Value {
    json!(list_of(o, "/spec/template/spec/containers", "name"))
}

fn images(o: &Value, _: &Clock) -> Value {
    json!(list_of(o, "/spec/template/spec/containers", "image"))
}

fn list_of(o: &Value, pointer: &str, field: &str) -> String {
    o.pointer(pointer)
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| c.get(field).and_then(Value::as_str).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// A label selector as `metav1.FormatLabelSelector` writes it.
pub(crate) fn selector_text(o: &Value) -> String {
    let Some(sel) = o.pointer("/spec/selector") else {
        return "<none>".into();
    };
    let mut parts: Vec<String> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = str_at(e, "/key");
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(match str_at(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            other => format!("{key} {other}"),
        });
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

/// The desired replicas of a Deployment or ReplicaSet (1 when unset).
pub(crate) fn desired(o: &Value) -> i64 {
    o.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

// Deployments: NAME, READY (ready/desired), UP-TO-DATE, AVAILABLE, AGE,
// CONTAINERS*, IMAGES*, SELECTOR*.
pub(crate) fn deployment_columns() -> Vec<Column> {
    vec![
        name_col(),
        computed("Ready", "string", 0, |o, _| {
            json!(format!(
                "{}/{}",
                int_at(o, "/status/readyReplicas"),
                desired(o)
            ))
        }),
        computed("Up-to-date", "integer", 0, |o, _| {
            json!(int_at(o, "/status/updatedReplicas"))
        }),
        computed("Available", "integer", 0, |o, _| {
            json!(int_at(o, "/status/availableReplicas"))
        }),
        age_col(),
        computed("Containers", "string", 1, containers),
        computed("Images", "string", 1, images),
        computed("Selector", "string", 1, |o, _| json!(selector_text(o))),
    ]
}

// ReplicaSets: NAME, DESIRED, CURRENT, READY, AGE, CONTAINERS*, IMAGES*,
// SELECTOR*.
pub(crate) fn replicaset_columns() -> Vec<Column> {
    vec![
        name_col(),
        computed("Desired", "integer", 0, |o, _| json!(desired(o))),
        computed("Current", "integer", 0, |o, _| {
            json!(int_at(o, "/status/replicas"))
        }),
        computed("Ready", "integer", 0, |o, _| {
            json!(int_at(o, "/status/readyReplicas"))
        }),
        age_col(),
        computed("Containers", "string", 1, containers),
        computed("Images", "string", 1, images),
        computed("Selector", "string", 1, |o, _| json!(selector_text(o))),
    ]
}

// Pods: NAME, READY (ready/containers), STATUS, RESTARTS, AGE, IP*, NODE*,
// NOMINATED NODE*, READINESS GATES*.
pub(crate) fn pod_columns() -> Vec<Column> {
    vec![
        name_col(),
        computed("Ready", "string", 0, pod_ready),
        computed("Status", "string", 0, |o, _| json!(pod_status(o))),
        computed("Restarts", "string", 0, |o, _| {
            let n: i64 = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .map(|cs| cs.iter().map(|c| int_at(c, "/restartCount")).sum())
                .unwrap_or(0);
            json!(n.to_string())
        }),
        age_col(),
        computed("IP", "string", 1, |o, _| {
            json!(none_if_empty(str_at(o, "/status/podIP")))
        }),
        computed("Node", "string", 1, |o, _| {
            json!(none_if_empty(str_at(o, "/spec/nodeName")))
        }),
        computed("Nominated Node", "string", 1, |o, _| {
            json!(none_if_empty(str_at(o, "/status/nominatedNodeName")))
        }),
        computed("Readiness Gates", "string", 1, |_, _| json!("<none>")),
    ]
}

fn none_if_empty(s: &str) -> &str {
    if s.is_empty() { "<none>" } else { s }
}

fn pod_ready(o: &Value, _: &Clock) -> Value {
    let total = o
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ready = o
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map_or(0, |cs| {
            cs.iter()
                .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
                .count()
        });
    json!(format!("{ready}/{total}"))
}

/// The STATUS column: Terminating while deleted, else a waiting or
/// terminated container's reason, else the phase.
pub(crate) fn pod_status(o: &Value) -> String {
    if crate::metadata::is_deleting(o) {
        return "Terminating".into();
    }
    for c in o
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for state in ["waiting", "terminated"] {
            let reason = str_at(c, &format!("/state/{state}/reason"));
            if !reason.is_empty() {
                return reason.into();
            }
        }
    }
    match str_at(o, "/status/phase") {
        "" => "Pending".into(),
        phase => phase.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_are_go_s() {
        let cases = [
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (200, "3m20s"),
            (600, "10m"),
            (3 * 3600 - 60, "179m"),
            (3 * 3600 + 30 * 60, "3h30m"),
            (12 * 3600, "12h"),
            (3 * 86_400 + 4 * 3600, "3d4h"),
            (20 * 86_400, "20d"),
            (3 * 365 * 86_400, "3y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
    }

    #[test]
    fn pod_status_says_terminating_then_reasons_then_phase() {
        let running = json!({"status": {"phase": "Running"}});
        assert_eq!(pod_status(&running), "Running");
        let waiting = json!({"status": {"phase": "Pending", "containerStatuses": [
            {"state": {"waiting": {"reason": "ContainerCreating"}}}]}});
        assert_eq!(pod_status(&waiting), "ContainerCreating");
        let deleted = json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"},
            "status": {"phase": "Running"}});
        assert_eq!(pod_status(&deleted), "Terminating");
    }

    #[test]
    fn selectors_print_as_kubectl_prints_them() {
        let d = json!({"spec": {"selector": {"matchLabels": {"app": "x", "tier": "web"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]}}});
        assert_eq!(selector_text(&d), "app=x,tier=web,env in (a,b)");
        assert_eq!(selector_text(&json!({})), "<none>");
    }
}
