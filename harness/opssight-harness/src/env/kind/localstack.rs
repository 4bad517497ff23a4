//! The LocalStack container: a definition (data), the `docker run` that
//! starts it, and the wait for its Secrets Manager.

use std::time::Duration;

use anyhow::Context as _;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// LocalStack's community image, pinned by digest (`pins::LOCALSTACK`).
pub const DEFAULT_IMAGE: &str = super::pins::LOCALSTACK;
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
    /// The container's port.
    pub port: u16,
    /// Where it is published on 127.0.0.1: chosen before `docker run`, so
    /// that reconnecting the container to its network (after an outage)
    /// publishes it at the same port again.
    pub host_port: u16,
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
    pub fn localstack(image: &str, run_id: &str, host_port: u16) -> Self {
        Self {
            image: image.to_owned(),
            name: format!("opssight-harness-localstack-{run_id}"),
            network: "kind".into(),
            labels: vec![(super::names::DOCKER_LABEL.into(), run_id.into())],
            env: vec![
                ("SERVICES".into(), "secretsmanager,sts".into()),
                ("EAGER_SERVICE_LOADING".into(), "1".into()),
            ],
            env_passthrough: vec!["LOCALSTACK_AUTH_TOKEN".into()],
            port: PORT,
            host_port,
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
        args.extend([
            "-p".into(),
            format!("127.0.0.1:{}:{}", self.host_port, self.port),
        ]);
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

/// A port free on 127.0.0.1 now, from the kernel's ephemeral range, for
/// Docker to publish on.
pub fn free_host_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
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

/// One secret's current value, kept in memory while LocalStack is stopped.
/// Debug shows its name and length only.
#[derive(Clone)]
pub struct SavedSecret {
    pub name: String,
    pub value: SavedValue,
}

#[derive(Clone)]
pub enum SavedValue {
    String(String),
    Binary(Vec<u8>),
}

impl std::fmt::Debug for SavedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = match &self.value {
            SavedValue::String(s) => s.len(),
            SavedValue::Binary(b) => b.len(),
        };
        write!(f, "{} ({len} bytes)", self.name)
    }
}

/// Every secret's current value (those scheduled for deletion have none
/// to read and are left out).
pub async fn save_secrets(sm: &aws_sdk_secretsmanager::Client) -> anyhow::Result<Vec<SavedSecret>> {
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = sm
            .list_secrets()
            .set_next_token(token)
            .send()
            .await
            .context("listing LocalStack's secrets before stopping it")?;
        names.extend(
            page.secret_list()
                .iter()
                .filter(|s| s.deleted_date().is_none())
                .filter_map(|s| s.name().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let mut saved = Vec::new();
    for name in names {
        let got = sm
            .get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .with_context(|| format!("reading {name} before stopping LocalStack"))?;
        let value = match (got.secret_string(), got.secret_binary()) {
            (Some(s), _) => SavedValue::String(s.to_owned()),
            (None, Some(b)) => SavedValue::Binary(b.as_ref().to_vec()),
            (None, None) => continue,
        };
        saved.push(SavedSecret { name, value });
    }
    Ok(saved)
}

/// Puts each saved value back: a new version where the secret survived
/// the restart, the secret created where it did not.
pub async fn restore_secrets(
    sm: &aws_sdk_secretsmanager::Client,
    saved: &[SavedSecret],
) -> anyhow::Result<()> {
    use aws_sdk_secretsmanager::primitives::Blob;
    for s in saved {
        let put = sm.put_secret_value().secret_id(&s.name);
        let put = match &s.value {
            SavedValue::String(v) => put.secret_string(v),
            SavedValue::Binary(b) => put.secret_binary(Blob::new(b.clone())),
        };
        match put.send().await {
            Ok(_) => continue,
            Err(e) if e.code() == Some("ResourceNotFoundException") => {}
            Err(e) => {
                return Err(e).with_context(|| format!("putting {} back in LocalStack", s.name));
            }
        }
        let create = sm.create_secret().name(&s.name);
        let create = match &s.value {
            SavedValue::String(v) => create.secret_string(v),
            SavedValue::Binary(b) => create.secret_binary(Blob::new(b.clone())),
        };
        create
            .send()
            .await
            .with_context(|| format!("creating {} again in LocalStack", s.name))?;
    }
    Ok(())
}
