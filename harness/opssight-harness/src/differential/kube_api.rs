//! The kube API's differential: one list of HTTP requests replayed in
//! order against the kube-emulator and against the real kube-apiserver,
//! each response flattened to `field → value` and normalised, as a
//! [`Recording`] of its own (one "scenario" per request), so that
//! `differential` compares the two with the table in the kube-emulator's
//! README exactly as it compares ESO's.
//!
//! A request's path may name a value an earlier response saved
//! (`save: {rv: /metadata/resourceVersion}` then `path: ...?resourceVersion={rv}`),
//! which is how a watch starts where a list ended.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::Value;
use sha2::Digest as _;

use super::compare::{Recording, ScenarioRecord};
use super::observe::{Checkpoint, normalise};

/// The property that names the real side of a kube API recording in the
/// differential's table.
pub const REAL_NAME: &str = "real.name";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn http(self) -> http::Method {
        match self {
            Self::Get => http::Method::GET,
            Self::Post => http::Method::POST,
            Self::Put => http::Method::PUT,
            Self::Patch => http::Method::PATCH,
            Self::Delete => http::Method::DELETE,
        }
    }
}

/// What a request sends: a JSON value, or bytes as written (malformed
/// input, YAML for apply).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Body {
    Raw { raw: String },
    Json(Value),
}

/// One request of the corpus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Unique within the corpus: the differential's row names it.
    pub name: String,
    pub method: Method,
    pub path: String,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub accept: Option<String>,
    #[serde(default)]
    pub body: Option<Body>,
    /// Sent without credentials.
    #[serde(default)]
    pub anonymous: bool,
    /// Values of this response for later paths: name → JSON pointer.
    #[serde(default)]
    pub save: BTreeMap<String, String>,
    /// Sent again (up to 30 s) until the object has this condition True,
    /// for what a real server does a moment later (a CRD Established);
    /// the last answer is the one recorded.
    #[serde(default)]
    pub until_condition: Option<String>,
    /// Only this part of the response body is compared: a path of object
    /// keys, array indexes and `[field=value]` (the array's element whose
    /// `field`, dotted for nested, is that string), as in
    /// `/items/[metadata.name=example.com]`. For a document that holds
    /// much a real server has and the emulator need not (every API group).
    #[serde(default)]
    pub select: Option<String>,
}

/// The part of `value` that `select` names, if there is one.
fn selected<'a>(value: &'a Value, select: &str) -> Option<&'a Value> {
    select.split('/').skip(1).try_fold(value, |at, segment| {
        match segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(filter) => {
                let (field, wanted) = filter.split_once('=')?;
                let pointer = format!("/{}", field.replace('.', "/"));
                at.as_array()?
                    .iter()
                    .find(|item| item.pointer(&pointer).and_then(Value::as_str) == Some(wanted))
            }
            None => match at {
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
                _ => at.get(segment),
            },
        }
    })
}

/// How long a request with `until_condition` is repeated.
const UNTIL_TIMEOUT: Duration = Duration::from_secs(30);

fn has_condition(body: &[u8], wanted: &str) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| {
        v.pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == wanted && c["status"] == "True")
            })
    })
}

/// The corpus, checked before anything starts: names unique, bodies and
/// paths well formed, every `{name}` saved by an earlier request.
pub fn load(path: &Path) -> anyhow::Result<Vec<Request>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let requests: Vec<Request> =
        serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut names = std::collections::BTreeSet::new();
    let mut saved = std::collections::BTreeSet::new();
    for (i, r) in requests.iter().enumerate() {
        let at = || format!("{}: request {} ({:?})", path.display(), i + 1, r.name);
        if !names.insert(r.name.as_str()) {
            anyhow::bail!("{}: the name is used twice", at());
        }
        if r.until_condition.is_some() && r.method != Method::Get {
            anyhow::bail!("{}: until_condition repeats a GET only", at());
        }
        if !r.path.starts_with('/') {
            anyhow::bail!("{}: path must start with /: {:?}", at(), r.path);
        }
        for var in placeholders(&r.path) {
            if !saved.contains(var) {
                anyhow::bail!(
                    "{}: path names {{{var}}}, which no earlier request saves",
                    at()
                );
            }
        }
        if let Some(select) = &r.select
            && !select.starts_with('/')
        {
            anyhow::bail!(
                "{}: select must start with / (/items/[metadata.name=x]): {select:?}",
                at()
            );
        }
        for (var, pointer) in &r.save {
            if !pointer.starts_with('/') {
                anyhow::bail!(
                    "{}: save.{var} must be a JSON pointer (/a/b): {pointer:?}",
                    at()
                );
            }
            saved.insert(var.as_str());
        }
    }
    Ok(requests)
}

