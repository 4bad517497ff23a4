//! IAM as far as the emulator needs it: users and roles with their policies,
//! access keys (long-lived and temporary), OIDC providers for web identity,
//! and the decision "may this caller do this".

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::jwk::JwkSet;
use rand::Rng;

use crate::error::{AwsError, ErrorCode};
use crate::policy::{self, Decision, PolicyDocument, RequestContext};

/// A key pair handed to a client. `Debug` never shows the secret part.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The key id (`AKIA...` long-lived, `ASIA...` temporary).
    pub access_key_id: String,
    /// The secret part, which signs requests.
    pub secret_access_key: String,
    /// The session token temporary credentials must send.
    pub session_token: Option<String>,
    /// When temporary credentials expire (on the emulator's clock).
    pub expiration: Option<Timestamp>,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &format_args!("<{} chars>", self.secret_access_key.len()),
            )
            .field(
                "session_token",
                &self
                    .session_token
                    .as_ref()
                    .map(|t| format!("<{} chars>", t.len())),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// Who made a call, as GetCallerIdentity and the audit trail show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Caller {
    /// The user's ARN, or the assumed role's session ARN.
    pub arn: String,
    /// The user's id, or `ROLEID:SESSION` for an assumed role.
    pub user_id: String,
    /// The account.
    pub account: String,
    /// The access key the call was signed with.
    pub access_key_id: String,
}

#[derive(Debug, Clone)]
enum Owner {
    User(String),
    Session { role: String, session_name: String },
}

#[derive(Debug, Clone)]
struct StoredKey {
    key: AccessKey,
    owner: Owner,
}

#[derive(Debug, Clone)]
struct User {
    arn: String,
    id: String,
    policies: BTreeMap<String, PolicyDocument>,
}

#[derive(Debug, Clone)]
struct Role {
    arn: String,
    id: String,
    trust: PolicyDocument,
    policies: BTreeMap<String, PolicyDocument>,
}

/// An OpenID Connect provider the account trusts (what `eksctl utils
/// associate-iam-oidc-provider` creates for a cluster).
#[derive(Debug, Clone)]
pub struct OidcProvider {
    /// `https://...`, as the token's `iss` says it.
    pub issuer: String,
    /// The audiences (`aud`) it accepts tokens for (`sts.amazonaws.com`).
    pub client_ids: Vec<String>,
    /// The keys its tokens are signed with.
    pub keys: JwkSet,
}

