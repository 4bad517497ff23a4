//! STS over the AWS Query protocol (form-encoded request, XML response):
//! GetCallerIdentity and AssumeRoleWithWebIdentity.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::error::{AwsError, ErrorCode};
use crate::identity::{AccessKey, Caller, WebIdentity};

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub(crate) fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

pub(crate) fn is_sts_request(content_type: Option<&str>, body: &[u8]) -> bool {
    content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        && form_urlencoded::parse(body).any(|(k, _)| k == "Action")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub(crate) fn request_id() -> String {
    emulator_core::ids::uuid_v4()
}

pub(crate) fn get_caller_identity_response(caller: &Caller) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"{NS}\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
        escape(&caller.arn),
        escape(&caller.user_id),
        escape(&caller.account),
        request_id()
    )
}

pub(crate) fn assume_role_with_web_identity_response(key: &AccessKey, who: &WebIdentity) -> String {
    let expiration = key
        .expiration
        .unwrap_or(Timestamp::MAX)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"{NS}\"><AssumeRoleWithWebIdentityResult>\
<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
<SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>{}</Arn><AssumedRoleId>{}</AssumedRoleId></AssumedRoleUser>\
<Provider>{}</Provider><Audience>{}</Audience></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>",
        escape(&key.access_key_id),
        escape(&key.secret_access_key),
        escape(key.session_token.as_deref().unwrap_or_default()),
        escape(&who.subject),
        escape(&who.assumed_role_arn),
        escape(&who.assumed_role_id),
        escape(&who.provider),
        escape(&who.audience),
        request_id()
    )
}

pub(crate) fn error_response(err: &AwsError) -> String {
    let kind = if err.code.status().is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<ErrorResponse xmlns=\"{NS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        err.code.as_str(),
        escape(&err.message),
        request_id()
    )
}

/// STS names the authentication failures differently from Secrets Manager.
pub(crate) fn sts_flavour(err: AwsError) -> AwsError {
    let code = match err.code {
        ErrorCode::UnrecognizedClientException => ErrorCode::InvalidClientTokenId,
        ErrorCode::InvalidSignatureException => ErrorCode::SignatureDoesNotMatch,
        other => other,
    };
    AwsError {
        code,
        message: err.message,
    }
}

pub(crate) fn param<'a>(
    form: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, AwsError> {
    form.get(name).map(String::as_str).ok_or_else(|| {
        AwsError::new(
            ErrorCode::MissingParameter,
            format!("The request must contain the parameter {name}"),
        )
    })
}