fn placeholders(path: &str) -> impl Iterator<Item = &str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(var, _)| var))
}

/// The two clients a replay uses: the harness's (an administrator) and one
/// without credentials.
pub struct Clients {
    pub admin: kube::Client,
    pub anonymous: kube::Client,
}

impl Clients {
    /// Both clients from one kubeconfig (the anonymous one drops its user).
    pub async fn from_kubeconfig(kubeconfig: kube::config::Kubeconfig) -> anyhow::Result<Self> {
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .context("the kubeconfig")?;
        // A replay wants each answer itself, not kube-rs's retries of 5xx.
        config.default_retry = false;
        let admin = kube::Client::try_from(config.clone()).context("the admin client")?;
        config.auth_info = Default::default();
        let anonymous = kube::Client::try_from(config).context("the anonymous client")?;
        Ok(Self { admin, anonymous })
    }
}

/// How long a response may take; a watch ends by its own `timeoutSeconds`.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(20);

/// Every request in order, each response recorded.
pub async fn replay(
    clients: &Clients,
    requests: &[Request],
    environment: &str,
    properties: Vec<(String, String)>,
) -> anyhow::Result<Recording> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut scenarios = BTreeMap::new();
    for r in requests {
        let mut path = r.path.clone();
        for (var, value) in &vars {
            path = path.replace(&format!("{{{var}}}"), value);
        }
        let (content_type, body) = match &r.body {
            None => (None, Vec::new()),
            Some(Body::Raw { raw }) => (Some("application/json"), raw.clone().into_bytes()),
            Some(Body::Json(v)) => (Some("application/json"), serde_json::to_vec(v)?),
        };
        let client = if r.anonymous {
            &clients.anonymous
        } else {
            &clients.admin
        };
        let deadline = tokio::time::Instant::now() + UNTIL_TIMEOUT;
        let answered = loop {
            let mut req = http::Request::builder().method(r.method.http()).uri(&path);
            if let Some(ct) = r.content_type.as_deref().or(content_type) {
                req = req.header(http::header::CONTENT_TYPE, ct);
            }
            req = req.header(
                http::header::ACCEPT,
                r.accept.as_deref().unwrap_or("application/json"),
            );
            let req = req
                .body(kube::client::Body::from(body.clone()))
                .with_context(|| format!("request {:?}", r.name))?;
            let answered = tokio::time::timeout(RESPONSE_TIMEOUT, async {
                let resp = client.send(req).await?;
                let status = resp.status().as_u16();
                let content_type = resp
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let bytes = resp.into_body().collect_bytes().await?;
                Ok::<_, kube::Error>((status, content_type, bytes))
            })
            .await;
            let done = match (&r.until_condition, &answered) {
                (None, _) => true,
                (Some(c), Ok(Ok((_, _, bytes)))) => has_condition(bytes, c),
                (Some(_), _) => false,
            };
            if done || tokio::time::Instant::now() >= deadline {
                break answered;
            }
            // Polling the condition the request names, bounded above.
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let mut fields = BTreeMap::new();
        match answered {
            Err(_) => {
                fields.insert(
                    "response".to_owned(),
                    format!("(none within {RESPONSE_TIMEOUT:?})"),
                );
            }
            Ok(Err(e)) => {
                fields.insert("response".to_owned(), normalise(&e.to_string()));
            }
            Ok(Ok((status, content_type, bytes))) => {
                fields.insert("status".to_owned(), status.to_string());
                fields.insert("content-type".to_owned(), content_type.clone());
                let watch = path.contains("watch=");
                match &r.select {
                    None => response_fields(&bytes, watch, &mut fields),
                    Some(select) => {
                        let part = serde_json::from_slice::<Value>(&bytes)
                            .ok()
                            .and_then(|v| selected(&v, select).cloned());
                        match part {
                            Some(part) => {
                                response_fields(&serde_json::to_vec(&part)?, false, &mut fields)
                            }
                            None => {
                                fields.insert("body".to_owned(), format!("(nothing at {select})"));
                            }
                        }
                    }
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                    for (var, pointer) in &r.save {
                        if let Some(x) = v.pointer(pointer) {
                            let text = x.as_str().map_or_else(|| x.to_string(), str::to_owned);
                            vars.insert(var.clone(), text);
                        }
                    }
                }
            }
        }
        scenarios.insert(
            // Named without its place, so that a request added to the
            // corpus leaves the declared rows of the others as they are.
            format!("kube API: {}", r.name),
            ScenarioRecord {
                outcome: "passed".to_owned(),
                checkpoints: vec![Checkpoint {
                    label: "response".to_owned(),
                    fields,
                }],
            },
        );
    }
    Ok(Recording {
        environment: environment.to_owned(),
        properties,
        scenarios,
    })
}

