//! Errors as Secrets Manager and STS answer them: a `__type` (or STS `Code`),
//! an HTTP status and a message. Messages never carry a secret value.

use http::StatusCode;

/// The error codes this emulator answers with, named as AWS names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ErrorCode {
    /// The secret, or the version asked for, does not exist.
    ResourceNotFoundException,
    /// Not allowed in the secret's state (marked for deletion, a replica, ...).
    InvalidRequestException,
    /// A parameter is wrong, or parameters contradict each other.
    InvalidParameterException,
    /// A secret of that name, or a version with that token, exists already.
    ResourceExistsException,
    /// A parameter breaks a constraint of the API (length, range, enum).
    ValidationException,
    /// A quota of the service is reached.
    LimitExceededException,
    /// IAM does not allow the call (or a rotation Lambda cannot be invoked).
    AccessDeniedException,
    /// The access key (or its session token) is not known.
    UnrecognizedClientException,
    /// The signature is wrong, expired, or over the wrong scope.
    InvalidSignatureException,
    /// The signature lacks something it needs (a header, a date).
    IncompleteSignatureException,
    /// The request is not signed.
    MissingAuthenticationTokenException,
    /// The temporary credentials have expired.
    ExpiredTokenException,
    /// Too many calls (a fault switched on for the region).
    ThrottlingException,
    /// The service is down (a fault switched on for the region).
    ServiceUnavailableException,
    /// The body is not the JSON the operation takes, or too large.
    SerializationException,
    /// No such operation.
    UnknownOperationException,
    /// A NextToken this service did not hand out.
    InvalidNextTokenException,
    // STS, which answers in XML with these codes.
    /// STS: the access key is not known.
    InvalidClientTokenId,
    /// STS: the signature is wrong (STS's name for every signature failure).
    SignatureDoesNotMatch,
    /// STS: the role's trust policy does not allow the caller.
    AccessDenied,
    /// STS: the web identity token is not valid, or its issuer not trusted.
    InvalidIdentityToken,
    /// STS: the web identity token has expired (answered as `ExpiredTokenException`).
    ExpiredToken,
    /// STS: no such action.
    InvalidAction,
    /// STS: a required parameter is missing.
    MissingParameter,
    /// STS: a parameter has a wrong value.
    InvalidParameterValue,
}

impl ErrorCode {
    /// The code as AWS writes it (`__type`, `x-amzn-errortype`, STS's `Code`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::InvalidRequestException => "InvalidRequestException",
            Self::InvalidParameterException => "InvalidParameterException",
            Self::ResourceExistsException => "ResourceExistsException",
            Self::ValidationException => "ValidationException",
            Self::LimitExceededException => "LimitExceededException",
            Self::AccessDeniedException => "AccessDeniedException",
            Self::UnrecognizedClientException => "UnrecognizedClientException",
            Self::InvalidSignatureException => "InvalidSignatureException",
            Self::IncompleteSignatureException => "IncompleteSignatureException",
            Self::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            Self::ExpiredTokenException => "ExpiredTokenException",
            Self::ThrottlingException => "ThrottlingException",
            Self::ServiceUnavailableException => "ServiceUnavailableException",
            Self::SerializationException => "SerializationException",
            Self::UnknownOperationException => "UnknownOperationException",
            Self::InvalidNextTokenException => "InvalidNextTokenException",
            Self::InvalidClientTokenId => "InvalidClientTokenId",
            Self::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Self::AccessDenied => "AccessDenied",
            Self::InvalidIdentityToken => "InvalidIdentityToken",
            Self::ExpiredToken => "ExpiredTokenException",
            Self::InvalidAction => "InvalidAction",
            Self::MissingParameter => "MissingParameter",
            Self::InvalidParameterValue => "InvalidParameterValue",
        }
    }

    /// The status AWS answers with. Secrets Manager answers every client
    /// error with 400 (moto uses 404 for ResourceNotFound; see the README).
    pub fn status(self) -> StatusCode {
        match self {
            Self::ServiceUnavailableException => StatusCode::SERVICE_UNAVAILABLE,
            Self::InvalidClientTokenId | Self::SignatureDoesNotMatch | Self::AccessDenied => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as the service answers it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AwsError {
    /// Which error.
    pub code: ErrorCode,
    /// AWS's words for it; never a secret value.
    pub message: String,
}

impl AwsError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// ResourceNotFoundException for a secret.
    pub fn secret_not_found() -> Self {
        Self::new(
            ErrorCode::ResourceNotFoundException,
            "Secrets Manager can't find the specified secret.",
        )
    }

    /// InvalidRequestException for a secret marked for deletion.
    pub fn marked_for_deletion() -> Self {
        Self::new(
            ErrorCode::InvalidRequestException,
            "You can't perform this operation on the secret because it was marked for deletion.",
        )
    }

    /// InvalidRequestException for a write to a replica.
    pub fn not_permitted_on_replica() -> Self {
        Self::new(
            ErrorCode::InvalidRequestException,
            "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
        )
    }

    /// InvalidParameterException with `message`.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterException, message)
    }

    /// InvalidRequestException with `message`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequestException, message)
    }

    /// AWS's message for a length constraint; the value itself is never echoed.
    pub fn too_long(field: &str, max: usize) -> Self {
        Self::new(
            ErrorCode::ValidationException,
            format!(
                "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ),
        )
    }

    /// The JSON 1.1 error body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(
            &serde_json::json!({ "__type": self.code.as_str(), "message": self.message }),
        )
        .unwrap_or_default()
    }
}
