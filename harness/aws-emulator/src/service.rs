//! The HTTP face of the emulator: reads a request, applies the faults of its
//! region, authenticates it, routes it to Secrets Manager or STS, and records
//! it in the audit trail. Admin paths under `/_emulator/` are for the harness:
//! they serve every secret, so they need the run's admin token.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use emulator_core::{Abort, Clock, HttpService, RequestBody, ResponseBody, full_body};
use http::{HeaderValue, Method, Request, Response, StatusCode, request::Parts};
use http_body_util::{BodyExt, Limited};

use crate::audit::{AuditEvent, AuditLog};
use crate::error::{AwsError, ErrorCode};
use crate::faults::{Faults, Outage, RegionFaults};
use crate::identity::{Caller, Iam};
use crate::secrets::{Authorize, Call, SecretsManager};
use crate::snapshot::Snapshot;
use crate::{AuthMode, sigv4, sts};

/// Requests larger than this are refused before parsing. The largest legal
/// request (a 64 KiB SecretString, JSON-escaped) fits well within it.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

pub(crate) struct Shared {
    pub(crate) secrets: Mutex<SecretsManager>,
    pub(crate) iam: RwLock<Iam>,
    pub(crate) audit: AuditLog,
    /// Derived SigV4 signing keys, so that a request costs one HMAC, not five.
    pub(crate) signing_keys: sigv4::SigningKeys,
    pub(crate) faults: RwLock<Faults>,
    pub(crate) clock: Clock,
    pub(crate) auth: AuthMode,
    pub(crate) default_region: String,
    /// What `/_emulator/` requests must carry as `Authorization: Bearer ...`.
    pub(crate) admin_token: String,
}

impl Shared {
    pub(crate) fn secrets(&self) -> MutexGuard<'_, SecretsManager> {
        self.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn iam(&self) -> RwLockReadGuard<'_, Iam> {
        self.iam.read().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn iam_mut(&self) -> RwLockWriteGuard<'_, Iam> {
        self.iam.write().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn faults(&self) -> RwLockReadGuard<'_, Faults> {
        self.faults.read().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn faults_mut(&self) -> RwLockWriteGuard<'_, Faults> {
        self.faults.write().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) struct Service(pub Arc<Shared>);

enum Protocol {
    SecretsManager(String),
    Sts(std::collections::HashMap<String, String>),
}

/// Decides with IAM for an authenticated caller; allows everything when
/// authentication is off.
struct Authorizer<'a> {
    iam: &'a Iam,
    caller: Option<&'a Caller>,
}

impl Authorize for Authorizer<'_> {
    fn authorize(&self, action: &str, resource: &str) -> Result<(), AwsError> {
        match self.caller {
            Some(c) => self.iam.authorize(c, action, resource),
            None => Ok(()),
        }
    }
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<ResponseBody> {
    let mut resp = Response::new(full_body(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    resp.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_str(&sts::request_id()).unwrap_or(HeaderValue::from_static("0")),
    );
    resp
}

fn json_error(err: &AwsError) -> Response<ResponseBody> {
    let mut resp = respond(
        err.code.status(),
        "application/x-amz-json-1.1",
        err.to_json(),
    );
    resp.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static(err.code.as_str()),
    );
    resp
}

/// A refused admin request: 403 with a JSON 1.1 error body, as AWS refuses
/// a request it cannot authenticate.
fn admin_refusal(err: &AwsError) -> Response<ResponseBody> {
    let mut resp = json_error(err);
    *resp.status_mut() = StatusCode::FORBIDDEN;
    resp
}

fn xml_error(err: &AwsError) -> Response<ResponseBody> {
    respond(err.code.status(), "text/xml", sts::error_response(err))
}

