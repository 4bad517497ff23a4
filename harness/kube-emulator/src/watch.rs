//! Watches: a stream of JSON lines `{"type": ..., "object": ...}` replayed
//! from a resourceVersion (410 Gone when the log no longer reaches back) and
//! then live, filtered by namespace and selectors, with bookmarks.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use emulator_core::ResponseBody;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::api::{Api, Query};
use crate::error::ApiError;
use crate::kinds::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Change, EventType};
use crate::table;

struct Filter {
    rt: Arc<ResourceType>,
    /// `rt.api_version()`, computed once.
    api_version: String,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    /// The event a client of this watch sees for a change, if any: an
    /// object moving out of the selection is DELETED for it, into it ADDED.
    fn view<'c>(&self, change: &'c Change) -> Option<(&'static str, Cow<'c, Value>)> {
        if change.res != self.rt.key() {
            return None;
        }
        if self.rt.namespaced
            && self
                .namespace
                .as_ref()
                .is_some_and(|ns| *ns != change.namespace)
        {
            return None;
        }
        let now = self.present(&change.object);
        let before = change.previous.as_deref().map(|p| self.present(p));
        let now_in = self.matches(&now);
        let was_in = before.as_ref().is_some_and(|b| self.matches(b));
        match change.kind {
            EventType::Added if now_in => Some(("ADDED", now)),
            EventType::Deleted if was_in || now_in => Some(("DELETED", now)),
            EventType::Modified if now_in && was_in => Some(("MODIFIED", now)),
            EventType::Modified if now_in => Some(("ADDED", now)),
            EventType::Modified if was_in => Some(("DELETED", now)),
            _ => None,
        }
    }

    fn present<'o>(&self, obj: &'o Value) -> Cow<'o, Value> {
        crate::api::presented(&self.rt, &self.api_version, obj)
    }
}

/// How many bytes of events one write to the client gathers: a burst of
/// changes goes out in a few chunks rather than one each.
const BATCH_BYTES: usize = 256 * 1024;

fn line(kind: &str, object: &Value) -> Bytes {
    let mut bytes = Vec::new();
    push_line(&mut bytes, kind, object);
    Bytes::from(bytes)
}

/// Appends `{"object":...,"type":"KIND"}` and a newline: the bytes of
/// serializing that event as a value (its keys in order), without first
/// copying the object into one.
fn push_line(out: &mut Vec<u8>, kind: &str, object: &Value) {
    let start = out.len();
    out.extend_from_slice(b"{\"object\":");
    let written = serde_json::to_writer(&mut *out, object)
        .and_then(|()| {
            out.extend_from_slice(b",\"type\":");
            serde_json::to_writer(&mut *out, kind)
        })
        .is_ok();
    if written {
        out.extend_from_slice(b"}\n");
    } else {
        out.truncate(start);
    }
}

fn gone(rv: u64, oldest: u64) -> Value {
    ApiError::gone(format!("too old resource version: {rv} ({oldest})")).to_status()
}

/// Starts a watch; the response streams until the client goes, the timeout
/// passes or the server stops.
pub(crate) fn start(
    api: &mut Api,
    rt: Arc<ResourceType>,
    namespace: Option<String>,
    query: &Query,
    as_table: bool,
    stop: CancellationToken,
) -> Result<Response<ResponseBody>, ApiError> {
    let (labels, fields) = Api::selectors(query)?;
    fields.supported_by(&rt.kind)?;
    let filter = Filter {
        api_version: rt.api_version(),
        rt: rt.clone(),
        namespace,
        labels,
        fields,
    };
    let requested: Option<u64> = match query.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let bookmarks = query
        .get("allowWatchBookmarks")
        .is_some_and(|v| v == "true" || v == "1");
    let initial_events_end = query.get("sendInitialEvents").is_some_and(|v| v == "true");
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let mut first: Vec<Bytes> = Vec::new();
    let mut last_rv = api.store.current_rv();
    let receiver = api.store.subscribe();
    let mut table_started = false;
    let mut ended = false;
    let clock = api_clock(api);
    let encode = |kind: &str, obj: &Value, table_started: &mut bool| -> Bytes {
        let mut out = Vec::new();
        push_event(&mut out, &rt, kind, obj, as_table, table_started, &clock);
        Bytes::from(out)
    };
    match requested {
        None => {
            for obj in api.store.list(
                &rt.key(),
                filter.namespace.as_deref().filter(|_| rt.namespaced),
            ) {
                let presented = filter.present(&obj);
                if filter.matches(&presented) {
                    first.push(encode("ADDED", &presented, &mut table_started));
                }
            }
            if initial_events_end {
                first.push(line("BOOKMARK", &bookmark(&rt, last_rv, true)));
            }
        }
        Some(rv) => match api.store.changes_since(rv) {
            None => {
                first.push(line("ERROR", &gone(rv, last_rv)));
                ended = true;
            }
            Some(changes) => {
                for c in changes {
                    if let Some((kind, obj)) = filter.view(&c) {
                        first.push(encode(kind, &obj, &mut table_started));
                    }
                }
                last_rv = last_rv.max(rv);
            }
        },
    }
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    tokio::spawn(async move {
        for l in first {
            if tx.send(l).await.is_err() {
                return;
            }
        }
        if ended {
            return;
        }
        forward(
            receiver,
            tx,
            filter,
            last_rv,
            bookmarks,
            timeout,
            stop,
            as_table,
            table_started,
            clock,
        )
        .await;
    });
    let body = StreamBody::new(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::io::Error>(Frame::data(b)), rx))
    }));
    let mut resp = Response::new(BodyExt::boxed(body));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

