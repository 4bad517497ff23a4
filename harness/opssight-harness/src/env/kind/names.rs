//! What a kind run names and labels what it makes by, so that `down --all`
//! finds leftovers.

pub const CLUSTER_PREFIX: &str = "opssight-harness-";
/// Label of every Kubernetes object the harness creates.
pub const RUN_LABEL: &str = "opssight-harness/run-id";
/// Label of every container the harness starts.
pub const DOCKER_LABEL: &str = "opssight-harness.run-id";
/// What LocalStack accepts (it checks no credentials).
pub const LOCALSTACK_KEY: (&str, &str) = ("test", "test");
