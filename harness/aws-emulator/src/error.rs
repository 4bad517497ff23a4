//! Errors as Secrets Manager and STS answer them: a `__type` (or STS `Code`),
//! an HTTP status and a message. Messages never carry a secret value.

use http::StatusCode;

/// The error codes this emulator answers with, named as AWS names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ErrorCode {
    ResourceNotFoundException,
    InvalidRequestException,
    InvalidParameterException,
    ResourceExistsException,
    ValidationException,
    LimitExceededException,
    AccessDeniedException,
    UnrecognizedClientException,
    InvalidSignatureException,
    IncompleteSignatureException,
    MissingAuthenticationTokenException,
    ExpiredTokenException,
    ThrottlingException,
    ServiceUnavailableException,
    SerializationException,
    UnknownOperationException,
    InvalidNextTokenException,
    // STS, which answers in XML with these codes.
    InvalidClientTokenId,
    SignatureDoesNotMatch,
    AccessDenied,
    InvalidIdentityToken,
    ExpiredToken,
    InvalidAction,
    MissingParameter,
    InvalidParameterValue,
}

impl ErrorCode {
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

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AwsError {
    pub code: ErrorCode,
    pub message: String,
}

impl AwsError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn secret_not_found() -> Self {
        Self::new(
            ErrorCode::ResourceNotFoundException,
            "Secrets Manager can't find the specified secret.",
        )
    }

    pub fn marked_for_deletion() -> Self {
        Self::new(
            ErrorCode::InvalidRequestException,
            "You can't perform this operation on the secret because it was marked for deletion.",
        )
    }

    pub fn not_permitted_on_replica() -> Self {
        Self::new(
            ErrorCode::InvalidRequestException,
            "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
        )
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterException, message)
    }

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
