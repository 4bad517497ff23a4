//! ESO's Helm install: the chart, its pinned version and the values.

use std::path::Path;

pub const REPO_NAME: &str = "external-secrets";
pub const REPO_URL: &str = "https://charts.external-secrets.io";
pub const CHART: &str = "external-secrets/external-secrets";
pub const VERSION: &str = "2.9.0";
pub const RELEASE: &str = "external-secrets";

/// Values of the release: the custom endpoints that point ESO's AWS
/// provider at LocalStack (there is no spec field for them), and the run id
/// on its pods.
pub fn values(localstack_url: &str, run_id: &str) -> serde_json::Value {
    serde_json::json!({
        "installCRDs": true,
        "concurrent": 1,
        "extraEnv": [
            { "name": "AWS_SECRETSMANAGER_ENDPOINT", "value": localstack_url },
            { "name": "AWS_STS_ENDPOINT", "value": localstack_url },
        ],
        "podLabels": { super::names::RUN_LABEL: run_id },
    })
}

pub fn repo_add_args() -> Vec<String> {
    ["repo", "add", REPO_NAME, REPO_URL, "--force-update"]
        .map(String::from)
        .to_vec()
}

pub fn upgrade_args(values_file: &Path, kubeconfig: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "upgrade",
        "--install",
        RELEASE,
        CHART,
        "--version",
        VERSION,
        "--namespace",
        crate::system::ESO_NAMESPACE,
        "--create-namespace",
        "--set",
        "installCRDs=true",
        "--values",
    ]
    .map(String::from)
    .to_vec();
    args.push(values_file.display().to_string());
    // Every deployment Ready before anything is applied: ESO's webhooks
    // fail closed.
    args.extend(["--wait", "--timeout", "5m", "--kubeconfig"].map(String::from));
    args.push(kubeconfig.display().to_string());
    args
}
