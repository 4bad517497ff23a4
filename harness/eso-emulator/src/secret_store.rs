//! SecretStore and ClusterSecretStore: validation with ESO's reasons and
//! messages, and the Secrets Manager client a store's credentials give.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_credential_types::Credentials;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::Api;
use serde_json::Value;

use eso_api::metadata::{IRSA_AUDIENCE_ANNOTATION, IRSA_DEFAULT_AUDIENCE, IRSA_ROLE_ANNOTATION};
use eso_api::reasons::{MSG_UNABLE_TO_CREATE_CLIENT, MSG_UNABLE_TO_VALIDATE_STORE, REASON_VALID};
use eso_api::{AwsProvider, SecretKeySelector, StoreKind};

use crate::provider::Provider;

/// Where the controller reaches AWS, as ESO takes it from its environment.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// `AWS_SECRETSMANAGER_ENDPOINT`
    pub secretsmanager: Option<String>,
    /// `AWS_STS_ENDPOINT`
    pub sts: Option<String>,
    /// `AWS_EC2_METADATA_DISABLED=true`: the default credential chain of a
    /// store without `auth` never asks an instance-metadata address.
    pub ec2_metadata_disabled: bool,
}

impl Endpoints {
    /// As ESO reads them from its environment.
    pub fn from_env() -> Self {
        Self {
            secretsmanager: std::env::var("AWS_SECRETSMANAGER_ENDPOINT").ok(),
            sts: std::env::var("AWS_STS_ENDPOINT").ok(),
            ec2_metadata_disabled: std::env::var("AWS_EC2_METADATA_DISABLED")
                .is_ok_and(|v| v.eq_ignore_ascii_case("true")),
        }
    }
}

/// Why a store cannot be used, by ESO's two steps: making its client
/// (reading the Secrets and ServiceAccount it names), and validating it
/// (retrieving credentials, which may call STS); the store's Ready message
/// differs between them (pkg/controllers/secretstore/common.go, v2.9.0 as
/// v0.20.4).
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("{0}")]
    Client(String),
    #[error("{0}")]
    Validate(String),
}

impl StoreError {
    /// The store's Ready message for it.
    pub(crate) fn condition_message(&self) -> &'static str {
        match self {
            StoreError::Client(_) => MSG_UNABLE_TO_CREATE_CLIENT,
            StoreError::Validate(_) => MSG_UNABLE_TO_VALIDATE_STORE,
        }
    }
}

/// What the AWS SDK for Go's default chain says when it finds no
/// credentials and instance metadata is disabled (seen on ESO v0.20.4).
const MSG_NO_DEFAULT_CREDENTIALS: &str = "failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled to EC2 IMDS via client option, or \"AWS_EC2_METADATA_DISABLED\" environment variable";

/// STS errors the Go SDK models as types of their own, by operation: it
/// prints those as `Code: message`, every other as `api error Code: message`.
const ASSUME_ROLE_MODELED: &[&str] = &[
    "ExpiredTokenException",
    "MalformedPolicyDocument",
    "PackedPolicyTooLarge",
    "RegionDisabledException",
];
const WEB_IDENTITY_MODELED: &[&str] = &[
    "ExpiredTokenException",
    "IDPCommunicationError",
    "IDPRejectedClaim",
    "InvalidIdentityToken",
    "MalformedPolicyDocument",
    "PackedPolicyTooLarge",
    "RegionDisabledException",
];

/// An STS error as the AWS SDK for Go v2 words it. `retried`: codes its
/// credential provider retries (3 attempts), which it then says.
fn sts_error<E: aws_sdk_sts::error::ProvideErrorMetadata + std::fmt::Debug>(
    op: &str,
    modeled: &[&str],
    retried: &[&str],
    e: aws_sdk_sts::error::SdkError<E, aws_sdk_sts::config::http::HttpResponse>,
) -> String {
    use aws_sdk_sts::error::SdkError;
    match &e {
        SdkError::ServiceError(se) => {
            let raw = se.raw();
            let code = se.err().code().unwrap_or("UnknownError");
            let request_id = raw.headers().get("x-amzn-requestid").unwrap_or_default();
            format!(
                "operation error STS: {op}, {}https response error StatusCode: {}, RequestID: {request_id}, {}{code}: {}",
                if retried.contains(&code) {
                    "exceeded maximum number of attempts, 3, "
                } else {
                    ""
                },
                raw.status().as_u16(),
                if modeled.contains(&code) {
                    ""
                } else {
                    "api error "
                },
                se.err().message().unwrap_or_default()
            )
        }
        other => format!("operation error STS: {op}, {other}"),
    }
}

