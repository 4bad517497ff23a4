//! The HTTP face of the server: authentication, faults, routing of paths to
//! discovery and to the verbs, and the background controllers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use emulator_core::{Abort, HttpService, RequestBody, ResponseBody, full_body};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::api::{Api, BodyFormat, DeleteOptions, Query};
use crate::discovery;
use crate::error::{ApiError, Reason};
use crate::patch::PatchType;
use crate::path::{self, Target};
use crate::table;
use crate::watch;

/// The API server refuses request bodies over 3 MiB.
pub(crate) const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;

/// The faults every request meets, set through [`crate::KubeEmulator`].
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// Answer every request 503.
    pub unavailable: bool,
    /// Wait this long before answering.
    pub latency: Option<Duration>,
}

pub(crate) struct Shared {
    pub api: Mutex<Api>,
    pub token: String,
    /// Who the token authenticates as.
    pub user: crate::auth::User,
    /// What runs the Pods of Deployments (see `workloads`).
    pub runners: crate::workloads::Runners,
    pub faults: Mutex<Faults>,
    pub server_address: Mutex<String>,
    pub stop: CancellationToken,
    pub wake: Notify,
}

impl Shared {
    pub(crate) fn api(&self) -> MutexGuard<'_, Api> {
        self.api.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the namespace controller and garbage collector whenever a write
    /// leaves work for them, until `stop`.
    pub(crate) async fn run_controllers(self: Arc<Self>) {
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = self.wake.notified() => {}
            }
            // Yield first, so that a client sees what its request did (a
            // namespace Terminating) before the controllers act on it.
            tokio::task::yield_now().await;
            for _ in 0..1000 {
                let changed = {
                    let mut api = self.api();
                    api.dirty = false;
                    api.reconcile_background()
                };
                if !changed {
                    break;
                }
            }
            // Pods to start and stop: outside the lock, each on its own.
            let actions = std::mem::take(&mut self.api().workloads.actions);
            for action in actions {
                tokio::spawn(crate::workloads::run_action(self.clone(), action));
            }
        }
    }
}

pub(crate) struct Service(pub Arc<Shared>);

/// The service as [`crate::KubeEmulator::in_process`] hands it out: it
/// does not keep the server alive, as a client's TCP connection does not.
/// A client held by something the server itself holds (a pod runner's,
/// the embedded ESO's) would otherwise close a cycle through the client's
/// request worker (kube's Buffer task): server, runner, client, worker,
/// server, and neither the task nor the server's store would ever be freed.
/// Once the server is gone, a request is answered as a closed connection.
pub(crate) struct InProcessService(pub std::sync::Weak<Shared>);

impl HttpService for InProcessService {
    async fn call(&self, req: Request<RequestBody>) -> Result<Response<ResponseBody>, Abort> {
        let Some(shared) = self.0.upgrade() else {
            return Err(Abort);
        };
        Service(shared).call(req).await
    }
}

fn json_response(status: StatusCode, value: &Value) -> Response<ResponseBody> {
    bytes_response(status, serde_json::to_vec(value).unwrap_or_default())
}

fn bytes_response(status: StatusCode, json: Vec<u8>) -> Response<ResponseBody> {
    let mut resp = Response::new(full_body(json));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Aggregated discovery, under its own media type.
fn aggregated_response(value: &Value) -> Response<ResponseBody> {
    let mut resp = json_response(StatusCode::OK, value);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(discovery::AGGREGATED_CONTENT_TYPE),
    );
    resp
}

fn error_response(e: &ApiError) -> Response<ResponseBody> {
    if e.reason == crate::error::Reason::NoRoute {
        let mut resp = Response::new(full_body(b"404 page not found\n".to_vec()));
        *resp.status_mut() = StatusCode::NOT_FOUND;
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return resp;
    }
    json_response(e.reason.code(), &e.to_status())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn parse_query(q: Option<&str>) -> Query {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect::<HashMap<_, _>>()
}

fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::new(
        Reason::MethodNotAllowed,
        format!("the server does not allow this method on the requested resource ({method})"),
    )
}

/// The patch a PATCH's content type names, or 415.
fn patch_type(content_type: &str) -> Result<PatchType, ApiError> {
    PatchType::from_content_type(content_type).ok_or_else(|| {
        ApiError::new(Reason::UnsupportedMediaType, format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type:?})"))
    })
}