/// The requests against a fresh kube-emulator of its own.
pub async fn on_kube_emulator(requests: &[Request]) -> anyhow::Result<Recording> {
    let emulator = kube_emulator::KubeEmulator::builder()
        .start()
        .await
        .context("starting the kube-emulator")?;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&emulator.kubeconfig(None))
        .context("the kube-emulator's kubeconfig")?;
    let clients = Clients::from_kubeconfig(kubeconfig).await?;
    replay(&clients, requests, "kube-emulator", Vec::new()).await
}

/// The requests against the real kube-apiserver of `--env binaries`
/// (started for them, stopped after).
pub async fn on_real_apiserver(
    opts: crate::env::binaries::BinariesOptions,
    requests: &[Request],
) -> anyhow::Result<Recording> {
    let requests = requests.to_vec();
    crate::env::binaries::with_control_plane(opts, |plane| async move {
        let kubeconfig = kube::config::Kubeconfig::read_from(&plane.kubeconfig)
            .with_context(|| format!("reading {}", plane.kubeconfig.display()))?;
        let clients = Clients::from_kubeconfig(kubeconfig).await?;
        let name = format!("real kube-apiserver {}", plane.apiserver_version);
        replay(
            &clients,
            &requests,
            "binaries",
            vec![(REAL_NAME.to_owned(), name)],
        )
        .await
    })
    .await
}

/// A response body as fields: JSON flattened (`body.metadata.name`), a
/// watch's events one per line (`event[0]`), anything else as normalised
/// text.
fn response_fields(bytes: &[u8], watch: bool, out: &mut BTreeMap<String, String>) {
    if watch {
        let text = String::from_utf8_lossy(bytes);
        for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let event = serde_json::from_str::<Value>(line).unwrap_or(Value::Null);
            let object = &event["object"];
            let what = match object["kind"].as_str() {
                Some("Status") => format!(
                    "{} {} {}",
                    object["code"],
                    object["reason"].as_str().unwrap_or_default(),
                    object["message"].as_str().unwrap_or_default()
                ),
                Some(kind) => format!(
                    "{kind}/{}",
                    object
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                ),
                None => "(not an event)".to_owned(),
            };
            out.insert(
                format!("event[{i}]"),
                normalise(&format!("{} {what}", event["type"].as_str().unwrap_or("?"))),
            );
        }
        return;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            ages_of_table(&mut v);
            flatten("body", &v, Context::default(), out)
        }
        Err(_) if bytes.is_empty() => {}
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            let text: String = text.trim().chars().take(200).collect();
            out.insert("body".to_owned(), normalise(&text));
        }
    }
}

/// A Table's Age cells say how long ago a run created the object.
fn ages_of_table(v: &mut Value) {
    if v["kind"] != "Table" {
        return;
    }
    let ages: Vec<usize> = v["columnDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, c)| c["name"] == "Age")
        .map(|(i, _)| i)
        .collect();
    for row in v["rows"].as_array_mut().into_iter().flatten() {
        for &i in &ages {
            if let Some(cell) = row["cells"].get_mut(i) {
                *cell = Value::String("<age>".to_owned());
            }
        }
    }
}

/// What a flattened value's place says about how to show it.
#[derive(Debug, Clone, Copy, Default)]
struct Context {
    /// Under `data`, `stringData` or `binaryData`: a value, shown as its
    /// length and a short hash.
    value: bool,
}

/// Fields whose values are per server or per run by construction.
fn volatile(path: &str) -> Option<&'static str> {
    let last = path.rsplit('.').next().unwrap_or_default();
    match last {
        "uid" | "resourceVersion" | "creationTimestamp" | "deletionTimestamp" | "selfLink" => {
            Some("")
        }
        "managedFields" => Some(""),
        "continue" => Some("<continue token>"),
        "token" if path.ends_with("status.token") => Some("<token>"),
        "expirationTimestamp" => Some("<time>"),
        _ => None,
    }
}

