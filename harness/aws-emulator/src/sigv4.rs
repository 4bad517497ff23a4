//! AWS Signature Version 4: parsing the Authorization header and checking
//! the signature against a secret key, as AWS does.
//!
//! What AWS checks besides the signature, and in its order (the order of the
//! errors AWS's JSON services answer, as recorded by dynalite from DynamoDB):
//! a date header is present and in ISO 8601 basic format, the date is within
//! 15 minutes of the wall clock, `host` is signed, the credential scope names
//! this service and the request's date ([`check_request`]); then the key, then
//! the signature ([`verify`]), over a payload hash the server computes itself.

use hmac::{Hmac, Mac};
use http::request::Parts;
use jiff::{SignedDuration, Timestamp};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Characters SigV4 leaves unencoded: A-Z a-z 0-9 - _ . ~
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorization {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthorizationError {
    #[error("Missing Authentication Token")]
    Missing,
    /// AWS's IncompleteSignatureException text names what is wrong.
    #[error("{0}")]
    Malformed(String),
}

/// Why a well-formed Authorization header still does not authenticate the
/// request, named as AWS names it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// IncompleteSignatureException: something the signature needs is missing.
    #[error("{0}")]
    Incomplete(String),
    /// InvalidSignatureException: the signature cannot be valid for this
    /// request here and now.
    #[error("{0}")]
    Invalid(String),
}

/// How far the date of a request may be from the server's wall clock: the
/// skew AWS allows (its messages say "15 min.").
pub const MAX_SKEW: SignedDuration = SignedDuration::from_mins(15);

const BASIC_FORMAT: &str = "%Y%m%dT%H%M%SZ";

fn basic(t: Timestamp) -> String {
    t.strftime(BASIC_FORMAT).to_string()
}

/// The date the request was signed at (`X-Amz-Date`, else `Date`), and its
/// ISO 8601 basic form, which is what the string to sign holds.
pub fn request_date(parts: &Parts) -> Result<(Timestamp, String), RequestError> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let (raw, amz) = match (header("x-amz-date"), header("date")) {
        (Some(d), _) => (d, true),
        (None, Some(d)) => (d, false),
        (None, None) => {
            return Err(RequestError::Incomplete(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .into(),
            ));
        }
    };
    let parsed = if amz {
        jiff::civil::DateTime::strptime(BASIC_FORMAT, &raw)
            .ok()
            .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    } else {
        // `Date` is an HTTP date (RFC 7231, the RFC 2822 form); some clients
        // send it in the basic format instead.
        jiff::fmt::rfc2822::parse(&raw)
            .map(|z| z.timestamp())
            .ok()
            .or_else(|| {
                jiff::civil::DateTime::strptime(BASIC_FORMAT, &raw)
                    .ok()
                    .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
                    .map(|z| z.timestamp())
            })
    };
    match parsed {
        Some(t) => Ok((t, basic(t))),
        None => {
            // The value is the client's own date, never a secret; it is cut
            // short so an absurd header does not make an absurd message.
            let shown: String = raw.chars().take(64).collect();
            Err(RequestError::Incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{shown}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )))
        }
    }
}

