//! ServiceAccount tokens (the TokenRequest API) signed with a key made at
//! start, and the issuer's discovery document and key set, so that a party
//! such as STS can verify them as it verifies an EKS cluster's tokens.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub(crate) struct TokenIssuer {
    issuer: String,
    kid: String,
    encoding: jsonwebtoken::EncodingKey,
    jwk: Value,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot make the service account signing key: {0}")]
pub struct KeyError(String);

impl TokenIssuer {
    pub(crate) fn new(issuer: impl Into<String>) -> Result<Self, KeyError> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|e| KeyError(e.to_string()))?;
        let pkcs8 = pair.to_pkcs8v1().map_err(|e| KeyError(e.to_string()))?;
        let public = pair.public_key().as_ref();
        if public.len() != 65 {
            return Err(KeyError(format!(
                "unexpected public key length {}",
                public.len()
            )));
        }
        let kid = hex::encode(&Sha256::digest(public)[..16]);
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = json!({
            "use": "sig", "kty": "EC", "crv": "P-256", "alg": "ES256", "kid": kid,
            "x": b64(&public[1..33]), "y": b64(&public[33..65]),
        });
        Ok(Self {
            issuer: issuer.into(),
            kid,
            encoding: jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        })
    }

    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `{"keys": [...]}` as served at `/openid/v1/jwks`.
    pub(crate) fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    pub(crate) fn openid_configuration(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/openid/v1/jwks", self.issuer.trim_end_matches('/')),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        })
    }

    /// A token for `system:serviceaccount:NS:NAME`.
    pub(crate) fn issue(
        &self,
        namespace: &str,
        name: &str,
        sa_uid: &str,
        audiences: &[String],
        now: Timestamp,
        expires_in: i64,
    ) -> Result<(String, Timestamp), KeyError> {
        let exp = now.as_second() + expires_in;
        let claims = json!({
            "iss": self.issuer,
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "aud": audiences,
            "exp": exp,
            "iat": now.as_second(),
            "nbf": now.as_second(),
            "kubernetes.io": { "namespace": namespace, "serviceaccount": { "name": name, "uid": sa_uid } },
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| KeyError(e.to_string()))?;
        let expiration = Timestamp::from_second(exp).map_err(|e| KeyError(e.to_string()))?;
        Ok((token, expiration))
    }
}