impl HttpService for Service {
    async fn call(&self, req: Request<RequestBody>) -> Result<Response<ResponseBody>, Abort> {
        let shared = &self.0;
        // A stopped server answers nothing, over a connection (there is
        // none left) or from this process (`KubeEmulator::in_process`).
        if shared.stop.is_cancelled() {
            return Err(Abort);
        }
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_owned();
        let public = matches!(
            path.as_str(),
            "/healthz"
                | "/readyz"
                | "/livez"
                | "/openid/v1/jwks"
                | "/.well-known/openid-configuration"
        );
        if !public {
            let expected = format!("Bearer {}", shared.token);
            if header(&parts.headers, "authorization") != expected {
                return Ok(error_response(&ApiError::new(
                    Reason::Unauthorized,
                    "Unauthorized",
                )));
            }
        }
        if !public && let Err(e) = crate::auth::refuse_impersonation(&parts.headers, &shared.user) {
            return Ok(error_response(&e));
        }
        let faults = shared.faults().clone();
        if let Some(latency) = faults.latency {
            tokio::time::sleep(latency).await;
        }
        if faults.unavailable {
            return Ok(error_response(&ApiError::new(
                Reason::ServiceUnavailable,
                "the server is currently unable to handle the request",
            )));
        }
        let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return Ok(error_response(&ApiError::new(
                    Reason::RequestEntityTooLarge,
                    format!("Request entity too large: limit is {MAX_REQUEST_BYTES}"),
                )));
            }
        };
        let query = parse_query(parts.uri.query());
        let result = self.route(&parts.method, &path, &parts.headers, &query, body);
        let now = {
            let api = shared.api();
            if api.dirty {
                shared.wake.notify_one();
            }
            api.clock.now()
        };
        let mut response = result.unwrap_or_else(|e| error_response(&e));
        // The server's own clock, as an API server's Date header is: clients
        // judge the age of timestamps the server wrote against it (hyper
        // would otherwise write the host's time).
        if let Ok(date) = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&now)
            .map_err(|_| ())
            .and_then(|d| http::HeaderValue::from_str(&d).map_err(|_| ()))
        {
            response.headers_mut().insert(http::header::DATE, date);
        }
        Ok(response)
    }
}