/// Everything AWS checks before looking up the key: the date against the
/// wall clock `now` (clients sign with theirs, so an emulator's virtual
/// clock has no say), `host` signed, the scope's service and date.
/// Returns the signing date in the basic format, for [`verify`].
pub fn check_request(
    parts: &Parts,
    auth: &Authorization,
    service: &str,
    now: Timestamp,
) -> Result<String, RequestError> {
    let (signed_at, amz_date) = request_date(parts)?;
    let earliest = now.checked_sub(MAX_SKEW).unwrap_or(Timestamp::MIN);
    let latest = now.checked_add(MAX_SKEW).unwrap_or(Timestamp::MAX);
    if signed_at < earliest {
        return Err(RequestError::Invalid(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            basic(earliest),
            basic(now)
        )));
    }
    if signed_at > latest {
        return Err(RequestError::Invalid(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            basic(latest),
            basic(now)
        )));
    }
    if !auth
        .signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("host"))
    {
        return Err(RequestError::Invalid(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    // AWS names every wrong part of the scope at once, each sentence ending
    // in ". " (hence the trailing space of its messages).
    let mut wrong = String::new();
    if auth.service != service {
        wrong.push_str(&format!(
            "Credential should be scoped to correct service: '{service}'. "
        ));
    }
    let day = amz_date.get(..8).unwrap_or_default();
    if auth.date != day {
        wrong.push_str(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{day}', from '{amz_date}'. ",
            auth.date
        ));
    }
    if !wrong.is_empty() {
        return Err(RequestError::Invalid(wrong));
    }
    Ok(amz_date)
}

impl Authorization {
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

pub fn parse(header: Option<&str>) -> Result<Authorization, AuthorizationError> {
    let header = header.ok_or(AuthorizationError::Missing)?;
    let rest = header.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        AuthorizationError::Malformed(format!(
            "Authorization header requires 'AWS4-HMAC-SHA256' as the algorithm; got a header of {} characters",
            header.len()
        ))
    })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let missing = |what: &str| {
        AuthorizationError::Malformed(format!("Authorization header requires '{what}' parameter."))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed_headers = signed_headers.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let fields: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, "aws4_request"] = fields.as_slice() else {
        return Err(AuthorizationError::Malformed(
            "Credential should be scoped to a valid region, service and date, as ACCESS_KEY/DATE/REGION/SERVICE/aws4_request."
                .into(),
        ));
    };
    if signature.len() != 64 || !signature.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AuthorizationError::Malformed(
            "Signature must be 64 hexadecimal characters.".into(),
        ));
    }
    if date.len() != 8 || !date.chars().all(|c| c.is_ascii_digit()) {
        return Err(AuthorizationError::Malformed(
            "Credential date must be YYYYMMDD.".into(),
        ));
    }
    Ok(Authorization {
        access_key_id: (*access_key_id).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers: signed_headers.split(';').map(str::to_owned).collect(),
        signature: signature.to_ascii_lowercase(),
    })
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    // Services other than S3 sign the path encoded twice: the path on the wire
    // is encoded once, so each segment is encoded once more here.
    path.split('/')
        .map(|seg| utf8_percent_encode(seg, UNRESERVED).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (
                utf8_percent_encode(&dec(k), UNRESERVED).to_string(),
                utf8_percent_encode(&dec(v), UNRESERVED).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical request of SigV4 for what was received.
pub fn canonical_request(parts: &Parts, body: &[u8], signed_headers: &[String]) -> String {
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = parts
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let value = if name == "host" && values.is_empty() {
            parts
                .uri
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_default()
        } else {
            values.join(",")
        };
        headers.push_str(&format!("{name}:{value}\n"));
    }
    // Services other than S3 hash the payload they received: a client's
    // `x-amz-content-sha256` is just another (signed) header to them. So a
    // signed request replayed with another body, or one signed as
    // `UNSIGNED-PAYLOAD`, fails the signature, as on AWS.
    let payload_hash = hex::encode(Sha256::digest(body));
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method,
        canonical_uri(parts.uri.path()),
        canonical_query(parts.uri.query()),
        headers,
        signed_headers.join(";"),
        payload_hash
    )
}

/// Whether `auth.signature` is the signature of this request, signed at
/// `amz_date` (basic format, from [`check_request`]), under `secret_key`.
pub fn verify(
    parts: &Parts,
    body: &[u8],
    auth: &Authorization,
    amz_date: &str,
    secret_key: &str,
) -> bool {
    let expected = signature(parts, body, auth, amz_date, secret_key);
    constant_time_eq(expected.as_bytes(), auth.signature.as_bytes())
}

