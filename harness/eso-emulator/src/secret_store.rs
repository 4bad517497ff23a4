//! SecretStore and ClusterSecretStore: validation with ESO's reasons and
//! messages, and the Secrets Manager client a store's credentials give.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_credential_types::Credentials;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::Api;
use serde_json::Value;

use crate::provider::Provider;
use crate::types::{AwsProvider, Condition, SecretKeySelector, StoreKind};

pub const REASON_VALID: &str = "Valid";
pub const REASON_INVALID_PROVIDER_CONFIG: &str = "InvalidProviderConfig";
pub const REASON_VALIDATION_UNKNOWN: &str = "ValidationUnknown";
pub const MSG_STORE_VALIDATED: &str = "store validated";
pub const MSG_UNABLE_TO_CREATE_CLIENT: &str = "unable to create client";
pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// Where the controller reaches AWS, as ESO takes it from its environment.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// `AWS_SECRETSMANAGER_ENDPOINT`
    pub secretsmanager: Option<String>,
    /// `AWS_STS_ENDPOINT`
    pub sts: Option<String>,
}

impl Endpoints {
    pub fn from_env() -> Self {
        Self {
            secretsmanager: std::env::var("AWS_SECRETSMANAGER_ENDPOINT").ok(),
            sts: std::env::var("AWS_STS_ENDPOINT").ok(),
        }
    }
}

/// A store as the controller uses it.
#[derive(Debug, Clone)]
pub struct StoreView {
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
    pub fn from_json(kind: StoreKind, obj: &Value) -> Self {
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

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            StoreKind::SecretStore => "SecretStore",
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
        }
    }
}

/// A failure to make a provider client; its text is what ESO puts in events.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(pub String);

pub struct ClientFactory {
    kube: kube::Client,
    endpoints: Endpoints,
    cache: Mutex<BTreeMap<String, aws_sdk_secretsmanager::Client>>,
}

