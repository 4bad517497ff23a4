//! AWS Signature Version 4: parsing the Authorization header and checking
//! the signature against a secret key, as AWS does.
//!
//! What AWS checks besides the signature, and in its order (the order of the
//! errors AWS's JSON services answer, as recorded by dynalite from DynamoDB):
//! a date header is present and in ISO 8601 basic format, the date is within
//! 15 minutes of the wall clock, `host` is signed, the credential scope names
//! this service and the request's date ([`check_request`]); then the key, then
//! the signature ([`verify`]), over a payload hash the server computes itself.

use std::collections::HashMap;
use std::sync::Mutex;

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
    /// The key id of the credential (`AKIA...`, `ASIA...`).
    pub access_key_id: String,
    /// The scope's date, `YYYYMMDD`.
    pub date: String,
    /// The scope's region.
    pub region: String,
    /// The scope's service (`secretsmanager`, `sts`).
    pub service: String,
    /// The header names the signature covers, lower-case, in their order.
    pub signed_headers: Vec<String>,
    /// The signature, 64 hexadecimal digits (lower-cased when parsed).
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
/// Why an `Authorization` header cannot be read.
pub enum AuthorizationError {
    /// No `Authorization` header at all.
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
    if let Some(fast) = parts
        .headers
        .get("x-amz-date")
        .and_then(|v| basic_date(v.as_bytes()))
    {
        return Ok(fast);
    }
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

/// `X-Amz-Date` as every client writes it (`YYYYMMDDTHHMMSSZ`, a valid
/// date from year 1000 on), read without the general parser: that header
/// is on every request. Then the basic form is the header itself, as
/// formatting the parsed date would give it. Anything else is `None`, and
/// goes the general (slower) way, with its error messages.
fn basic_date(raw: &[u8]) -> Option<(Timestamp, String)> {
    let [
        y0,
        y1,
        y2,
        y3,
        mo0,
        mo1,
        d0,
        d1,
        b'T',
        h0,
        h1,
        mi0,
        mi1,
        s0,
        s1,
        b'Z',
    ] = *raw
    else {
        return None;
    };
    let digits = |ds: &[u8]| -> Option<i16> {
        ds.iter().try_fold(0i16, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i16::from(d - b'0'))
        })
    };
    let year = digits(&[y0, y1, y2, y3])?;
    if year < 1000 {
        return None;
    }
    let two = |a: u8, b: u8| digits(&[a, b]).and_then(|v| i8::try_from(v).ok());
    let dt = jiff::civil::DateTime::new(
        year,
        two(mo0, mo1)?,
        two(d0, d1)?,
        two(h0, h1)?,
        two(mi0, mi1)?,
        two(s0, s1)?,
        0,
    )
    .ok()?;
    let at = dt.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    // Only ASCII digits, 'T' and 'Z' got here.
    let text = std::str::from_utf8(raw).ok()?.to_owned();
    Some((at, text))
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
    /// The credential scope: `DATE/REGION/SERVICE/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// Reads an `Authorization: AWS4-HMAC-SHA256 ...` header, each defect named
/// as AWS names it.
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

fn hmac(key: &[u8], data: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(data);
    mac
}