fn api_clock(api: &Api) -> emulator_core::Clock {
    api.clock.clone()
}

fn bookmark(rt: &ResourceType, rv: u64, initial_end: bool) -> Value {
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    json!({ "kind": rt.kind, "apiVersion": rt.api_version(), "metadata": meta })
}

#[allow(clippy::too_many_arguments)]
async fn forward(
    mut receiver: broadcast::Receiver<Arc<Change>>,
    tx: mpsc::Sender<Bytes>,
    filter: Filter,
    mut last_rv: u64,
    bookmarks: bool,
    timeout: Duration,
    stop: CancellationToken,
    as_table: bool,
    mut table_started: bool,
    clock: emulator_core::Clock,
) {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.tick().await;
    loop {
        let change = tokio::select! {
            _ = stop.cancelled() => return,
            _ = &mut deadline => return,
            _ = tx.closed() => return,
            _ = tick.tick(), if bookmarks => {
                if tx.send(line("BOOKMARK", &bookmark(&filter.rt, last_rv, false))).await.is_err() { return; }
                continue;
            }
            c = receiver.recv() => c,
        };
        // This change and whatever else is already waiting, in one write.
        let mut batch = Vec::new();
        let mut next = Some(change);
        while let Some(change) = next.take() {
            let change = match change {
                Ok(c) => c,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // This watcher fell too far behind: it must re-list, as with etcd compaction.
                    push_line(&mut batch, "ERROR", &gone(last_rv, last_rv));
                    let _ = tx.send(Bytes::from(batch)).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    if !batch.is_empty() {
                        let _ = tx.send(Bytes::from(batch)).await;
                    }
                    return;
                }
            };
            if change.rv > last_rv {
                last_rv = change.rv;
                if let Some((kind, obj)) = filter.view(&change) {
                    push_event(
                        &mut batch,
                        &filter.rt,
                        kind,
                        &obj,
                        as_table,
                        &mut table_started,
                        &clock,
                    );
                }
            }
            if batch.len() < BATCH_BYTES {
                next = match receiver.try_recv() {
                    Ok(c) => Some(Ok(c)),
                    Err(broadcast::error::TryRecvError::Empty) => None,
                    Err(broadcast::error::TryRecvError::Lagged(n)) => {
                        Some(Err(broadcast::error::RecvError::Lagged(n)))
                    }
                    Err(broadcast::error::TryRecvError::Closed) => {
                        Some(Err(broadcast::error::RecvError::Closed))
                    }
                };
            }
        }
        if !batch.is_empty() && tx.send(Bytes::from(batch)).await.is_err() {
            return;
        }
    }
}

/// Appends one event, as a Table row when the client asked for a Table
/// (the first of a watch with the column definitions).
fn push_event(
    out: &mut Vec<u8>,
    rt: &ResourceType,
    kind: &str,
    obj: &Value,
    as_table: bool,
    table_started: &mut bool,
    clock: &emulator_core::Clock,
) {
    if as_table {
        let rv = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let t = table::table(rt, std::slice::from_ref(obj), rv, clock, !*table_started);
        *table_started = true;
        push_line(out, kind, &t);
    } else {
        push_line(out, kind, obj);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::line;

    /// The event written in place is the event value serialized.
    #[test]
    fn a_line_is_the_serialized_event() {
        let object = json!({"metadata": {"name": "a\"b", "labels": {"x": "y"}}, "data": {"k": "dg=="}, "n": [1, 2.5, null]});
        for kind in ["ADDED", "MODIFIED", "DELETED"] {
            let mut want = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap();
            want.push(b'\n');
            assert_eq!(line(kind, &object).to_vec(), want);
        }
    }
}
