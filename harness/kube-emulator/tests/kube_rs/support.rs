use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use kube_emulator::{Clock, KubeEmulator};

pub(crate) struct Env {
    pub emulator: KubeEmulator,
    pub client: Client,
}

pub(crate) async fn client_for(emulator: &KubeEmulator) -> Client {
    Client::try_from(config_for(emulator).await).unwrap()
}

pub(crate) async fn config_for(emulator: &KubeEmulator) -> Config {
    let kubeconfig = Kubeconfig::from_yaml(&emulator.kubeconfig(None)).unwrap();
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap()
}

pub(crate) async fn start() -> Env {
    start_with(KubeEmulator::builder()).await
}

pub(crate) async fn start_with(builder: kube_emulator::Builder) -> Env {
    let emulator = builder.start().await.unwrap();
    let client = client_for(&emulator).await;
    Env { emulator, client }
}

pub(crate) async fn start_frozen(at: &str) -> (Env, Clock) {
    let clock = Clock::frozen_at(at.parse().unwrap());
    (
        start_with(KubeEmulator::builder().clock(clock.clone())).await,
        clock,
    )
}

pub(crate) async fn namespace(client: &Client, name: &str) {
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({ "metadata": { "name": name } })).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
}

/// The API status code of a failed call.
pub(crate) fn status_of<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> kube::core::Status {
    match r {
        Err(kube::Error::Api(s)) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub(crate) fn http(emulator: &KubeEmulator) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(emulator.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap()
}

/// The server of the tests that use only the API: a fresh emulator, or
/// the real API server `KUBE_RS_TESTS_KUBECONFIG` names
/// (scripts/kube-rs-tests-against-real-apiserver.sh runs them there).
pub(crate) struct Target {
    pub client: Client,
    _emulator: Option<KubeEmulator>,
    prefix: String,
}

impl Target {
    /// A namespace of this test's own: the name as written on an emulator
    /// of its own, made unique on a shared real server.
    pub(crate) fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

pub(crate) async fn start_api() -> Target {
    match std::env::var_os("KUBE_RS_TESTS_KUBECONFIG") {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(&path).unwrap();
            let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .unwrap();
            let id = emulator_core::ids::uuid_v4();
            Target {
                client: Client::try_from(config).unwrap(),
                _emulator: None,
                prefix: format!("t{}-", &id[..8]),
            }
        }
        None => {
            let env = start().await;
            Target {
                client: env.client,
                _emulator: Some(env.emulator),
                prefix: String::new(),
            }
        }
    }
}

/// Waits until the object `name` (with this uid, else the one there now)
/// is deleted, failing the test after `within`.
pub(crate) async fn gone_within<K>(
    api: &Api<K>,
    name: &str,
    uid: Option<&str>,
    within: std::time::Duration,
) where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    use kube::runtime::wait::{await_condition, conditions};
    let uid = match uid {
        Some(u) => u.to_owned(),
        None => match api.get_opt(name).await.unwrap() {
            Some(o) => o.meta().uid.clone().unwrap_or_default(),
            None => return,
        },
    };
    tokio::time::timeout(
        within,
        await_condition(api.clone(), name, conditions::is_deleted(&uid)),
    )
    .await
    .unwrap_or_else(|_| panic!("{name} still there {within:?} later"))
    .unwrap();
}
