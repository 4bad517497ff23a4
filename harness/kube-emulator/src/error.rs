//! API errors as the Kubernetes API server answers them: a `Status` object
//! with the reason and code the real server uses.

use http::StatusCode;
use serde_json::{Value, json};

/// The `reason` of a failure `Status`, which decides its HTTP code and
/// what clients (kube-rs's `ErrorResponse`, kubectl) make of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// 404: no such object (or subresource).
    NotFound,
    /// 409: a create of a name that is taken.
    AlreadyExists,
    /// 409: a stale resourceVersion or a failed precondition.
    Conflict,
    /// 422: the object breaks its kind's rules (with field causes).
    Invalid,
    /// 400: a body or query that cannot be read.
    BadRequest,
    /// 410, reason `Gone`.
    Gone,
    /// 410, reason `Expired`: a watch or continue token older than the
    /// server keeps.
    Expired,
    /// 403: refused by admission or by namespace lifecycle.
    Forbidden,
    /// 401: no valid bearer token.
    Unauthorized,
    /// 405: a verb the resource does not have.
    MethodNotAllowed,
    /// 415: a body format the server does not read for this kind.
    UnsupportedMediaType,
    /// 406: an answer format the server cannot give.
    NotAcceptable,
    /// 413: a body or an object over the server's limits.
    RequestEntityTooLarge,
    /// 503: the fault set by `KubeEmulator::set_unavailable`.
    ServiceUnavailable,
    /// 500: the emulator failed.
    InternalError,
    /// A path no API serves (an unknown group or version): the real
    /// server's mux answers it in plain text, not with a Status.
    NoRoute,
}

impl Reason {
    /// The HTTP status code the real server answers with for this reason.
    pub fn code(&self) -> StatusCode {
        match self {
            Self::NotFound | Self::NoRoute => StatusCode::NOT_FOUND,
            Self::AlreadyExists | Self::Conflict => StatusCode::CONFLICT,
            Self::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Gone | Self::Expired => StatusCode::GONE,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::RequestEntityTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_str(&self) -> &'static str {
        match self {
            Self::NotFound | Self::NoRoute => "NotFound",
            Self::AlreadyExists => "AlreadyExists",
            Self::Conflict => "Conflict",
            Self::Invalid => "Invalid",
            Self::BadRequest => "BadRequest",
            Self::Gone => "Gone",
            Self::Expired => "Expired",
            Self::Forbidden => "Forbidden",
            Self::Unauthorized => "Unauthorized",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::UnsupportedMediaType => "UnsupportedMediaType",
            Self::NotAcceptable => "NotAcceptable",
            Self::RequestEntityTooLarge => "RequestEntityTooLarge",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::InternalError => "InternalError",
        }
    }
}

/// One field-level cause of an Invalid error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, ...
    pub reason: String,
    /// What is wrong with the field, as the real server words it.
    pub message: String,
    /// The field's path (`metadata.name`, `data[k]`, `spec.provider`).
    pub field: String,
}

/// A failed request, as the API server answers it: a `Status` of this
/// reason and message (and details), in the real server's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// What kind of failure, which decides the HTTP code.
    pub reason: Reason,
    /// The Status' `message`.
    pub message: String,
    /// Boxed: errors travel through every verb, their details rarely.
    pub details: Option<Box<Details>>,
}

/// The `details` of a Status: what the error is about, and field causes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Details {
    /// The object's name.
    pub name: String,
    /// Its API group (empty for the core group).
    pub group: String,
    /// Its kind, or its resource (plural) where the real server names that.
    pub kind: String,
    /// The fields that make it invalid.
    pub causes: Vec<Cause>,
}

impl ApiError {
    pub(crate) fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn about(mut self, group: &str, plural: &str, name: &str) -> Self {
        self.details = Some(Box::new(Details {
            name: name.into(),
            group: group.into(),
            kind: plural.into(),
            causes: Vec::new(),
        }));
        self
    }

    /// `secrets "x" not found`, `externalsecrets.external-secrets.io "x" not found`
    pub(crate) fn not_found(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            Reason::NotFound,
            format!("{} \"{name}\" not found", qualified(group, plural)),
        )
        .about(group, plural, name)
    }

    pub(crate) fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            Reason::AlreadyExists,
            format!("{} \"{name}\" already exists", qualified(group, plural)),
        )
        .about(group, plural, name)
    }

    pub(crate) fn conflict(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            Reason::Conflict,
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(group, plural)
            ),
        )
        .about(group, plural, name)
    }

    /// 422 with field causes: `Kind.group "name" is invalid: [field: Required value, ...]`.
    pub(crate) fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        // The message names each cause once (Go's ErrorList.ToAggregate
        // drops repeats); the causes keep every one.
        let mut details: Vec<String> = Vec::new();
        for c in &causes {
            let d = format!("{}: {}", c.field, c.message);
            if !details.contains(&d) {
                details.push(d);
            }
        }
        let summary = if details.len() == 1 {
            details[0].clone()
        } else {
            format!("[{}]", details.join(", "))
        };
        let what = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        let mut e = Self::new(
            Reason::Invalid,
            format!("{what} \"{name}\" is invalid: {summary}"),
        );
        e.details = Some(Box::new(Details {
            name: name.into(),
            group: group.into(),
            kind: kind.into(),
            causes,
        }));
        e
    }

    /// With `details: {}`, as the real server writes for errors about no
    /// one object (an unknown resource, a failed JSON patch).
    pub(crate) fn with_empty_details(mut self) -> Self {
        self.details = Some(Box::default());
        self
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Reason::BadRequest, message)
    }

    pub(crate) fn gone(message: impl Into<String>) -> Self {
        Self::new(Reason::Expired, message)
    }

    pub(crate) fn to_status(&self) -> Value {
        // The real server's StatusDetails omits empty fields, and writes
        // `details: {}` where an error has details but none of them.
        let mut details = serde_json::Map::new();
        if let Some(d) = &self.details {
            for (k, v) in [("name", &d.name), ("group", &d.group), ("kind", &d.kind)] {
                if !v.is_empty() {
                    details.insert(k.into(), json!(v));
                }
            }
            if !d.causes.is_empty() {
                details.insert(
                    "causes".into(),
                    json!(d.causes.iter().map(|c| json!({ "reason": c.reason, "message": c.message, "field": c.field })).collect::<Vec<_>>()),
                );
            }
        }
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason.as_str(),
            "code": self.reason.code().as_u16(),
        });
        if self.details.is_some() {
            status["details"] = Value::Object(details);
        }
        status
    }
}

pub(crate) fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    }
}

pub(crate) fn required(field: &str) -> Cause {
    Cause {
        reason: "FieldValueRequired".into(),
        message: "Required value".into(),
        field: field.to_owned(),
    }
}

pub(crate) fn forbidden(field: &str, message: impl Into<String>) -> Cause {
    Cause {
        reason: "FieldValueForbidden".into(),
        message: format!("Forbidden: {}", message.into()),
        field: field.to_owned(),
    }
}

pub(crate) fn invalid_value(field: &str, message: impl Into<String>) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message: message.into(),
        field: field.to_owned(),
    }
}