impl Service {
    fn route(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        query: &Query,
        body: Bytes,
    ) -> Result<Response<ResponseBody>, ApiError> {
        let shared = &self.0;
        let mut api = shared.api();
        let target = path::parse(path, &api.catalogue)?;
        let accept = header(headers, "accept");
        let content_type = header(headers, "content-type");
        let ok = |v: Value| Ok(json_response(StatusCode::OK, &v));
        let not_found = || {
            ApiError::new(
                Reason::NotFound,
                "the server could not find the requested resource",
            )
        };
        match target {
            Target::Health => ok(Value::String("ok".into())),
            Target::Version => ok(discovery::version()),
            Target::CoreVersions if discovery::wants_aggregated(accept) => Ok(aggregated_response(
                &discovery::aggregated(&api.catalogue, true),
            )),
            Target::Groups if discovery::wants_aggregated(accept) => Ok(aggregated_response(
                &discovery::aggregated(&api.catalogue, false),
            )),
            Target::CoreVersions => ok(discovery::core_versions(
                &shared
                    .server_address
                    .lock()
                    .map(|s| s.clone())
                    .unwrap_or_default(),
            )),
            Target::Groups => ok(discovery::groups(&api.catalogue)),
            Target::Group(g) => discovery::group(&api.catalogue, &g)
                .ok_or_else(not_found)
                .map(|v| json_response(StatusCode::OK, &v)),
            Target::GroupVersion { group, version } => {
                if *method != Method::GET {
                    return Err(method_not_allowed(method));
                }
                discovery::resource_list(&api.catalogue, &group, &version)
                    .ok_or_else(not_found)
                    .map(|v| json_response(StatusCode::OK, &v))
            }
            Target::OpenApiV2 => Err(not_found()),
            Target::OpenApiV3Root => ok(discovery::openapi_root(
                &api.catalogue,
                api.store.current_rv(),
            )),
            Target::OpenApiV3 { group, version } => {
                discovery::openapi_document(&api.catalogue, &group, &version)
                    .ok_or_else(not_found)
                    .map(|v| json_response(StatusCode::OK, &v))
            }
            Target::Jwks => ok(api.tokens.jwks()),
            Target::OpenIdConfiguration => ok(api.tokens.openid_configuration()),
            Target::Collection { rt, .. } if rt.is_review() => {
                if *method != Method::POST {
                    return Err(method_not_allowed(method));
                }
                let format = BodyFormat::of(&rt, content_type)?;
                let review = api.decode(&rt, format, &body)?;
                let answer = crate::auth::review(&rt, &shared.user, &review)?;
                Ok(json_response(StatusCode::CREATED, &answer))
            }
            Target::Collection { rt, namespace } => match *method {
                Method::GET if query.get("watch").is_some_and(|w| w == "true" || w == "1") => {
                    watch::start(
                        &mut api,
                        rt,
                        namespace,
                        query,
                        table::wants_table(accept),
                        shared.stop.clone(),
                    )
                }
                Method::GET => {
                    if table::wants_table(accept) {
                        return ok(api.list_table(&rt, namespace.as_deref(), query)?);
                    }
                    let list = api.list_json(&rt, namespace.as_deref(), query)?;
                    Ok(bytes_response(StatusCode::OK, list))
                }
                Method::POST => {
                    let format = BodyFormat::of(&rt, content_type)?;
                    let obj = api.decode(&rt, format, &body)?;
                    let (status, created) =
                        api.create_stored(&rt, namespace.as_deref(), obj, query)?;
                    let shown = crate::api::presented(&rt, &rt.api_version(), &created);
                    Ok(json_response(status, &shown))
                }
                Method::DELETE => {
                    let opts = DeleteOptions::parse(&body, query)?;
                    ok(api.delete_collection(&rt, namespace.as_deref(), query, &opts)?)
                }
                _ => Err(method_not_allowed(method)),
            },
            Target::Object {
                rt,
                namespace,
                name,
                sub,
            } => match (method.clone(), sub.as_deref()) {
                (Method::GET, Some("log")) => {
                    let pod = api.get(&rt, namespace.as_deref(), &name)?;
                    let runner = shared.runners.of(&api.pod_ref(&pod));
                    crate::pod_log::serve(&api, runner, &pod, query, shared.stop.clone())
                }
                (Method::GET, Some("scale")) => {
                    ok(crate::scale::get(&api, &rt, namespace.as_deref(), &name)?)
                }
                (Method::PUT, Some("scale")) => {
                    let scale: Value = serde_json::from_slice(&body).map_err(|e| {
                        ApiError::bad_request(format!(
                            "the object provided is unrecognized (must be of type Scale): {e}"
                        ))
                    })?;
                    ok(crate::scale::update(
                        &mut api,
                        &rt,
                        namespace.as_deref(),
                        &name,
                        &scale,
                        query,
                    )?)
                }
                (Method::PATCH, Some("scale")) => {
                    let kind = patch_type(content_type)?;
                    ok(crate::scale::patch(
                        &mut api,
                        &rt,
                        namespace.as_deref(),
                        &name,
                        kind,
                        &body,
                        query,
                    )?)
                }
                (Method::POST, Some("token")) if rt.plural == "serviceaccounts" => {
                    let token =
                        api.token_request(namespace.as_deref().unwrap_or_default(), &name, &body)?;
                    Ok(json_response(StatusCode::CREATED, &token))
                }
                (Method::GET, None | Some("status")) => {
                    let obj = api.get(&rt, namespace.as_deref(), &name)?;
                    if table::wants_table(accept) {
                        let rv = obj
                            .pointer("/metadata/resourceVersion")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        return ok(table::table(&rt, &[obj], &rv, &api.clock, true));
                    }
                    ok(obj)
                }
                (Method::PUT, sub @ (None | Some("status"))) => {
                    let format = BodyFormat::of(&rt, content_type)?;
                    let obj = api.decode(&rt, format, &body)?;
                    ok(api.update(&rt, namespace.as_deref(), &name, sub, obj, query)?)
                }
                (Method::PATCH, sub @ (None | Some("status"))) => {
                    let kind = patch_type(content_type)?;
                    let (status, patched) =
                        api.patch(&rt, namespace.as_deref(), &name, sub, kind, &body, query)?;
                    Ok(json_response(status, &patched))
                }
                (Method::DELETE, None) => {
                    let opts = DeleteOptions::parse(&body, query)?;
                    ok(api.delete(&rt, namespace.as_deref(), &name, &opts)?)
                }
                _ => Err(method_not_allowed(method)),
            },
        }
    }
}