/// `kSigning` of SigV4 (four HMACs down from the secret key), as an HMAC
/// keyed with it, ready to take a string to sign.
fn signing_key(secret_key: &str, date: &str, region: &str, service: &str) -> HmacSha256 {
    let mut k_secret = Vec::with_capacity(4 + secret_key.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret_key.as_bytes());
    let k_date = hmac(&k_secret, date.as_bytes()).finalize().into_bytes();
    let k_region = hmac(&k_date, region.as_bytes()).finalize().into_bytes();
    let k_service = hmac(&k_region, service.as_bytes()).finalize().into_bytes();
    let k_signing = hmac(&k_service, b"aws4_request").finalize().into_bytes();
    <HmacSha256 as Mac>::new_from_slice(&k_signing)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

fn push_canonical_uri(out: &mut String, path: &str) {
    if path.is_empty() {
        out.push('/');
        return;
    }
    // Services other than S3 sign the path encoded twice: the path on the wire
    // is encoded once, so each segment is encoded once more here. A path of
    // unreserved characters (`/`, as every JSON 1.1 request has) encodes to
    // itself.
    if path
        .bytes()
        .all(|b| b == b'/' || b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
    {
        out.push_str(path);
        return;
    }
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(utf8_percent_encode(seg, UNRESERVED));
    }
}

fn push_canonical_query(out: &mut String, query: Option<&str>) {
    let query = query.unwrap_or_default();
    if query.is_empty() {
        return;
    }
    let mut pairs: Vec<(String, String)> = query
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
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
}

/// A header value as SigV4 canonicalises it: trimmed, each run of
/// whitespace inside one space.
fn push_header_value(out: &mut String, raw: &[u8]) {
    let value = String::from_utf8_lossy(raw);
    for (i, word) in value.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// Lower-case hex of `bytes` (32 of them: a SHA-256 digest or HMAC).
fn hex32(bytes: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    // 32 bytes make 64 hex digits, so this cannot fail.
    if hex::encode_to_slice(bytes, &mut out).is_err() {
        unreachable!("a 32-byte digest is 64 hex digits");
    }
    out
}

/// The canonical request of SigV4 for what was received.
pub fn canonical_request(parts: &Parts, body: &[u8], signed_headers: &[String]) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(parts.method.as_str());
    out.push('\n');
    push_canonical_uri(&mut out, parts.uri.path());
    out.push('\n');
    push_canonical_query(&mut out, parts.uri.query());
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        let mut values = parts.headers.get_all(name.as_str()).iter().peekable();
        if name == "host" && values.peek().is_none() {
            if let Some(a) = parts.uri.authority() {
                out.push_str(a.as_str());
            }
        } else {
            for (i, v) in values.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_header_value(&mut out, v.as_bytes());
            }
        }
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    // Services other than S3 hash the payload they received: a client's
    // `x-amz-content-sha256` is just another (signed) header to them. So a
    // signed request replayed with another body, or one signed as
    // `UNSIGNED-PAYLOAD`, fails the signature, as on AWS.
    let payload_hash = hex32(&Sha256::digest(body));
    out.extend(payload_hash.iter().map(|&b| char::from(b)));
    out
}

/// The signature (raw bytes) of the request under a derived signing key:
/// HMAC of the string to sign, fed in pieces rather than built.
fn sign_with(
    key: &HmacSha256,
    parts: &Parts,
    body: &[u8],
    auth: &Authorization,
    amz_date: &str,
) -> [u8; 64] {
    let canonical = canonical_request(parts, body, &auth.signed_headers);
    let mut mac = key.clone();
    mac.update(b"AWS4-HMAC-SHA256\n");
    mac.update(amz_date.as_bytes());
    mac.update(b"\n");
    for piece in [&auth.date, "/", &auth.region, "/", &auth.service] {
        mac.update(piece.as_bytes());
    }
    mac.update(b"/aws4_request\n");
    mac.update(&hex32(&Sha256::digest(canonical.as_bytes())));
    hex32(&mac.finalize().into_bytes())
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
    let key = signing_key(secret_key, &auth.date, &auth.region, &auth.service);
    is_signed_with(&key, parts, body, auth, amz_date)
}

/// Whether `auth.signature` is the request's signature under `key`, compared
/// in constant time.
fn is_signed_with(
    key: &HmacSha256,
    parts: &Parts,
    body: &[u8],
    auth: &Authorization,
    amz_date: &str,
) -> bool {
    let expected = sign_with(key, parts, body, auth, amz_date);
    constant_time_eq(&expected, auth.signature.as_bytes())
}

/// The signature (64 lower-case hexadecimal digits) of a request signed at
/// `amz_date` with `secret_key`, over `auth`'s scope and signed headers:
/// what a client sends, and what [`verify`] compares with.
pub fn signature(
    parts: &Parts,
    body: &[u8],
    auth: &Authorization,
    amz_date: &str,
    secret_key: &str,
) -> String {
    let key = signing_key(secret_key, &auth.date, &auth.region, &auth.service);
    let hex = sign_with(&key, parts, body, auth, amz_date);
    hex.iter().map(|&b| char::from(b)).collect()
}

/// Signing keys derived before, one per access key: a request then costs
/// one HMAC and two hashes instead of five HMACs. A signing key depends
/// only on the secret key, the date, the region and the service, so the
/// AWS SDKs cache it the same way; a key is derived again when any of them
/// changes (a new day, another region, a secret key that is not the one
/// cached). Bounded: past [`SigningKeys::CAPACITY`] access keys it starts
/// afresh.
pub struct SigningKeys {
    by_key_id: Mutex<HashMap<String, CachedKey>>,
}

struct CachedKey {
    secret_key: String,
    date: String,
    region: String,
    service: String,
    key: HmacSha256,
}