impl ClientFactory {
    pub fn new(kube: kube::Client, endpoints: Endpoints) -> Self {
        Self {
            kube,
            endpoints,
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    /// Checks a store's configuration the way ESO's AWS provider does: no AWS
    /// call for static keys. Returns the Ready condition's reason.
    pub async fn validate(&self, store: &StoreView) -> Result<&'static str, ClientError> {
        let aws = store.aws.as_ref().ok_or_else(|| {
            ClientError("no provider configured: spec.provider.aws is missing".into())
        })?;
        if aws.service != "SecretsManager" {
            return Err(ClientError(format!(
                "invalid service: {} (this controller serves SecretsManager)",
                aws.service
            )));
        }
        if aws.region.is_empty() {
            return Err(ClientError("missing region".into()));
        }
        match aws.auth.as_ref() {
            Some(auth) if auth.secret_ref.is_some() => {
                self.static_credentials(store, aws).await?;
                Ok(REASON_VALID)
            }
            Some(auth) if auth.jwt.is_some() => Ok(REASON_VALIDATION_UNKNOWN),
            _ => Ok(REASON_VALIDATION_UNKNOWN),
        }
    }

    async fn secret_value(
        &self,
        store: &StoreView,
        sel: &SecretKeySelector,
        what: &str,
    ) -> Result<String, ClientError> {
        let namespace = match store.kind {
            StoreKind::SecretStore => store.namespace.clone(),
            StoreKind::ClusterSecretStore => sel.namespace.clone().unwrap_or_default(),
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
        let sak = self
            .secret_value(store, sak_sel, "SecretAccessKey")
            .await
            .map_err(session)?;
        let akid = self
            .secret_value(store, akid_sel, "accessKeyID")
            .await
            .map_err(session)?;
        let token = match &r.session_token_secret_ref {
            Some(sel) => Some(
                self.secret_value(store, sel, "SessionToken")
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
    ) -> Result<Credentials, ClientError> {
        let sa_ref = aws
            .auth
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .and_then(|j| j.service_account_ref.as_ref())
            .ok_or_else(|| ClientError("missing auth.jwt.serviceAccountRef".into()))?;
        let namespace = match store.kind {
            StoreKind::SecretStore => store.namespace.clone(),
            StoreKind::ClusterSecretStore => sa_ref.namespace.clone().unwrap_or_default(),
        };
        let sas: Api<ServiceAccount> = Api::namespaced(self.kube.clone(), &namespace);
        let sa = sas
            .get_opt(&sa_ref.name)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| {
                ClientError(format!(
                    "could not fetch service account {namespace}/{}",
                    sa_ref.name
                ))
            })?;
        let role = sa
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(IRSA_ANNOTATION))
            .cloned()
            .ok_or_else(|| ClientError(format!("an IAM role must be associated with service account {} (namespace: {namespace})", sa_ref.name)))?;
        let audiences = if sa_ref.audiences.is_empty() {
            vec!["sts.amazonaws.com".to_owned()]
        } else {
            sa_ref.audiences.clone()
        };
        let req: k8s_openapi::api::authentication::v1::TokenRequest = serde_json::from_value(
            serde_json::json!({ "spec": { "audiences": audiences, "expirationSeconds": 600 } }),
        )
        .map_err(|e| ClientError(e.to_string()))?;
        let token = sas
            .create_token_request(&sa_ref.name, &Default::default(), &req)
            .await
            .map_err(|e| {
                ClientError(format!(
                    "could not request a token for service account {}: {e}",
                    sa_ref.name
                ))
            })?
            .status
            .and_then(|s| s.token)
            .ok_or_else(|| ClientError("the token request returned no token".into()))?;
        let mut conf = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(aws.region.clone()));
        if let Some(e) = &self.endpoints.sts {
            conf = conf.endpoint_url(e);
        }
        let sts = aws_sdk_sts::Client::from_conf(conf.build());
        let out = sts
            .assume_role_with_web_identity()
            .role_arn(&role)
            .role_session_name("external-secrets-provider-aws")
            .web_identity_token(token)
            .send()
            .await
            .map_err(|e| {
                let code = aws_sdk_sts::error::ProvideErrorMetadata::code(&e)
                    .unwrap_or("unknown")
                    .to_owned();
                let message = aws_sdk_sts::error::ProvideErrorMetadata::message(&e)
                    .unwrap_or_default()
                    .to_owned();
                ClientError(format!("AssumeRoleWithWebIdentity: {code}: {message}"))
            })?;
        let c = out.credentials().ok_or_else(|| {
            ClientError("AssumeRoleWithWebIdentity returned no credentials".into())
        })?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "eso-irsa",
        ))
    }

    /// The client for a store, made anew when its credentials change.
    pub async fn provider(&self, store: &StoreView) -> Result<Provider, ClientError> {
        let aws = store
            .aws
            .as_ref()
            .ok_or_else(|| ClientError("no provider configured".into()))?;
        let creds = match aws.auth.as_ref() {
            Some(a) if a.secret_ref.is_some() => Some(self.static_credentials(store, aws).await?),
            Some(a) if a.jwt.is_some() => Some(self.web_identity_credentials(store, aws).await?),
            _ => None,
        };
        let key = format!(
            "{}|{}|{}",
            aws.region,
            creds
                .as_ref()
                .map(|c| c.access_key_id().to_owned())
                .unwrap_or_default(),
            creds
                .as_ref()
                .map(|c| crate::util::fingerprint(c.secret_access_key().as_bytes()))
                .unwrap_or_default()
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
        }
        if let Some(c) = creds {
            conf = conf.credentials_provider(c);
        } else {
            let loaded = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(Region::new(aws.region.clone()))
                .load()
                .await;
            if let Some(p) = loaded.credentials_provider() {
                conf = conf.credentials_provider(p);
            }
        }
        let client = aws_sdk_secretsmanager::Client::from_conf(conf.build());
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

pub fn ready_condition(
    ok: bool,
    reason: &str,
    message: &str,
    now: &str,
    previous: &[Condition],
) -> Condition {
    let status = if ok { "True" } else { "False" };
    let since = previous
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.to_owned());
    Condition {
        type_: "Ready".into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: Some(since),
    }
}