impl HttpService for Service {
    async fn call(&self, req: Request<RequestBody>) -> Result<Response<ResponseBody>, Abort> {
        let (parts, body) = req.into_parts();
        // Admin requests are refused before their body is read: an
        // unauthenticated caller gets nothing done, not even buffering.
        let admin_path = parts
            .uri
            .path()
            .strip_prefix("/_emulator/")
            .map(str::to_owned);
        if admin_path.is_some()
            && let Err(err) = self.admin_authorized(&parts)
        {
            return Ok(admin_refusal(&err));
        }
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                let err = AwsError::new(
                    ErrorCode::SerializationException,
                    format!(
                        "The request body is larger than the {MAX_BODY} bytes this service accepts."
                    ),
                );
                let mut resp = json_error(&err);
                *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                return Ok(resp);
            }
        };
        if let Some(path) = admin_path {
            return Ok(self.admin(&parts.method, &path, &body));
        }
        // Standing in for LocalStack, it answers LocalStack's health check,
        // so what waits for LocalStack can wait for it.
        if self.0.auth == AuthMode::AcceptAny
            && parts.method == hyper::Method::GET
            && parts.uri.path() == "/_localstack/health"
        {
            let health = serde_json::json!({
                "services": { "secretsmanager": "available", "sts": "available" },
                "edition": "aws-emulator",
            });
            return Ok(respond(
                StatusCode::OK,
                "application/json",
                health.to_string(),
            ));
        }
        self.api(parts, body).await
    }
}

impl Service {
    async fn api(&self, parts: Parts, body: Bytes) -> Result<Response<ResponseBody>, Abort> {
        let shared = &self.0;
        let auth = sigv4::parse(
            parts
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
        );
        let region = auth
            .as_ref()
            .map(|a| a.region.clone())
            .unwrap_or_else(|_| shared.default_region.clone());
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok());
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let protocol = match target {
            Some(t) => match t.strip_prefix("secretsmanager.") {
                Some(op) => Protocol::SecretsManager(op.to_owned()),
                None => {
                    let err = AwsError::new(
                        ErrorCode::UnknownOperationException,
                        format!("Unknown target {t}"),
                    );
                    return Ok(json_error(&err));
                }
            },
            None if sts::is_sts_request(content_type, &body) => Protocol::Sts(sts::form(&body)),
            None => {
                let err = AwsError::new(
                    ErrorCode::UnknownOperationException,
                    "Requests need an X-Amz-Target header (Secrets Manager) or a form body with an Action (STS).",
                );
                return Ok(json_error(&err));
            }
        };
        let is_sts = matches!(protocol, Protocol::Sts(_));
        let event_name = match &protocol {
            Protocol::SecretsManager(op) => op.clone(),
            Protocol::Sts(form) => form.get("Action").cloned().unwrap_or_default(),
        };
        let to_response = |err: &AwsError| {
            if is_sts {
                xml_error(err)
            } else {
                json_error(err)
            }
        };

        let faults: Option<RegionFaults> = shared.faults().for_region(&region).cloned();
        if let Some(f) = faults {
            if let Some(latency) = f.latency {
                tokio::time::sleep(latency).await;
            }
            match f.outage {
                Some(Outage::ConnectionReset) => return Err(Abort),
                Some(Outage::ServiceUnavailable) => {
                    return Ok(to_response(&AwsError::new(
                        ErrorCode::ServiceUnavailableException,
                        "Service Unavailable",
                    )));
                }
                None => {}
            }
            if f.throttle {
                let err = AwsError::new(ErrorCode::ThrottlingException, "Rate exceeded");
                self.record(&event_name, is_sts, &region, None, Vec::new(), Some(&err));
                return Ok(to_response(&err));
            }
        }

        // AssumeRoleWithWebIdentity is the one call that is not signed.
        let unsigned_sts = matches!(&protocol, Protocol::Sts(f) if f.get("Action").is_some_and(|a| a == "AssumeRoleWithWebIdentity"));
        let caller = if unsigned_sts {
            None
        } else {
            let service = if is_sts { "sts" } else { "secretsmanager" };
            match self.authenticate(&parts, &body, auth, service) {
                Ok(c) => c,
                Err(err) => {
                    let err = if is_sts { sts::sts_flavour(err) } else { err };
                    self.record(&event_name, is_sts, &region, None, Vec::new(), Some(&err));
                    return Ok(to_response(&err));
                }
            }
        };

