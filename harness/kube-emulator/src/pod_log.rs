//! A Pod's `log` subresource (`kubectl logs`, `-f` to follow): its
//! container's lines from the Pod's runner, as plain text, with the
//! options kubectl sends (`container`, `tailLines`, `limitBytes`,
//! `follow`). Following streams the lines written from then on until the
//! container stops, the client goes or the server stops.

use std::sync::Arc;

use bytes::Bytes;
use emulator_core::ResponseBody;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::api::{Api, Query};
use crate::error::ApiError;
use crate::workloads::{PodLog, PodRunner};

/// The options of a log request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Options {
    pub container: Option<String>,
    pub tail_lines: Option<usize>,
    pub limit_bytes: Option<usize>,
    pub follow: bool,
}

impl Options {
    pub(crate) fn parse(query: &Query) -> Result<Self, ApiError> {
        let number = |name: &str| -> Result<Option<usize>, ApiError> {
            match query.get(name) {
                None => Ok(None),
                Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).map_or_else(
                    || {
                        Err(ApiError::bad_request(format!(
                            "{name}: must be a non-negative integer, got {v:?}"
                        )))
                    },
                    |n| Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
                ),
            }
        };
        Ok(Self {
            container: query.get("container").filter(|c| !c.is_empty()).cloned(),
            tail_lines: number("tailLines")?,
            limit_bytes: number("limitBytes")?,
            follow: query.get("follow").is_some_and(|f| f == "true" || f == "1"),
        })
    }
}

/// The container a request names (or the Pod's only one), as the real
/// server refuses a wrong or missing one.
fn container_of(pod: &Value, name: &str, asked: Option<&str>) -> Result<String, ApiError> {
    let names: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    match asked {
        Some(c) if names.contains(&c) => Ok(c.to_owned()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None if names.len() == 1 => Ok(names[0].to_owned()),
        None => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            names.join(" ")
        ))),
    }
}

/// The last `tail` lines, then at most `limit` bytes, newline-terminated.
pub(crate) fn select(lines: &[String], tail: Option<usize>, limit: Option<usize>) -> Vec<u8> {
    let from = tail.map_or(0, |t| lines.len().saturating_sub(t));
    let mut out = Vec::new();
    for l in &lines[from..] {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    if let Some(limit) = limit {
        out.truncate(limit);
    }
    out
}

/// Answers GET pods/NAME/log.
pub(crate) fn serve(
    api: &Api,
    runner: Option<Arc<dyn PodRunner>>,
    pod: &Value,
    query: &Query,
    stop: CancellationToken,
) -> Result<Response<ResponseBody>, ApiError> {
    let opts = Options::parse(query)?;
    let name = crate::metadata::meta_str(pod, "name").unwrap_or_default();
    let container = container_of(pod, name, opts.container.as_deref())?;
    let waiting = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(container.as_str()))
        .and_then(|c| c.pointer("/state/waiting/reason"))
        .and_then(Value::as_str);
    if let Some(reason) = waiting {
        return Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
        )));
    }
    let log = match runner {
        Some(r) => r.log(&api.pod_ref(pod)),
        None => PodLog {
            lines: Vec::new(),
            follow: None,
        },
    };
    let first = select(&log.lines, opts.tail_lines, opts.limit_bytes);
    let body: ResponseBody = if opts.follow {
        let (tx, rx) = mpsc::channel::<Bytes>(256);
        tokio::spawn(follow(first, log.follow, tx, stop));
        BodyExt::boxed(StreamBody::new(futures::stream::unfold(
            rx,
            |mut rx| async move {
                rx.recv()
                    .await
                    .map(|b| (Ok::<_, std::io::Error>(Frame::data(b)), rx))
            },
        )))
    } else {
        emulator_core::full_body(first)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    Ok(resp)
}

async fn follow(
    first: Vec<u8>,
    lines: Option<broadcast::Receiver<String>>,
    tx: mpsc::Sender<Bytes>,
    stop: CancellationToken,
) {
    if !first.is_empty() && tx.send(Bytes::from(first)).await.is_err() {
        return;
    }
    let Some(mut lines) = lines else {
        // A container that writes nothing: the stream stays open, as
        // kubectl logs -f on a quiet container does.
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tx.closed() => {}
        }
        return;
    };
    loop {
        let line = tokio::select! {
            _ = stop.cancelled() => return,
            _ = tx.closed() => return,
            l = lines.recv() => l,
        };
        match line {
            Ok(l) => {
                if tx.send(Bytes::from(format!("{l}\n"))).await.is_err() {
                    return;
                }
            }
            // Lines this reader was too slow for are skipped.
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            // The container stopped.
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tail_and_limit_cut_the_log() {
        let lines: Vec<String> = ["a", "bb", "ccc"].iter().map(|s| s.to_string()).collect();
        assert_eq!(select(&lines, None, None), b"a\nbb\nccc\n");
        assert_eq!(select(&lines, Some(2), None), b"bb\nccc\n");
        assert_eq!(select(&lines, Some(10), Some(4)), b"a\nbb");
        assert_eq!(select(&lines, Some(0), None), b"");
    }

    #[test]
    fn the_container_must_be_the_pods() {
        let one = json!({"spec": {"containers": [{"name": "app"}]}});
        assert_eq!(container_of(&one, "p", None).unwrap(), "app");
        let e = container_of(&one, "p", Some("other")).unwrap_err();
        assert_eq!(e.message, "container other is not valid for pod p");
        let two = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let e = container_of(&two, "p", None).unwrap_err();
        assert_eq!(
            e.message,
            "a container name must be specified for pod p, choose one of: [a b]"
        );
    }

    #[test]
    fn options_refuse_negative_numbers() {
        let q: Query = [("tailLines".to_owned(), "-1".to_owned())].into();
        assert!(Options::parse(&q).is_err());
        let q: Query = [
            ("tailLines".to_owned(), "5".to_owned()),
            ("follow".to_owned(), "true".to_owned()),
        ]
        .into();
        let o = Options::parse(&q).unwrap();
        assert_eq!((o.tail_lines, o.follow), (Some(5), true));
    }
}