impl OidcProvider {
    /// A provider whose keys are a JWKS document as a cluster publishes it
    /// (`/openid/v1/jwks`), for callers that hold it as JSON.
    pub fn from_jwks_json(
        issuer: impl Into<String>,
        client_ids: Vec<String>,
        jwks: serde_json::Value,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            issuer: issuer.into(),
            client_ids,
            keys: serde_json::from_value(jwks)?,
        })
    }

    /// The issuer without its scheme: IAM's name for it in ARNs and condition keys.
    pub fn host_path(&self) -> &str {
        self.issuer
            .strip_prefix("https://")
            .or_else(|| self.issuer.strip_prefix("http://"))
            .unwrap_or(&self.issuer)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
/// Why a change to IAM was refused.
pub enum IamError {
    /// The user named does not exist.
    #[error("no IAM user named {0}")]
    NoSuchUser(String),
    /// The role named does not exist.
    #[error("no IAM role named {0}")]
    NoSuchRole(String),
    /// A user or role of that name exists already.
    #[error("an IAM {kind} named {name} already exists")]
    Exists {
        /// `user` or `role`.
        kind: &'static str,
        /// The name.
        name: String,
    },
}

/// The account's users, roles, access keys and trusted identity providers.
#[derive(Debug)]
pub struct Iam {
    account_id: String,
    users: BTreeMap<String, User>,
    roles: BTreeMap<String, Role>,
    keys: HashMap<String, StoredKey>,
    oidc: Vec<OidcProvider>,
}

fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn new_key(prefix: &str, temporary: bool, expiration: Option<Timestamp>) -> AccessKey {
    AccessKey {
        access_key_id: format!("{prefix}{}", random_string(UPPER_DIGITS, 16)),
        secret_access_key: random_string(SECRET_CHARS, 40),
        session_token: temporary.then(|| random_string(SECRET_CHARS, 356)),
        expiration,
    }
}

impl Iam {
    /// An account with nothing in it.
    pub fn new(account_id: impl Into<String>) -> Self {
        Self {
            account_id: account_id.into(),
            users: BTreeMap::new(),
            roles: BTreeMap::new(),
            keys: HashMap::new(),
            oidc: Vec::new(),
        }
    }

    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// Creates a user without policies; gives its ARN.
    pub fn create_user(&mut self, name: &str) -> Result<String, IamError> {
        if self.users.contains_key(name) {
            return Err(IamError::Exists {
                kind: "user",
                name: name.to_owned(),
            });
        }
        let arn = format!("arn:aws:iam::{}:user/{name}", self.account_id);
        let id = format!("AIDA{}", random_string(UPPER_DIGITS, 17));
        self.users.insert(
            name.to_owned(),
            User {
                arn: arn.clone(),
                id,
                policies: BTreeMap::new(),
            },
        );
        Ok(arn)
    }

    /// Attaches (or replaces) an inline policy; takes effect on the next call.
    pub fn put_user_policy(
        &mut self,
        user: &str,
        policy_name: &str,
        doc: PolicyDocument,
    ) -> Result<(), IamError> {
        let u = self
            .users
            .get_mut(user)
            .ok_or_else(|| IamError::NoSuchUser(user.to_owned()))?;
        u.policies.insert(policy_name.to_owned(), doc);
        Ok(())
    }

    /// The names of a user's inline policies (none for an unknown user).
    pub fn user_policy_names(&self, user: &str) -> Vec<String> {
        self.users
            .get(user)
            .map(|u| u.policies.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Removes a user's inline policy (nothing if it has none of that name).
    pub fn delete_user_policy(&mut self, user: &str, policy_name: &str) -> Result<(), IamError> {
        let u = self
            .users
            .get_mut(user)
            .ok_or_else(|| IamError::NoSuchUser(user.to_owned()))?;
        u.policies.remove(policy_name);
        Ok(())
    }

    /// A new long-lived key pair for a user.
    pub fn create_access_key(&mut self, user: &str) -> Result<AccessKey, IamError> {
        if !self.users.contains_key(user) {
            return Err(IamError::NoSuchUser(user.to_owned()));
        }
        let key = new_key("AKIA", false, None);
        self.keys.insert(
            key.access_key_id.clone(),
            StoredKey {
                key: key.clone(),
                owner: Owner::User(user.to_owned()),
            },
        );
        Ok(key)
    }

    /// Revokes a key: later calls signed with it are UnrecognizedClientException.
    pub fn delete_access_key(&mut self, access_key_id: &str) -> bool {
        self.keys.remove(access_key_id).is_some()
    }

    /// Creates a role that `trust` says who may assume; gives its ARN.
    pub fn create_role(&mut self, name: &str, trust: PolicyDocument) -> Result<String, IamError> {
        if self.roles.contains_key(name) {
            return Err(IamError::Exists {
                kind: "role",
                name: name.to_owned(),
            });
        }
        let arn = format!("arn:aws:iam::{}:role/{name}", self.account_id);
        let id = format!("AROA{}", random_string(UPPER_DIGITS, 17));
        self.roles.insert(
            name.to_owned(),
            Role {
                arn: arn.clone(),
                id,
                trust,
                policies: BTreeMap::new(),
            },
        );
        Ok(arn)
    }

    /// Attaches (or replaces) an inline policy of a role; sessions of the
    /// role follow it from their next call.
    pub fn put_role_policy(
        &mut self,
        role: &str,
        policy_name: &str,
        doc: PolicyDocument,
    ) -> Result<(), IamError> {
        let r = self
            .roles
            .get_mut(role)
            .ok_or_else(|| IamError::NoSuchRole(role.to_owned()))?;
        r.policies.insert(policy_name.to_owned(), doc);
        Ok(())
    }

    /// Trusts tokens from `provider` (replacing one of the same issuer);
    /// gives its ARN.
    pub fn add_oidc_provider(&mut self, provider: OidcProvider) -> String {
        let arn = format!(
            "arn:aws:iam::{}:oidc-provider/{}",
            self.account_id,
            provider.host_path()
        );
        self.oidc.retain(|p| p.issuer != provider.issuer);
        self.oidc.push(provider);
        arn
    }

    /// The identity providers AWS trusts tokens from, by issuer.
    pub fn oidc_issuers(&self) -> Vec<&str> {
        self.oidc.iter().map(|p| p.issuer.as_str()).collect()
    }

    /// Removes every identity provider (`aws iam
    /// delete-open-id-connect-provider` for each): tokens are trusted from
    /// nowhere. Gives what it removed.
    pub fn remove_oidc_providers(&mut self) -> Vec<OidcProvider> {
        std::mem::take(&mut self.oidc)
    }

    /// The secret key and session token a signature must have been made
    /// with, checked for expiry at `now`.
    pub fn signing_key(&self, access_key_id: &str, now: Timestamp) -> Result<&AccessKey, AwsError> {
        let stored = self.keys.get(access_key_id).ok_or_else(|| {
            AwsError::new(
                ErrorCode::UnrecognizedClientException,
                "The security token included in the request is invalid.",
            )
        })?;
        if stored.key.expiration.is_some_and(|exp| exp <= now) {
            return Err(AwsError::new(
                ErrorCode::ExpiredTokenException,
                "The security token included in the request is expired",
            ));
        }
        Ok(&stored.key)
    }

    /// Who signs with `access_key_id`, if anyone.
    pub fn caller(&self, access_key_id: &str) -> Option<Caller> {
        let stored = self.keys.get(access_key_id)?;
        let (arn, user_id) = match &stored.owner {
            Owner::User(name) => {
                let u = self.users.get(name)?;
                (u.arn.clone(), u.id.clone())
            }
            Owner::Session { role, session_name } => {
                let r = self.roles.get(role)?;
                (
                    format!(
                        "arn:aws:sts::{}:assumed-role/{role}/{session_name}",
                        self.account_id
                    ),
                    format!("{}:{session_name}", r.id),
                )
            }
        };
        Some(Caller {
            arn,
            user_id,
            account: self.account_id.clone(),
            access_key_id: access_key_id.to_owned(),
        })
    }

    /// IAM's decision for `caller` doing `action` on `resource`, as an AWS error when denied.
    pub fn authorize(&self, caller: &Caller, action: &str, resource: &str) -> Result<(), AwsError> {
        let policies = match self.keys.get(&caller.access_key_id).map(|k| &k.owner) {
            Some(Owner::User(name)) => self.users.get(name).map(|u| &u.policies),
            Some(Owner::Session { role, .. }) => self.roles.get(role).map(|r| &r.policies),
            None => None,
        };
        let policies = policies.into_iter().flat_map(BTreeMap::values);
        let req = RequestContext {
            action,
            resource,
            keys: BTreeMap::new(),
        };
        let why = match policy::evaluate(policies, &req) {
            Decision::Allow => return Ok(()),
            Decision::ExplicitDeny => {
                "with an explicit deny in an identity-based policy".to_owned()
            }
            Decision::ImplicitDeny => {
                format!("because no identity-based policy allows the {action} action")
            }
        };
        Err(AwsError::new(
            ErrorCode::AccessDeniedException,
            format!(
                "User: {} is not authorized to perform: {action} on resource: {resource} {why}",
                caller.arn
            ),
        ))
    }

    /// STS AssumeRoleWithWebIdentity: verifies the token against the trusted
    /// provider's keys, checks the role's trust policy against its `sub` and
    /// `aud`, and issues temporary credentials carrying the role's policies.
    pub fn assume_role_with_web_identity(
        &mut self,
        role_arn: &str,
        session_name: &str,
        token: &str,
        duration: Option<i64>,
        now: Timestamp,
    ) -> Result<(AccessKey, WebIdentity), AwsError> {
        let invalid = |m: &str| AwsError::new(ErrorCode::InvalidIdentityToken, m);
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("The ID Token provided is not a valid JWT."))?;
        let unverified = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
            .map_err(|_| invalid("The ID Token provided is not a valid JWT."))?
            .claims;
        let iss = unverified
            .get("iss")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let provider = self
            .oidc
            .iter()
            .find(|p| p.issuer == iss)
            .ok_or_else(|| {
                invalid(&format!(
                    "No OpenIDConnect provider found in your account for {iss}"
                ))
            })?
            .clone();
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let verified = provider
            .keys
            .keys
            .iter()
            .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
            .filter_map(|k| jsonwebtoken::DecodingKey::from_jwk(k).ok())
            .find_map(|k| jsonwebtoken::decode::<serde_json::Value>(token, &k, &validation).ok())
            .ok_or_else(|| {
                invalid("Couldn't verify the signature of the ID Token with the provider's keys.")
            })?
            .claims;
        let exp = verified.get("exp").and_then(|v| v.as_i64()).unwrap_or(0);
        if exp <= now.as_second() {
            return Err(AwsError::new(
                ErrorCode::ExpiredToken,
                "Token expired: current date/time must be before the expiration date/time.",
            ));
        }
        let sub = verified
            .get("sub")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let auds: Vec<String> = match verified.get("aud") {
            Some(serde_json::Value::String(a)) => vec![a.clone()],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let Some(aud) = auds
            .iter()
            .find(|a| provider.client_ids.contains(a))
            .cloned()
        else {
            return Err(invalid("Incorrect token audience"));
        };
        let denied = || {
            AwsError::new(
                ErrorCode::AccessDenied,
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            )
        };
        let role_name = role_arn.rsplit('/').next().unwrap_or_default().to_owned();
        let role = self
            .roles
            .get(&role_name)
            .filter(|r| r.arn == role_arn)
            .ok_or_else(denied)?;
        let provider_arn = format!(
            "arn:aws:iam::{}:oidc-provider/{}",
            self.account_id,
            provider.host_path()
        );
        let mut keys = BTreeMap::new();
        keys.insert(format!("{}:sub", provider.host_path()), sub.clone());
        keys.insert(format!("{}:aud", provider.host_path()), aud.clone());
        let req = RequestContext {
            action: "sts:AssumeRoleWithWebIdentity",
            resource: role_arn,
            keys,
        };
        if policy::evaluate_trust(&role.trust, "Federated", &provider_arn, &req) != Decision::Allow
        {
            return Err(denied());
        }
        let duration = duration.unwrap_or(3600);
        if !(900..=43_200).contains(&duration) {
            return Err(AwsError::new(
                ErrorCode::ValidationException,
                format!(
                    "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"
                ),
            ));
        }
        let expiration = now
            .checked_add(SignedDuration::from_secs(duration))
            .unwrap_or(Timestamp::MAX);
        let key = new_key("ASIA", true, Some(expiration));
        let role_id = role.id.clone();
        self.keys.insert(
            key.access_key_id.clone(),
            StoredKey {
                key: key.clone(),
                owner: Owner::Session {
                    role: role_name.clone(),
                    session_name: session_name.to_owned(),
                },
            },
        );
        let identity = WebIdentity {
            assumed_role_arn: format!(
                "arn:aws:sts::{}:assumed-role/{role_name}/{session_name}",
                self.account_id
            ),
            assumed_role_id: format!("{role_id}:{session_name}"),
            subject: sub,
            audience: aud,
            provider: provider_arn,
        };
        Ok((key, identity))
    }
}

/// What AssumeRoleWithWebIdentity reports besides the credentials.
#[derive(Debug, Clone)]
pub struct WebIdentity {
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub assumed_role_arn: String,
    /// `ROLEID:SESSION`.
    pub assumed_role_id: String,
    /// The token's `sub`.
    pub subject: String,
    /// The token's `aud` the provider accepted.
    pub audience: String,
    /// The provider's ARN.
    pub provider: String,
}