/// ESO's "referent" authentication (IsReferentSpec,
/// providers/v1/aws/util/provider.go, v2.9.0 as v0.20.4): a
/// ClusterSecretStore whose credentials name no namespace reads them in
/// the namespace of each ExternalSecret using it, so it cannot read them
/// when validated, and does not try.
pub(crate) fn is_referent(aws: &AwsProvider) -> bool {
    let Some(auth) = aws.auth.as_ref() else {
        return false;
    };
    let sa = auth
        .jwt
        .as_ref()
        .and_then(|j| j.service_account_ref.as_ref())
        .is_some_and(|r| r.namespace.is_none());
    let keys = auth.secret_ref.as_ref().is_some_and(|r| {
        [
            r.access_key_id_secret_ref.as_ref(),
            r.secret_access_key_secret_ref.as_ref(),
        ]
        .iter()
        .any(|s| s.is_none_or(|s| s.namespace.is_none()))
            || r.session_token_secret_ref
                .as_ref()
                .is_some_and(|s| s.namespace.is_none())
    });
    sa || keys
}

/// A store as the controller uses it.
#[derive(Debug, Clone)]
pub(crate) struct StoreView {
    pub kind: StoreKind,
    pub name: String,
    /// Namespace of a SecretStore; empty for a ClusterSecretStore.
    pub namespace: String,
    pub uid: String,
    pub resource_version: String,
    pub aws: Option<AwsProvider>,
    pub ready: Option<bool>,
}

impl StoreView {
    pub(crate) fn from_json(kind: StoreKind, obj: &Value) -> Self {
        let s = |p: &str| {
            obj.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let ready = obj
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
            })
            .and_then(|c| c.get("status").and_then(Value::as_str))
            .map(|s| s == "True");
        Self {
            kind,
            name: s("/metadata/name"),
            namespace: s("/metadata/namespace"),
            uid: s("/metadata/uid"),
            resource_version: s("/metadata/resourceVersion"),
            aws: obj
                .pointer("/spec/provider/aws")
                .and_then(|a| serde_json::from_value(a.clone()).ok()),
            ready,
        }
    }
}

/// A failure to make a provider client; its text is what ESO puts in events.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct ClientError(pub String);

pub(crate) struct ClientFactory {
    kube: kube::Client,
    endpoints: Endpoints,
    time: crate::sdk_time::SdkTime,
    cache: Mutex<BTreeMap<String, aws_sdk_secretsmanager::Client>>,
}

