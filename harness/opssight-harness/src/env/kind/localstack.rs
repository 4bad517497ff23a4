//! The LocalStack container: a definition (data), the `docker run` that
//! starts it, and the wait for its Secrets Manager.

use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A community tag that starts without an auth token (`latest` no longer
/// does since March 2026).
pub const DEFAULT_IMAGE: &str = "localstack/localstack:4.12";
pub const PORT: u16 = 4566;

/// What the container is; starting it is `docker_run_args`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    pub image: String,
    pub name: String,
    /// kind's Docker network: ESO reaches LocalStack by container name.
    pub network: String,
    pub labels: Vec<(String, String)>,
    /// Set values.
    pub env: Vec<(String, String)>,
    /// Passed through from the harness's own environment when set, by name
    /// only, so the value never appears on a command line or in a log.
    pub env_passthrough: Vec<String>,
    /// Published on 127.0.0.1 at a port Docker chooses.
    pub port: u16,
    /// The health path and the service that must be ready there.
    pub ready_when: ReadyWhen,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyWhen {
    pub path: String,
    pub service: String,
    pub states: Vec<String>,
}

impl ContainerSpec {
    pub fn localstack(image: &str, run_id: &str) -> Self {
        Self {
            image: image.to_owned(),
            name: format!("opssight-harness-localstack-{run_id}"),
            network: "kind".into(),
            labels: vec![(super::DOCKER_LABEL.into(), run_id.into())],
            env: vec![
                ("SERVICES".into(), "secretsmanager,sts".into()),
                ("EAGER_SERVICE_LOADING".into(), "1".into()),
            ],
            env_passthrough: vec!["LOCALSTACK_AUTH_TOKEN".into()],
            port: PORT,
            ready_when: ReadyWhen {
                path: "/_localstack/health".into(),
                service: "secretsmanager".into(),
                states: vec!["available".into(), "running".into()],
            },
        }
    }

    /// `docker run` arguments; `present` says which passthrough variables
    /// are set (only those are passed).
    pub fn docker_run_args(&self, present: impl Fn(&str) -> bool) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "run".into(),
            "-d".into(),
            "--name".into(),
            self.name.clone(),
            "--network".into(),
            self.network.clone(),
        ];
        for (k, v) in &self.labels {
            args.extend(["--label".into(), format!("{k}={v}")]);
        }
        args.extend(["-p".into(), format!("127.0.0.1::{}", self.port)]);
        for (k, v) in &self.env {
            args.extend(["-e".into(), format!("{k}={v}")]);
        }
        for k in self.env_passthrough.iter().filter(|k| present(k)) {
            args.extend(["-e".into(), k.clone()]);
        }
        args.push(self.image.clone());
        args
    }

    /// The URL ESO uses from inside the cluster.
    pub fn in_network_url(&self) -> String {
        format!("http://{}:{}", self.name, self.port)
    }
}

/// `docker port` prints `127.0.0.1:49153` (and maybe an IPv6 line).
pub fn parse_port_output(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("127.0.0.1:"))
        .map(|l| format!("http://{l}"))
}

/// One GET over plain HTTP/1.0 (all a health endpoint needs).
async fn get(url: &str, path: &str) -> anyhow::Result<String> {
    let host = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("no HTTP response")?;
    anyhow::ensure!(
        head.starts_with("HTTP/1.") && head.split(' ').nth(1) == Some("200"),
        "{}",
        head.lines().next().unwrap_or_default()
    );
    Ok(body.to_owned())
}

/// Waits until the health endpoint reports the service ready.
pub async fn wait_ready(spec: &ContainerSpec, url: &str, timeout: Duration) -> anyhow::Result<()> {
    let ready = &spec.ready_when;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last;
        match get(url, &ready.path).await {
            Ok(body) => {
                let state = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["services"][&ready.service].as_str().map(str::to_owned));
                match state {
                    Some(s) if ready.states.contains(&s) => return Ok(()),
                    Some(s) => last = format!("{} is {s}", ready.service),
                    None => last = format!("{} not listed", ready.service),
                }
            }
            Err(e) => last = e.to_string(),
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "timed out after {timeout:?} waiting for {}{} to report {} {} (last: {last})",
                url,
                ready.path,
                ready.service,
                ready.states.join(" or ")
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
