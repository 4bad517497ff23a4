//! The examples, run as tests so that they keep doing what they say.

#[path = "../examples/sync_one_secret.rs"]
mod sync_one_secret;

/// It fails when no target Secret with data appears within its timeout.
#[test]
fn sync_one_secret_writes_the_target_secret() -> anyhow::Result<()> {
    sync_one_secret::main()
}
