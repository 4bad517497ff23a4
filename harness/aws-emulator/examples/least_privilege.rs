//! The emulator with IAM enforced, used through the real AWS SDK: a user
//! whose policy allows only the secrets under `app/` creates and reads one,
//! is refused another, and the audit trail shows both.
//!
//!     cargo run -p aws-emulator --example least_privilege
//!
//! It prints lengths and error codes, never a secret value.

use aws_credential_types::Credentials;
use aws_emulator::{AwsEmulator, PolicyDocument};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;

const REGION: &str = "us-east-1";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // SigV4 and IAM are enforced by default; it listens on 127.0.0.1 with
    // an ephemeral port.
    let emulator = AwsEmulator::builder().start().await?;
    println!("emulator at {}", emulator.endpoint());

    // A user with one inline policy: create and read secrets under app/.
    let policy = PolicyDocument::parse(&format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{
            "Effect": "Allow",
            "Action": ["secretsmanager:CreateSecret", "secretsmanager:GetSecretValue"],
            "Resource": "arn:aws:secretsmanager:{REGION}:{}:secret:app/*"
        }}]}}"#,
        emulator.account_id()
    ))?;
    let key = emulator.with_iam(|iam| -> anyhow::Result<_> {
        iam.create_user("app")?;
        iam.put_user_policy("app", "app-secrets", policy)?;
        Ok(iam.create_access_key("app")?)
    })?;

    // The SDK signs with the user's key and talks to the emulator.
    let credentials = Credentials::new(
        &key.access_key_id,
        &key.secret_access_key,
        None,
        None,
        "example",
    );
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(emulator.endpoint())
        .credentials_provider(credentials)
        .build();
    let client = aws_sdk_secretsmanager::Client::from_conf(config);

    // Allowed: create a secret under app/ and read it back.
    client
        .create_secret()
        .name("app/database")
        .secret_string(r#"{"username":"app","password":"example-only"}"#)
        .send()
        .await?;
    let read = client
        .get_secret_value()
        .secret_id("app/database")
        .send()
        .await?;
    let length = read.secret_string().map_or(0, str::len);
    println!("read app/database: a value of {length} bytes");

    // Refused: a secret outside app/ (whether it exists or not).
    match client
        .get_secret_value()
        .secret_id("billing/api-key")
        .send()
        .await
    {
        Ok(_) => anyhow::bail!("the policy should have refused billing/api-key"),
        Err(e) => println!(
            "read billing/api-key: {}",
            e.code().unwrap_or("(no error code)")
        ),
    }

    // The audit trail: who called what on which secret, and how it ended.
    for event in emulator.audit_events() {
        println!(
            "audit: {} by {} on {} -> {}",
            event.event_name,
            event.principal_arn.as_deref().unwrap_or("(anonymous)"),
            event.resources.join(", "),
            event.error_code.as_deref().unwrap_or("ok"),
        );
    }

    // Stops the server and waits for its connections to close.
    emulator.shutdown().await;
    Ok(())
}