impl CachedKey {
    fn is_for(&self, secret_key: &str, auth: &Authorization) -> bool {
        self.date == auth.date
            && self.region == auth.region
            && self.service == auth.service
            && constant_time_eq(self.secret_key.as_bytes(), secret_key.as_bytes())
    }
}

impl std::fmt::Debug for SigningKeys {
    // Derived keys are key material: only their number is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.lock().len();
        f.debug_struct("SigningKeys")
            .field("cached", &cached)
            .finish()
    }
}

impl Default for SigningKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl SigningKeys {
    /// Access keys whose signing key is kept at most.
    pub const CAPACITY: usize = 4096;

    /// An empty cache.
    pub fn new() -> Self {
        Self {
            by_key_id: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedKey>> {
        self.by_key_id.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Like [`verify`], deriving the signing key only when this access key
    /// has not signed for this secret key, date, region and service before.
    pub fn verify(
        &self,
        parts: &Parts,
        body: &[u8],
        auth: &Authorization,
        amz_date: &str,
        secret_key: &str,
    ) -> bool {
        let cached = self
            .lock()
            .get(auth.access_key_id.as_str())
            .filter(|c| c.is_for(secret_key, auth))
            .map(|c| c.key.clone());
        let key = match cached {
            Some(key) => key,
            None => {
                let key = signing_key(secret_key, &auth.date, &auth.region, &auth.service);
                let mut cache = self.lock();
                if cache.len() >= Self::CAPACITY {
                    cache.clear();
                }
                cache.insert(
                    auth.access_key_id.clone(),
                    CachedKey {
                        secret_key: secret_key.to_owned(),
                        date: auth.date.clone(),
                        region: auth.region.clone(),
                        service: auth.service.clone(),
                        key: key.clone(),
                    },
                );
                key
            }
        };
        is_signed_with(&key, parts, body, auth, amz_date)
    }
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
    fn the_fast_date_reader_agrees_with_the_general_one() {
        let general = |raw: &str| {
            jiff::civil::DateTime::strptime(BASIC_FORMAT, raw)
                .ok()
                .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| (z.timestamp(), basic(z.timestamp())))
        };
        for raw in [
            "20150830T123600Z",
            "20240229T235959Z",
            "19991231T000000Z",
            "10000101T000000Z",
        ] {
            assert_eq!(basic_date(raw.as_bytes()), general(raw), "{raw}");
            assert!(basic_date(raw.as_bytes()).is_some(), "{raw}");
        }
        // Left to the general parser (and its messages).
        for raw in [
            "99991231T235959Z",
            "20150230T123600Z",
            "20151330T123600Z",
            "20150830T123660Z",
            "20150830T243600Z",
            "09990830T123600Z",
            "20150830t123600Z",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "2015083OT123600Z",
            "",
        ] {
            assert_eq!(basic_date(raw.as_bytes()), None, "{raw}");
        }
    }

    #[test]
    fn cached_signing_keys_verify_as_a_fresh_derivation_does() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let parts = request(&[("host", "h"), ("x-amz-date", "20150830T123600Z")]);
        let signed = |scope: &str, key: &str| {
            let a = auth(scope, "host;x-amz-date");
            let good = signature(&parts, b"{}", &a, "20150830T123600Z", key);
            Authorization {
                signature: good,
                ..a
            }
        };
        let keys = SigningKeys::new();
        let east = signed("20150830/us-east-1/secretsmanager", secret);
        for _ in 0..2 {
            assert!(keys.verify(&parts, b"{}", &east, "20150830T123600Z", secret));
            assert!(verify(&parts, b"{}", &east, "20150830T123600Z", secret));
            assert!(!keys.verify(&parts, b"{ }", &east, "20150830T123600Z", secret));
        }
        // The same key id with another secret key: not the cached derivation.
        assert!(!keys.verify(&parts, b"{}", &east, "20150830T123600Z", "other"));
        assert!(keys.verify(&parts, b"{}", &east, "20150830T123600Z", secret));
        // Another region (or date) of the same key is derived for its scope.
        let west = signed("20150830/us-west-2/secretsmanager", secret);
        assert!(keys.verify(&parts, b"{}", &west, "20150830T123600Z", secret));
        let forged = Authorization {
            region: "us-west-2".into(),
            ..east.clone()
        };
        assert!(!keys.verify(&parts, b"{}", &forged, "20150830T123600Z", secret));
        assert!(keys.verify(&parts, b"{}", &east, "20150830T123600Z", secret));
        assert!(
            !format!("{keys:?}").contains(secret),
            "Debug shows no key material"
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
