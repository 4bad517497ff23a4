//! The aws-emulator as OpsSight's Secrets Manager: the runbook's IAM policy
//! on the controller's user, an all-allowing admin user for the harness, and
//! the seed's secrets. The embedded environment runs it on its virtual
//! clock; `--env binaries` on the wall clock, behind the real ESO.

use anyhow::Context as _;
use aws_credential_types::Credentials;
use aws_emulator::{AccessKey, AuditEvent, AwsEmulator, PolicyDocument, Snapshot};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
use emulator_core::Clock;
use futures::future::BoxFuture;

use super::facets::{Audit, Iam, Outage, Regions, Snapshots};
use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;
use crate::system::{ACCOUNT_ID, ESO_USER};

/// The runbook's policy on the controller's user, under this name.
const RUNBOOK_POLICY: &str = "opssight-production-secrets";

/// A Secrets Manager client of `endpoint` with this key, retries off (the
/// harness says what failed rather than trying again).
pub fn sm_client(endpoint: &str, key: &AccessKey, region: &str) -> aws_sdk_secretsmanager::Client {
    let mut conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            key.access_key_id.clone(),
            key.secret_access_key.clone(),
            key.session_token.clone(),
            None,
            "opssight-harness",
        ))
        .retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled());
    conf.set_http_client(eso_emulator::sdk_http::client_for(endpoint));
    aws_sdk_secretsmanager::Client::from_conf(conf.build())
}

pub struct EmulatedSecretsManager {
    pub aws: AwsEmulator,
    pub admin: aws_sdk_secretsmanager::Client,
    pub admin_key: AccessKey,
    /// The key `aws-secret` holds: the controller's user's.
    pub eso_key: AccessKey,
    /// The seed's region, where the controller reads.
    pub region: String,
}

impl EmulatedSecretsManager {
    /// Starts the emulator on 127.0.0.1 (an ephemeral port) and seeds it.
    pub async fn start(clock: Clock, fixtures: &Fixtures, seed: &Seed) -> anyhow::Result<Self> {
        let aws = AwsEmulator::builder()
            .clock(clock)
            .account_id(ACCOUNT_ID)
            .default_region(&seed.region)
            .start()
            .await?;
        let policy = runbook_policy(fixtures)?;
        let (admin_key, eso_key) = aws.with_iam(|iam| -> anyhow::Result<_> {
            iam.create_user("harness-admin")?;
            iam.put_user_policy("harness-admin", "all", PolicyDocument::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)?)?;
            iam.create_user(ESO_USER)?;
            iam.put_user_policy(ESO_USER, RUNBOOK_POLICY, policy)?;
            Ok((iam.create_access_key("harness-admin")?, iam.create_access_key(ESO_USER)?))
        })?;
        let admin = sm_client(&aws.endpoint(), &admin_key, &seed.region);
        for (name, values) in &seed.secrets {
            admin
                .create_secret()
                .name(name)
                .secret_string(serde_json::to_string(values)?)
                .send()
                .await
                .with_context(|| format!("seeding {name}"))?;
        }
        Ok(Self {
            aws,
            admin,
            admin_key,
            eso_key,
            region: seed.region.clone(),
        })
    }

    /// What the runbook's "EKS Service Account Setup" assumes of AWS: the
    /// cluster's ServiceAccount tokens trusted as an OIDC provider, and the
    /// role its IRSA annotation names (`role/opssight-external-secrets`)
    /// with the runbook's policy, assumable by that ServiceAccount alone.
    /// Returns the role's ARN.
    pub fn trust_cluster_tokens(
        &self,
        fixtures: &Fixtures,
        issuer: &str,
        jwks: serde_json::Value,
        service_account: (&str, &str),
    ) -> anyhow::Result<String> {
        let provider = aws_emulator::OidcProvider::from_jwks_json(
            issuer,
            vec!["sts.amazonaws.com".into()],
            jwks,
        )
        .context("the cluster's token keys (JWKS)")?;
        let host = provider.host_path().to_owned();
        let (ns, sa) = service_account;
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {
                    format!("{host}:sub"): format!("system:serviceaccount:{ns}:{sa}"),
                    format!("{host}:aud"): "sts.amazonaws.com",
                }},
            }],
        });
        let policy = runbook_policy(fixtures)?;
        self.aws.with_iam(|iam| -> anyhow::Result<String> {
            iam.add_oidc_provider(provider);
            let arn = iam.create_role(ESO_USER, PolicyDocument::parse(&trust.to_string())?)?;
            iam.put_role_policy(ESO_USER, RUNBOOK_POLICY, policy)?;
            Ok(arn)
        })
    }

    /// Puts what a scenario may have changed back as `start` left it, for
    /// environments whose scenarios share one emulator: reachable, no
    /// faults, the controller's user with the runbook's policy alone.
    pub fn reset(&self, fixtures: &Fixtures) -> anyhow::Result<()> {
        self.aws.resume_listening();
        self.aws.clear_faults();
        let policy = runbook_policy(fixtures)?;
        self.aws.with_iam(|iam| -> anyhow::Result<()> {
            for extra in iam.user_policy_names(ESO_USER) {
                if extra != RUNBOOK_POLICY {
                    iam.delete_user_policy(ESO_USER, &extra)?;
                }
            }
            iam.put_user_policy(ESO_USER, RUNBOOK_POLICY, policy)?;
            Ok(())
        })
    }
}

