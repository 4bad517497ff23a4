//! The AWS SDK's HTTP client for an endpoint a client is pointed at.
//!
//! The SDK's default client parses the platform's root certificates (about
//! 140 of them) every time a client is made, whether or not it will ever
//! speak TLS: a few milliseconds of CPU and a few hundred kilobytes of
//! short-lived memory per client, and a controller makes a few per store
//! (Secrets Manager, STS). A plain-HTTP endpoint (an emulator's, moto's,
//! LocalStack's) never uses them, so its client trusts no certificate at
//! all; an https:// endpoint, or none (AWS itself), keeps the default.

use aws_sdk_secretsmanager::config::SharedHttpClient;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};

/// A client for `endpoint` when it is plain HTTP; None (the SDK's default)
/// otherwise.
pub fn client_for(endpoint: &str) -> Option<SharedHttpClient> {
    let plain = endpoint
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
    if !plain {
        return None;
    }
    let tls = TlsContext::builder()
        .with_trust_store(TrustStore::empty())
        .build()
        .ok()?;
    Some(
        Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(tls)
            .build_https(),
    )
}

#[cfg(test)]
mod tests {
    use super::client_for;

    #[test]
    fn only_a_plain_http_endpoint_gets_a_client_without_roots() {
        assert!(client_for("http://127.0.0.1:4566").is_some());
        assert!(client_for("HTTP://localhost:5000").is_some());
        assert!(client_for("https://secretsmanager.us-east-1.amazonaws.com").is_none());
        assert!(client_for("http:/x").is_none());
        assert!(client_for("").is_none());
    }
}
