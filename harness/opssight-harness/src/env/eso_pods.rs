//! ESO's controller deployment's Pods on the embedded stack: the
//! kube-emulator runs them through this, so the eso-emulator runs in this
//! process while one of them does. Scaling `external-secrets` to 0 (the
//! harness's "controller down", or `kubectl scale` by hand) stops it;
//! scaling back starts a new one; `kubectl logs deployment/external-secrets`
//! reads its log.

use std::collections::BTreeSet;
use std::sync::Mutex;

use eso_emulator::EsoController;
use futures::future::BoxFuture;
use kube_emulator::{PodLog, PodRef, PodRunner};

#[derive(Default)]
struct Running {
    controller: Option<EsoController>,
    pods: BTreeSet<String>,
}

pub struct EsoPods {
    kube: kube::Client,
    config: eso_emulator::Config,
    running: Mutex<Running>,
}

impl EsoPods {
    pub fn new(kube: kube::Client, config: eso_emulator::Config) -> Self {
        Self {
            kube,
            config,
            running: Mutex::new(Running::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_running(&self) -> bool {
        self.lock().controller.is_some()
    }

    /// What the running controller is doing, if one runs.
    pub fn schedule(&self) -> Option<eso_emulator::Schedule> {
        self.lock().controller.as_ref().map(EsoController::schedule)
    }

    pub fn recent_log(&self) -> Vec<String> {
        self.lock()
            .controller
            .as_ref()
            .map(EsoController::recent_log)
            .unwrap_or_default()
    }

    /// Stops the controller whatever its Pods say (the stack is going).
    pub fn kill(&self) {
        let controller = self.lock().controller.take();
        drop(controller);
    }
}

impl PodRunner for EsoPods {
    fn start(&self, pod: &PodRef) -> BoxFuture<'static, Result<(), String>> {
        let mut running = self.lock();
        running.pods.insert(pod.name.clone());
        // One controller however many replicas: ESO elects one leader.
        if running.controller.is_none() {
            running.controller = Some(EsoController::start(self.kube.clone(), self.config.clone()));
        }
        Box::pin(async { Ok(()) })
    }

    fn stop(&self, pod: &PodRef) -> BoxFuture<'static, ()> {
        let controller = {
            let mut running = self.lock();
            running.pods.remove(&pod.name);
            if running.pods.is_empty() {
                running.controller.take()
            } else {
                None
            }
        };
        Box::pin(async move {
            if let Some(c) = controller {
                c.shutdown().await;
            }
        })
    }

    fn log(&self, _pod: &PodRef) -> PodLog {
        let running = self.lock();
        match &running.controller {
            Some(c) => PodLog {
                lines: c.recent_log(),
                follow: Some(c.follow_log()),
            },
            None => PodLog {
                lines: Vec::new(),
                follow: None,
            },
        }
    }
}
