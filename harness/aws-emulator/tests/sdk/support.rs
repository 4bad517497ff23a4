use aws_credential_types::Credentials;
use aws_emulator::{AccessKey, AuthMode, AwsEmulator, Clock, PolicyDocument};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;

pub(crate) const REGION: &str = "us-west-2";

pub(crate) const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

pub(crate) struct Env {
    pub(crate) emulator: AwsEmulator,
    pub(crate) key: AccessKey,
    pub(crate) client: Client,
}

pub(crate) async fn start() -> Env {
    start_with(Clock::system(), AuthMode::Enforce).await
}

pub(crate) async fn start_with(clock: Clock, auth: AuthMode) -> Env {
    let emulator = AwsEmulator::builder()
        .clock(clock)
        .auth(auth)
        .account_id("111122223333")
        .start()
        .await
        .unwrap();
    let key = user(&emulator, "admin", ALLOW_ALL);
    let client = client(&emulator.endpoint(), &key, REGION);
    Env {
        emulator,
        key,
        client,
    }
}

/// Creates an IAM user with one inline policy and returns its key.
pub(crate) fn user(emulator: &AwsEmulator, name: &str, policy: &str) -> AccessKey {
    emulator.with_iam(|iam| {
        iam.create_user(name).unwrap();
        iam.put_user_policy(name, "inline", PolicyDocument::parse(policy).unwrap())
            .unwrap();
        iam.create_access_key(name).unwrap()
    })
}

pub(crate) fn sdk_config(
    endpoint: &str,
    key: &AccessKey,
    region: &str,
) -> aws_sdk_secretsmanager::Config {
    let creds = Credentials::new(
        key.access_key_id.clone(),
        key.secret_access_key.clone(),
        key.session_token.clone(),
        None,
        "emulator-test",
    );
    aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        // Fault tests count calls; SDK retries would hide what one call does.
        .retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled())
        .build()
}

pub(crate) fn client(endpoint: &str, key: &AccessKey, region: &str) -> Client {
    Client::from_conf(sdk_config(endpoint, key, region))
}

/// The AWS error code and message of a failed SDK call.
pub(crate) fn code_of<
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::fmt::Debug,
    Raw: std::fmt::Debug,
>(
    result: Result<T, aws_sdk_secretsmanager::error::SdkError<E, Raw>>,
) -> (String, String) {
    match result {
        Ok(r) => panic!("expected an error, got {r:?}"),
        Err(e) => {
            let meta = e
                .as_service_error()
                .map(|s| (s.code().map(str::to_owned), s.message().map(str::to_owned)));
            match meta {
                Some((Some(code), message)) => (code, message.unwrap_or_default()),
                _ => panic!("not a service error: {e:?}"),
            }
        }
    }
}

pub(crate) async fn create(
    client: &Client,
    name: &str,
    value: &str,
) -> aws_sdk_secretsmanager::operation::create_secret::CreateSecretOutput {
    client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap()
}

/// A value made for this run, so no test relies on a fixed secret.
pub(crate) fn value() -> String {
    format!("v-{}", rand_hex())
}

pub(crate) fn rand_hex() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", t, n)
}