        let now = shared.clock.now();
        match protocol {
            Protocol::SecretsManager(op) => {
                let iam = shared.iam();
                let authorizer = Authorizer {
                    iam: &iam,
                    caller: caller.as_ref(),
                };
                let mut call = Call {
                    region: &region,
                    now,
                    authorizer: &authorizer,
                    resources: Vec::new(),
                };
                let result = shared.secrets().handle(&op, &body, &mut call);
                let resources = std::mem::take(&mut call.resources);
                drop(iam);
                self.record(
                    &op,
                    false,
                    &region,
                    caller.as_ref(),
                    resources,
                    result.as_ref().err(),
                );
                Ok(match result {
                    Ok(json) => respond(StatusCode::OK, "application/x-amz-json-1.1", json),
                    Err(e) => json_error(&e),
                })
            }
            Protocol::Sts(form) => {
                let result = self.sts(&form, caller.as_ref(), now);
                self.record(
                    &event_name,
                    true,
                    &region,
                    caller.as_ref(),
                    Vec::new(),
                    result.as_ref().err(),
                );
                Ok(match result {
                    Ok(xml) => respond(StatusCode::OK, "text/xml", xml),
                    Err(e) => xml_error(&e),
                })
            }
        }
    }

    /// The caller of a signed request, or `None` when authentication is off.
    fn authenticate(
        &self,
        parts: &Parts,
        body: &[u8],
        auth: Result<sigv4::Authorization, sigv4::AuthorizationError>,
        service: &str,
    ) -> Result<Option<Caller>, AwsError> {
        let shared = &self.0;
        if shared.auth == AuthMode::AcceptAny {
            return Ok(None);
        }
        let auth = auth.map_err(|e| match e {
            sigv4::AuthorizationError::Missing => AwsError::new(
                ErrorCode::MissingAuthenticationTokenException,
                "Missing Authentication Token",
            ),
            sigv4::AuthorizationError::Malformed(m) => {
                AwsError::new(ErrorCode::IncompleteSignatureException, m)
            }
        })?;
        // The wall clock, not the emulator's: clients sign with theirs, and a
        // scenario's virtual clock may run days ahead.
        let amz_date = sigv4::check_request(parts, &auth, service, jiff::Timestamp::now())
            .map_err(|e| match e {
                sigv4::RequestError::Incomplete(m) => {
                    AwsError::new(ErrorCode::IncompleteSignatureException, m)
                }
                sigv4::RequestError::Invalid(m) => {
                    AwsError::new(ErrorCode::InvalidSignatureException, m)
                }
            })?;
        let iam = shared.iam();
        // Key expiry is the emulator's business, so its own clock decides.
        let key = iam.signing_key(&auth.access_key_id, shared.clock.now())?;
        if let Some(expected) = &key.session_token {
            let sent = parts
                .headers
                .get("x-amz-security-token")
                .and_then(|v| v.to_str().ok());
            if sent != Some(expected.as_str()) {
                return Err(AwsError::new(
                    ErrorCode::UnrecognizedClientException,
                    "The security token included in the request is invalid.",
                ));
            }
        }
        if !shared
            .signing_keys
            .verify(parts, body, &auth, &amz_date, &key.secret_access_key)
        {
            return Err(AwsError::new(
                ErrorCode::InvalidSignatureException,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            ));
        }
        Ok(iam.caller(&auth.access_key_id))
    }

    fn sts(
        &self,
        form: &std::collections::HashMap<String, String>,
        caller: Option<&Caller>,
        now: jiff::Timestamp,
    ) -> Result<String, AwsError> {
        let shared = &self.0;
        match sts::param(form, "Action")? {
            "GetCallerIdentity" => {
                let account = shared.iam().account_id().to_owned();
                let caller = caller.cloned().unwrap_or_else(|| Caller {
                    arn: format!("arn:aws:iam::{account}:root"),
                    user_id: account.clone(),
                    account,
                    access_key_id: String::new(),
                });
                Ok(sts::get_caller_identity_response(&caller))
            }
            "AssumeRoleWithWebIdentity" => {
                let duration = match form.get("DurationSeconds") {
                    Some(d) => Some(d.parse::<i64>().map_err(|_| {
                        AwsError::new(
                            ErrorCode::InvalidParameterValue,
                            "DurationSeconds must be a number",
                        )
                    })?),
                    None => None,
                };
                let (key, who) = shared.iam_mut().assume_role_with_web_identity(
                    sts::param(form, "RoleArn")?,
                    sts::param(form, "RoleSessionName")?,
                    sts::param(form, "WebIdentityToken")?,
                    duration,
                    now,
                )?;
                Ok(sts::assume_role_with_web_identity_response(&key, &who))
            }
            other => Err(AwsError::new(
                ErrorCode::InvalidAction,
                format!("Could not find operation {other} for version 2011-06-15"),
            )),
        }
    }

    fn record(
        &self,
        name: &str,
        is_sts: bool,
        region: &str,
        caller: Option<&Caller>,
        resources: Vec<String>,
        err: Option<&AwsError>,
    ) {
        let shared = &self.0;
        shared.audit.record(AuditEvent {
            event_time: shared.clock.now(),
            event_source: if is_sts {
                "sts.amazonaws.com"
            } else {
                "secretsmanager.amazonaws.com"
            }
            .to_owned(),
            event_name: name.to_owned(),
            aws_region: region.to_owned(),
            principal_arn: caller.map(|c| c.arn.clone()),
            access_key_id: caller.map(|c| c.access_key_id.clone()),
            resources,
            error_code: err.map(|e| e.code.as_str().to_owned()),
        });
    }

    /// Whether an admin request carries this emulator's admin token. The
    /// token is compared in constant time and never echoed.
    fn admin_authorized(&self, parts: &Parts) -> Result<(), AwsError> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        let Some(header) = header else {
            return Err(AwsError::new(
                ErrorCode::MissingAuthenticationTokenException,
                "Missing Authentication Token",
            ));
        };
        let token = header
            .strip_prefix(b"Bearer ")
            .or_else(|| header.strip_prefix(b"bearer "));
        match token {
            Some(t) if sigv4::constant_time_eq(t, self.0.admin_token.as_bytes()) => Ok(()),
            Some(_) => Err(AwsError::new(
                ErrorCode::AccessDeniedException,
                "The admin token is not this emulator's.",
            )),
            None => Err(AwsError::new(
                ErrorCode::AccessDeniedException,
                "The admin paths /_emulator/ need the run's admin token (Authorization: Bearer $AWS_EMULATOR_ADMIN_TOKEN); SigV4 and other schemes are refused.",
            )),
        }
    }

    fn admin(&self, method: &Method, path: &str, body: &[u8]) -> Response<ResponseBody> {
        let shared = &self.0;
        let ok_json = |v: serde_json::Value| {
            respond(
                StatusCode::OK,
                "application/json",
                serde_json::to_vec(&v).unwrap_or_default(),
            )
        };
        let bad = |status: StatusCode, msg: String| {
            respond(
                status,
                "application/json",
                serde_json::to_vec(&serde_json::json!({ "error": msg })).unwrap_or_default(),
            )
        };
        match (method, path) {
            (&Method::GET, "health") => ok_json(serde_json::json!({ "status": "ok" })),
            (&Method::GET, "audit") => {
                ok_json(serde_json::to_value(shared.audit.events()).unwrap_or_default())
            }
            (&Method::DELETE, "audit") => {
                shared.audit.clear();
                ok_json(serde_json::json!({}))
            }
            (&Method::GET, "faults") => {
                ok_json(serde_json::to_value(shared.faults().all()).unwrap_or_default())
            }
            (&Method::DELETE, "faults") => {
                shared.faults_mut().clear();
                ok_json(serde_json::json!({}))
            }
            (&Method::PUT, p) if p.starts_with("faults/") => {
                let region = &p["faults/".len()..];
                match serde_json::from_slice::<RegionFaults>(body) {
                    Ok(f) => {
                        shared.faults_mut().set(region, f);
                        ok_json(serde_json::json!({}))
                    }
                    Err(e) => bad(
                        StatusCode::BAD_REQUEST,
                        format!("faults body, line {} column {}: {e}", e.line(), e.column()),
                    ),
                }
            }
            (&Method::GET, "snapshot") => {
                let snapshot = Snapshot::take(&shared.secrets(), shared.clock.now());
                respond(StatusCode::OK, "application/json", snapshot.to_json())
            }
            (&Method::PUT, "snapshot") => match Snapshot::from_json(body, "request body") {
                Ok(s) => {
                    s.restore_into(&mut shared.secrets());
                    ok_json(serde_json::json!({}))
                }
                Err(e) => bad(StatusCode::BAD_REQUEST, e.to_string()),
            },
            _ => bad(
                StatusCode::NOT_FOUND,
                format!("no admin endpoint {method} /_emulator/{path}"),
            ),
        }
    }
}