pub fn signature(
    parts: &Parts,
    body: &[u8],
    auth: &Authorization,
    amz_date: &str,
    secret_key: &str,
) -> String {
    let canonical = canonical_request(parts, body, &auth.signed_headers);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
        auth.scope(),
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{secret_key}").as_bytes(), auth.date.as_bytes());
    let k_region = hmac(&k_date, auth.region.as_bytes());
    let k_service = hmac(&k_region, auth.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex::encode(hmac(&k_signing, string_to_sign.as_bytes()))
}

/// Equality that takes as long whatever the first differing byte.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `get-vanilla` case of AWS's published SigV4 test suite.
    #[test]
    fn aws_test_suite_get_vanilla() {
        let req = http::Request::builder()
            .method("GET")
            .uri("/")
            .header("host", "example.amazonaws.com")
            .header("x-amz-date", "20150830T123600Z")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let auth = parse(Some(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ))
        .unwrap();
        assert_eq!(auth.region, "us-east-1");
        let key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let signed_at: Timestamp = "2015-08-30T12:36:00Z".parse().unwrap();
        let date = check_request(&parts, &auth, "service", signed_at).unwrap();
        assert_eq!(date, "20150830T123600Z");
        assert!(verify(&parts, b"", &auth, &date, key));
        assert!(!verify(&parts, b"", &auth, &date, "wrong"));
        assert!(!verify(&parts, b"x", &auth, &date, key), "body is signed");
    }

    fn request(headers: &[(&str, &str)]) -> Parts {
        let mut req = http::Request::builder().method("POST").uri("/");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    fn auth(scope: &str, signed: &str) -> Authorization {
        parse(Some(&format!(
            "AWS4-HMAC-SHA256 Credential=AKID/{scope}/aws4_request, SignedHeaders={signed}, Signature={}",
            "a".repeat(64)
        )))
        .unwrap()
    }

    #[test]
    fn a_client_supplied_payload_hash_does_not_replace_the_body() {
        let key = "secret";
        let a = auth(
            "20150830/us-east-1/service",
            "host;x-amz-content-sha256;x-amz-date",
        );
        let real = hex::encode(Sha256::digest(b"{}"));
        let parts = request(&[
            ("host", "h"),
            ("x-amz-date", "20150830T123600Z"),
            ("x-amz-content-sha256", &real),
        ]);
        let good = signature(&parts, b"{}", &a, "20150830T123600Z", key);
        let a = Authorization {
            signature: good,
            ..a
        };
        assert!(verify(&parts, b"{}", &a, "20150830T123600Z", key));
        assert!(
            !verify(&parts, b"{\"other\":1}", &a, "20150830T123600Z", key),
            "the same headers with another body"
        );
    }

    #[test]
    fn date_skew_is_measured_against_the_given_clock() {
        let a = auth("20150830/us-east-1/service", "host;x-amz-date");
        let parts = request(&[("host", "h"), ("x-amz-date", "20150830T123600Z")]);
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert!(check_request(&parts, &a, "service", at("2015-08-30T12:51:00Z")).is_ok());
        assert!(check_request(&parts, &a, "service", at("2015-08-30T12:21:00Z")).is_ok());
        assert_eq!(
            check_request(&parts, &a, "service", at("2015-08-30T12:51:01Z")),
            Err(RequestError::Invalid(
                "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)".into()
            ))
        );
        assert_eq!(
            check_request(&parts, &a, "service", at("2015-08-30T12:20:59Z")),
            Err(RequestError::Invalid(
                "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)".into()
            ))
        );
    }

    #[test]
    fn scope_service_date_host_and_date_format_are_checked() {
        let now: Timestamp = "2015-08-30T12:36:00Z".parse().unwrap();
        let parts = request(&[("host", "h"), ("x-amz-date", "20150830T123600Z")]);
        let err =
            |a: &Authorization, p: &Parts| check_request(p, a, "secretsmanager", now).unwrap_err();
        assert_eq!(
            err(&auth("20150830/us-east-1/s3", "host;x-amz-date"), &parts),
            RequestError::Invalid(
                "Credential should be scoped to correct service: 'secretsmanager'. ".into()
            )
        );
        assert!(matches!(
            err(&auth("20150829/us-east-1/secretsmanager", "host;x-amz-date"), &parts),
            RequestError::Invalid(m) if m.starts_with("Date in Credential scope does not match")
        ));
        assert!(matches!(
            err(&auth("20150830/us-east-1/secretsmanager", "x-amz-date"), &parts),
            RequestError::Invalid(m) if m.contains("'Host' must be a 'SignedHeader'")
        ));
        assert!(matches!(
            err(&auth("20150830/us-east-1/secretsmanager", "host"), &request(&[("host", "h")])),
            RequestError::Incomplete(m) if m.contains("'X-Amz-Date' or a 'Date' header")
        ));
        assert!(matches!(
            err(
                &auth("20150830/us-east-1/secretsmanager", "host"),
                &request(&[("host", "h"), ("x-amz-date", "2015-08-30")])
            ),
            RequestError::Incomplete(m) if m.starts_with("Date must be in ISO-8601 'basic format'")
        ));
        let http_date = request(&[("host", "h"), ("date", "Sun, 30 Aug 2015 12:36:00 GMT")]);
        assert_eq!(
            check_request(
                &http_date,
                &auth("20150830/us-east-1/secretsmanager", "host;date"),
                "secretsmanager",
                now
            ),
            Ok("20150830T123600Z".into())
        );
    }

    #[test]
    fn malformed_headers_are_named() {
        assert_eq!(parse(None), Err(AuthorizationError::Missing));
        assert!(matches!(
            parse(Some("Bearer x")),
            Err(AuthorizationError::Malformed(_))
        ));
        let truncated = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=5fa0";
        assert!(
            matches!(parse(Some(truncated)), Err(AuthorizationError::Malformed(m)) if m.contains("64 hexadecimal"))
        );
        let no_scope = "AWS4-HMAC-SHA256 Credential=AKID, SignedHeaders=host, Signature="
            .to_owned()
            + &"a".repeat(64);
        assert!(matches!(
            parse(Some(&no_scope)),
            Err(AuthorizationError::Malformed(_))
        ));
    }
}
