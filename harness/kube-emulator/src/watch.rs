//! Watches: a stream of JSON lines `{"type": ..., "object": ...}` replayed
//! from a resourceVersion (410 Gone when the log no longer reaches back) and
//! then live, filtered by namespace and selectors, with bookmarks.

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
    fn view(
        &self,
        api_present: &dyn Fn(&Value) -> Value,
        change: &Change,
    ) -> Option<(&'static str, Value)> {
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
        let now = api_present(&change.object);
        let before = change.previous.as_ref().map(|p| api_present(p));
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
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut bytes =
        serde_json::to_vec(&json!({ "type": kind, "object": object })).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

fn gone(rv: u64, oldest: u64) -> Value {
    ApiError::gone(format!("too old resource version: {rv} ({oldest})")).to_status()
}

/// Starts a watch; the response streams until the client goes, the timeout
/// passes or the server stops.
pub fn start(
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
    let presenter = {
        let rt = rt.clone();
        move |api: &Api, v: &Value| api.present(&rt, v)
    };
    let mut first: Vec<Bytes> = Vec::new();
    let mut last_rv = api.store.current_rv();
    let receiver = api.store.subscribe();
    let mut table_started = false;
    let mut ended = false;
    let encode = |kind: &str, obj: Value, table_started: &mut bool| -> Bytes {
        if as_table {
            let t = table::table(
                &rt,
                std::slice::from_ref(&obj),
                obj.pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                &api_clock(api),
                !*table_started,
            );
            *table_started = true;
            line(kind, &t)
        } else {
            line(kind, &obj)
        }
    };
    match requested {
        None => {
            for obj in api.store.list(
                &rt.key(),
                filter.namespace.as_deref().filter(|_| rt.namespaced),
            ) {
                let presented = presenter(api, &obj);
                if filter.matches(&presented) {
                    first.push(encode("ADDED", presented, &mut table_started));
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
                    if let Some((kind, obj)) = filter.view(&|v| presenter(api, v), &c) {
                        first.push(encode(kind, obj, &mut table_started));
                    }
                }
                last_rv = last_rv.max(rv);
            }
        },
    }
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let shared_present = api.presenter_handle();
    let clock = api_clock(api);
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
            shared_present,
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
    present: crate::api::Presenter,
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
        let change = match change {
            Ok(c) => c,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // This watcher fell too far behind: it must re-list, as with etcd compaction.
                let _ = tx.send(line("ERROR", &gone(last_rv, last_rv))).await;
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if change.rv <= last_rv {
            continue;
        }
        last_rv = change.rv;
        let Some((kind, obj)) = filter.view(&|v| present(&filter.rt, v), &change) else {
            continue;
        };
        let bytes = if as_table {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let t = table::table(
                &filter.rt,
                std::slice::from_ref(&obj),
                &rv,
                &clock,
                !table_started,
            );
            table_started = true;
            line(kind, &t)
        } else {
            line(kind, &obj)
        };
        if tx.send(bytes).await.is_err() {
            return;
        }
    }
}