fn flatten(path: &str, v: &Value, cx: Context, out: &mut BTreeMap<String, String>) {
    if let Some(shown) = volatile(path) {
        if !shown.is_empty() && !v.is_null() && v != "" {
            out.insert(path.to_owned(), shown.to_owned());
        }
        return;
    }
    match v {
        Value::Object(map) => {
            // A generated name's random suffix, named by its prefix.
            let generated = map
                .get("generateName")
                .and_then(Value::as_str)
                .map(str::to_owned);
            for (k, x) in map {
                let p = format!("{path}.{k}");
                let cx = Context {
                    value: cx.value || matches!(k.as_str(), "data" | "stringData" | "binaryData"),
                };
                match (k.as_str(), &generated, x.as_str()) {
                    ("name", Some(prefix), Some(name)) if name.starts_with(prefix.as_str()) => {
                        out.insert(p, format!("{prefix}<generated>"));
                    }
                    _ => flatten(&p, x, cx, out),
                }
            }
            if map.is_empty() {
                out.insert(path.to_owned(), "{}".to_owned());
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), x, cx, out);
            }
            if items.is_empty() {
                out.insert(path.to_owned(), "[]".to_owned());
            }
        }
        // A certificate is made per run (the root CA a cluster publishes).
        Value::String(s) if s.starts_with("-----BEGIN CERTIFICATE-----") => {
            let n = s.matches("-----BEGIN CERTIFICATE-----").count();
            out.insert(path.to_owned(), format!("<PEM, {n} certificate(s)>"));
        }
        Value::String(s) if cx.value => {
            let hash = hex::encode(&sha2::Sha256::digest(s.as_bytes())[..4]);
            out.insert(
                path.to_owned(),
                format!("<{} chars, sha256 {hash}>", s.len()),
            );
        }
        Value::String(s) => {
            out.insert(path.to_owned(), normalise(s));
        }
        other => {
            out.insert(path.to_owned(), other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str, watch: bool) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        response_fields(body.as_bytes(), watch, &mut out);
        out
    }

    #[test]
    fn a_secrets_values_are_never_recorded_only_their_length_and_hash() {
        let f = fields(
            r#"{"kind":"Secret","metadata":{"name":"s","uid":"u","resourceVersion":"7"},"data":{"password":"c2VjcmV0LXZhbHVl"}}"#,
            false,
        );
        assert_eq!(f["body.kind"], "Secret");
        assert_eq!(f["body.metadata.name"], "s");
        assert!(!f.contains_key("body.metadata.uid"));
        assert!(!f.contains_key("body.metadata.resourceVersion"));
        let shown = &f["body.data.password"];
        assert!(shown.starts_with("<16 chars, sha256 "), "{shown}");
        assert!(!f.values().any(|v| v.contains("c2VjcmV0")), "{f:?}");
    }

    #[test]
    fn generated_names_and_watch_events_are_normalised() {
        let f = fields(
            r#"{"metadata":{"generateName":"cm-","name":"cm-x7k2p"}}"#,
            false,
        );
        assert_eq!(f["body.metadata.name"], "cm-<generated>");
        let w = fields(
            "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}}\n\
             {\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\",\"message\":\"too old\"}}\n",
            true,
        );
        assert_eq!(w["event[0]"], "ADDED ConfigMap/a");
        assert_eq!(w["event[1]"], "ERROR 410 Expired too old");
    }

    #[test]
    fn select_picks_by_key_index_and_field_value() {
        let doc: Value = serde_json::from_str(
            r#"{"items":[{"metadata":{"name":"apps"},"versions":[{"version":"v1"}]},
                         {"metadata":{"name":"example.com"},"versions":[{"version":"v2"},{"version":"v1"}]}]}"#,
        )
        .unwrap();
        let group = selected(&doc, "/items/[metadata.name=example.com]").unwrap();
        assert_eq!(group["metadata"]["name"], "example.com");
        assert_eq!(
            selected(
                &doc,
                "/items/[metadata.name=example.com]/versions/1/version"
            ),
            Some(&Value::from("v1"))
        );
        assert_eq!(selected(&doc, "/items/[metadata.name=missing]"), None);
        assert_eq!(selected(&doc, "/items/7"), None);
        assert_eq!(selected(&doc, "/nothing"), None);
    }

    #[test]
    fn a_corpus_naming_an_unsaved_value_is_refused_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("requests.yaml");
        std::fs::write(
            &p,
            "- {name: list, method: GET, path: /api/v1/namespaces}\n\
             - {name: watch, method: GET, path: '/api/v1/namespaces?watch=1&resourceVersion={rv}'}\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("request 2") && e.contains("{rv}"), "{e}");
        std::fs::write(
            &p,
            "- {name: a, method: GET, path: /api}\n- {name: a, method: GET, path: /api}\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("used twice"), "{e}");
        std::fs::write(&p, "- {name: a, method: FETCH, path: /api}\n").unwrap();
        let e = format!("{:#}", load(&p).unwrap_err());
        assert!(e.contains("requests.yaml"), "{e}");
    }
}