impl Iam for EmulatedSecretsManager {
    fn account_id(&self) -> String {
        self.aws.account_id()
    }

    fn controller_key(&self) -> AccessKey {
        self.eso_key.clone()
    }

    fn as_controller(&self) -> aws_sdk_secretsmanager::Client {
        sm_client(&self.aws.endpoint(), &self.eso_key, &self.region)
    }

    fn put_controller_policy(&self, name: &str, policy: PolicyDocument) -> anyhow::Result<()> {
        Ok(self
            .aws
            .with_iam(|iam| iam.put_user_policy(ESO_USER, name, policy))?)
    }

    fn delete_controller_policy(&self, name: &str) -> anyhow::Result<()> {
        Ok(self
            .aws
            .with_iam(|iam| iam.delete_user_policy(ESO_USER, name))?)
    }

    fn controller_policies(&self) -> Vec<String> {
        self.aws.with_iam(|iam| iam.user_policy_names(ESO_USER))
    }

    fn trusted_issuers(&self) -> Vec<String> {
        self.aws
            .with_iam(|iam| iam.oidc_issuers().into_iter().map(str::to_owned).collect())
    }

    fn distrust_issuers(&self) {
        self.aws.with_iam(|iam| {
            iam.remove_oidc_providers();
        });
    }
}

impl Audit for EmulatedSecretsManager {
    fn account_id(&self) -> String {
        self.aws.account_id()
    }

    fn events(&self) -> Vec<AuditEvent> {
        self.aws.audit_events()
    }
}

/// The emulator refuses connections: the controller's calls fail at once,
/// as they do when an endpoint is unreachable.
impl Outage for EmulatedSecretsManager {
    fn set_reachable(&self, reachable: bool) -> BoxFuture<'_, anyhow::Result<()>> {
        if reachable {
            self.aws.resume_listening();
        } else {
            self.aws.stop_listening();
        }
        Box::pin(async { Ok(()) })
    }
}

impl Snapshots for EmulatedSecretsManager {
    fn snapshot(&self) -> Snapshot {
        self.aws.snapshot()
    }

    fn restore(&self, snapshot: &Snapshot) -> anyhow::Result<()> {
        // Every value is in it: 0600 in a 0700 directory removed on a signal.
        let dir = crate::files::private_tempdir()?;
        let path = dir.path().join("secretsmanager-backup.json");
        crate::files::write_private(&path, snapshot.to_json())?;
        self.aws.restore_from(&path)?;
        Ok(())
    }
}

impl Regions for EmulatedSecretsManager {
    fn fail(&self, region: &str) {
        let faults = aws_emulator::RegionFaults {
            outage: Some(aws_emulator::Outage::ServiceUnavailable),
            ..Default::default()
        };
        self.aws.set_faults(region, faults);
    }

    fn clear_faults(&self) {
        self.aws.clear_faults();
    }
}

fn runbook_policy(fixtures: &Fixtures) -> anyhow::Result<PolicyDocument> {
    Ok(PolicyDocument::from_file(&fixtures.iam_policy())?
        .with_placeholder("ACCOUNT_ID", ACCOUNT_ID))
}

/// Writes the seed's values to Secrets Manager (creating the secrets when
/// `create`, or when they are missing).
pub async fn seed_secrets(
    sm: &aws_sdk_secretsmanager::Client,
    seed: &Seed,
    create: bool,
) -> anyhow::Result<()> {
    for (name, values) in &seed.secrets {
        let body = serde_json::to_string(values)?;
        let put = if create {
            None
        } else {
            Some(
                sm.put_secret_value()
                    .secret_id(name)
                    .secret_string(&body)
                    .send()
                    .await,
            )
        };
        match put {
            Some(Ok(_)) => {}
            Some(Err(e)) if e.code() != Some("ResourceNotFoundException") => {
                return Err(e).with_context(|| format!("writing {name} to Secrets Manager"));
            }
            _ => {
                sm.create_secret()
                    .name(name)
                    .secret_string(&body)
                    .send()
                    .await
                    .with_context(|| format!("creating {name} in Secrets Manager"))?;
            }
        }
    }
    Ok(())
}