impl ClientFactory {
    pub(crate) fn new(
        kube: kube::Client,
        endpoints: Endpoints,
        time: crate::sdk_time::SdkTime,
    ) -> Self {
        Self {
            kube,
            endpoints,
            time,
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    /// Checks a store the way ESO's store controller does with its AWS
    /// provider: makes the client (reading the credentials it names), then
    /// retrieves credentials (static keys as they are; IRSA, AssumeRole and
    /// the default chain by asking for them). A referent ClusterSecretStore
    /// is valid unread. Returns the Ready condition's reason.
    pub(crate) async fn validate(&self, store: &StoreView) -> Result<&'static str, StoreError> {
        let aws = store.aws.as_ref().ok_or_else(|| {
            StoreError::Client("no provider configured: spec.provider.aws is missing".into())
        })?;
        if aws.service != "SecretsManager" {
            return Err(StoreError::Client(format!(
                "invalid service: {} (this controller serves SecretsManager)",
                aws.service
            )));
        }
        if aws.region.is_empty() {
            return Err(StoreError::Client("missing region".into()));
        }
        if store.kind == StoreKind::ClusterSecretStore && is_referent(aws) {
            return Ok(REASON_VALID);
        }
        self.credentials(store, aws, &store.namespace).await?;
        Ok(REASON_VALID)
    }

    /// The credentials a store gives in `namespace` (where a referent
    /// ClusterSecretStore's names resolve): its own, then the role it
    /// assumes with them, if any.
    async fn credentials(
        &self,
        store: &StoreView,
        aws: &AwsProvider,
        namespace: &str,
    ) -> Result<Credentials, StoreError> {
        let auth = aws.auth.as_ref();
        // jwt before secretRef, whatever else the store names
        // (constructCredsProvider, providers/v1/aws/auth/auth.go, v2.9.0 as
        // v0.20.4): a store given both uses the ServiceAccount's token, and
        // the static keys are never read.
        let base = if auth.is_some_and(|a| a.jwt.is_some()) {
            self.web_identity_credentials(store, aws, namespace).await?
        } else if auth.is_some_and(|a| a.secret_ref.is_some()) {
            self.static_credentials(store, aws, namespace)
                .await
                .map_err(|e| StoreError::Client(e.0))?
        } else {
            self.default_chain(aws).await?
        };
        match aws.role.as_deref().filter(|r| !r.is_empty()) {
            Some(role) => self.assume_role(aws, base, role).await,
            None => Ok(base),
        }
    }

    /// A store without `auth`: the SDK's default chain in the controller's
    /// environment (variables, shared files; instance metadata unless
    /// disabled).
    async fn default_chain(&self, aws: &AwsProvider) -> Result<Credentials, StoreError> {
        use aws_credential_types::provider::ProvideCredentials;
        let region = Region::new(aws.region.clone());
        if self.endpoints.ec2_metadata_disabled {
            aws_config::meta::credentials::CredentialsProviderChain::first_try(
                "Environment",
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            )
            .or_else(
                "Profile",
                aws_config::profile::ProfileFileCredentialsProvider::builder().build(),
            )
            .provide_credentials()
            .await
            .map_err(|_| StoreError::Validate(MSG_NO_DEFAULT_CREDENTIALS.into()))
        } else {
            aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                .region(region)
                .build()
                .await
                .provide_credentials()
                .await
                .map_err(|e| {
                    StoreError::Validate(format!("failed to refresh cached credentials, {e}"))
                })
        }
    }

    /// `spec.provider.aws.role`: STS AssumeRole with the store's own
    /// credentials, as the Go SDK's stscreds provider names its session.
    async fn assume_role(
        &self,
        aws: &AwsProvider,
        base: Credentials,
        role: &str,
    ) -> Result<Credentials, StoreError> {
        let mut conf = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(aws.region.clone()))
            .credentials_provider(base);
        if let Some(e) = &self.endpoints.sts {
            conf = conf.endpoint_url(e);
            conf.set_http_client(crate::sdk_http::client_for(e));
        }
        let session = format!(
            "aws-go-sdk-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let out = aws_sdk_sts::Client::from_conf(self.time.sts(conf).build())
            .assume_role()
            .role_arn(role)
            .role_session_name(session)
            .send()
            .await
            .map_err(|e| {
                StoreError::Validate(sts_error("AssumeRole", ASSUME_ROLE_MODELED, &[], e))
            })?;
        let c = out
            .credentials()
            .ok_or_else(|| StoreError::Validate("AssumeRole returned no credentials".into()))?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "eso-assume-role",
        ))
    }

    async fn secret_value(
        &self,
        store: &StoreView,
        sel: &SecretKeySelector,
        what: &str,
        referent: &str,
    ) -> Result<String, ClientError> {
        let namespace = match store.kind {
            StoreKind::SecretStore => store.namespace.clone(),
            StoreKind::ClusterSecretStore => {
                sel.namespace.clone().unwrap_or_else(|| referent.to_owned())
            }
        };
        let api: Api<Secret> = Api::namespaced(self.kube.clone(), &namespace);
        // ESO's resolver wraps the API server's error (client-go's text).
        let secret = match api.get_opt(&sel.name).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                return Err(ClientError(format!(
                    "could not fetch {what} secret: cannot get Kubernetes secret \"{name}\" from namespace \"{namespace}\": secrets \"{name}\" not found",
                    name = sel.name
                )));
            }
            Err(e) => {
                return Err(ClientError(format!(
                    "could not fetch {what} secret: cannot get Kubernetes secret \"{}\" from namespace \"{namespace}\": {e}",
                    sel.name
                )));
            }
        };
        let bytes = secret
            .data
            .as_ref()
            .and_then(|d| d.get(&sel.key))
            .map(|b| b.0.clone())
            .ok_or_else(|| {
                ClientError(format!(
                    "could not fetch {what} secret: cannot find secret data for key: \"{}\"",
                    sel.key
                ))
            })?;
        // ESO takes the bytes as they are (Go's string(val)).
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn static_credentials(
        &self,
        store: &StoreView,
        aws: &AwsProvider,
        referent: &str,
    ) -> Result<Credentials, ClientError> {
        let r = aws
            .auth
            .as_ref()
            .and_then(|a| a.secret_ref.as_ref())
            .ok_or_else(|| ClientError("missing auth.secretRef".into()))?;
        let akid_sel = r
            .access_key_id_secret_ref
            .as_ref()
            .ok_or_else(|| ClientError("missing AccessKeyID".into()))?;
        let sak_sel = r
            .secret_access_key_secret_ref
            .as_ref()
            .ok_or_else(|| ClientError("missing SecretAccessKey".into()))?;
        // ESO's order and words (providers/v1/aws/auth/auth.go,
        // credsFromSecretRef, v2.9.0 as v0.20.4): the secret access key
        // first, then "accessKeyID"; its NewClient wraps every error of
        // creating credentials in "unable to create session: ".
        let session = |e: ClientError| ClientError(format!("unable to create session: {}", e.0));
        // Both read at once (one round trip of waiting, not two); the
        // secret access key's error still comes first.
        let (sak, akid) = futures::join!(
            self.secret_value(store, sak_sel, "SecretAccessKey", referent),
            self.secret_value(store, akid_sel, "accessKeyID", referent),
        );
        let sak = sak.map_err(session)?;
        let akid = akid.map_err(session)?;
        let token = match &r.session_token_secret_ref {
            Some(sel) => Some(
                self.secret_value(store, sel, "SessionToken", referent)
                    .await
                    .map_err(session)?,
            ),
            None => None,
        };
        Ok(Credentials::new(
            akid.trim(),
            sak.trim(),
            token,
            None,
            "eso-secretref",
        ))
    }

    /// IRSA: a token for the ServiceAccount, exchanged at STS for the role
    /// its `eks.amazonaws.com/role-arn` annotation names.
    async fn web_identity_credentials(
        &self,
        store: &StoreView,
        aws: &AwsProvider,
        referent: &str,
    ) -> Result<Credentials, StoreError> {
        let sa_ref = aws
            .auth
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .and_then(|j| j.service_account_ref.as_ref())
            .ok_or_else(|| StoreError::Client("missing auth.jwt.serviceAccountRef".into()))?;
        let namespace = match store.kind {
            StoreKind::SecretStore => store.namespace.clone(),
            StoreKind::ClusterSecretStore => sa_ref
                .namespace
                .clone()
                .unwrap_or_else(|| referent.to_owned()),
        };
        let sas: Api<ServiceAccount> = Api::namespaced(self.kube.clone(), &namespace);
        let sa = sas
            .get_opt(&sa_ref.name)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| {
                StoreError::Client(format!(
                    "could not fetch service account {namespace}/{}",
                    sa_ref.name
                ))
            })?;
        let role = sa
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(IRSA_ROLE_ANNOTATION))
            .cloned()
            .ok_or_else(|| StoreError::Client(format!("an IAM role must be associated with service account {} (namespace: {namespace})", sa_ref.name)))?;
        // The ServiceAccount's audience annotation (or STS's), then the
        // store's own audiences (credsFromServiceAccount, same file).
        let mut audiences = vec![
            sa.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(IRSA_AUDIENCE_ANNOTATION))
                .filter(|a| !a.is_empty())
                .cloned()
                .unwrap_or_else(|| IRSA_DEFAULT_AUDIENCE.to_owned()),
        ];
        audiences.extend(sa_ref.audiences.iter().cloned());
        let req: k8s_openapi::api::authentication::v1::TokenRequest = serde_json::from_value(
            serde_json::json!({ "spec": { "audiences": audiences, "expirationSeconds": 600 } }),
        )
        .map_err(|e| StoreError::Client(e.to_string()))?;
        let token = sas
            .create_token_request(&sa_ref.name, &Default::default(), &req)
            .await
            .map_err(|e| {
                StoreError::Validate(format!(
                    "could not request a token for service account {}: {e}",
                    sa_ref.name
                ))
            })?
            .status
            .and_then(|s| s.token)
            .ok_or_else(|| StoreError::Validate("the token request returned no token".into()))?;
        let mut conf = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(aws.region.clone()));
        if let Some(e) = &self.endpoints.sts {
            conf = conf.endpoint_url(e);
            conf.set_http_client(crate::sdk_http::client_for(e));
        }
        let sts = aws_sdk_sts::Client::from_conf(self.time.sts(conf).build());
        let out = sts
            .assume_role_with_web_identity()
            .role_arn(&role)
            .role_session_name("external-secrets-provider-aws")
            .web_identity_token(token)
            .send()
            .await
            // The Go SDK's web identity provider, behind a credentials
            // cache, retries an InvalidIdentityToken (seen on ESO v0.20.4).
            .map_err(|e| {
                StoreError::Validate(format!(
                    "failed to refresh cached credentials, failed to retrieve credentials, {}",
                    sts_error(
                        "AssumeRoleWithWebIdentity",
                        WEB_IDENTITY_MODELED,
                        &["InvalidIdentityToken"],
                        e
                    )
                ))
            })?;
        let c = out.credentials().ok_or_else(|| {
            StoreError::Validate("AssumeRoleWithWebIdentity returned no credentials".into())
        })?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "eso-irsa",
        ))
    }

    /// The client for a store, used in `namespace` (an ExternalSecret's:
    /// where a referent ClusterSecretStore's credentials are read), made
    /// anew when its credentials change.
    pub(crate) async fn provider(
        &self,
        store: &StoreView,
        namespace: &str,
    ) -> Result<Provider, ClientError> {
        let aws = store
            .aws
            .as_ref()
            .ok_or_else(|| ClientError("no provider configured".into()))?;
        let creds = self
            .credentials(store, aws, namespace)
            .await
            .map_err(|e| ClientError(e.to_string()))?;
        let key = format!(
            "{}|{}|{}",
            aws.region,
            creds.access_key_id(),
            crate::util::fingerprint(creds.secret_access_key().as_bytes())
        );
        if let Some(client) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned()
        {
            return Ok(Provider {
                client,
                endpoint: self.endpoint(&aws.region),
            });
        }
        let mut conf = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(aws.region.clone()));
        if let Some(e) = &self.endpoints.secretsmanager {
            conf = conf.endpoint_url(e);
            conf.set_http_client(crate::sdk_http::client_for(e));
        }
        conf = conf.credentials_provider(creds);
        let client =
            aws_sdk_secretsmanager::Client::from_conf(self.time.secrets_manager(conf).build());
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, client.clone());
        Ok(Provider {
            client,
            endpoint: self.endpoint(&aws.region),
        })
    }

    /// Where the Secrets Manager client of a region sends its requests.
    fn endpoint(&self, region: &str) -> String {
        self.endpoints
            .secretsmanager
            .clone()
            .unwrap_or_else(|| format!("https://secretsmanager.{region}.amazonaws.com"))
    }
}
