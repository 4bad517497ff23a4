//! A loopback HTTP/1.1 + h2c server for an emulator.
//!
//! The listener binds loopback only (port 0 by default) and the returned
//! [`ServerHandle`] stops it when dropped, so a test that panics leaves nothing
//! listening. A service can answer [`Abort`] to drop a connection without a
//! response, and the handle can stop listening (connections refused) and
//! resume on the same port, which is how emulators show an outage.

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub type ResponseBody = BoxBody<Bytes, std::io::Error>;

pub fn full_body(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// Answer from a service meaning "close the connection without a response".
#[derive(Debug, thiserror::Error)]
#[error("connection aborted by the emulator")]
pub struct Abort;

pub trait HttpService: Send + Sync + 'static {
    fn call(
        &self,
        req: Request<Incoming>,
    ) -> impl Future<Output = Result<Response<ResponseBody>, Abort>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("emulators listen on loopback only; {0} is not a loopback address")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running server. Dropping it stops the server and every open connection.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    cancel: CancellationToken,
    listening: watch::Sender<bool>,
    tasks: TaskTracker,
    https: bool,
}

impl ServerHandle {
    /// Serves `service` on 127.0.0.1 with an ephemeral port.
    pub async fn start<S: HttpService>(service: Arc<S>) -> Result<Self, ServerError> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), service).await
    }

    pub async fn start_on<S: HttpService>(
        addr: SocketAddr,
        service: Arc<S>,
    ) -> Result<Self, ServerError> {
        Self::start_with(addr, service, None).await
    }

    /// Serves HTTPS with `tls` (its ALPN decides between HTTP/2 and HTTP/1.1).
    pub async fn start_tls<S: HttpService>(
        addr: SocketAddr,
        service: Arc<S>,
        tls: Arc<rustls::ServerConfig>,
    ) -> Result<Self, ServerError> {
        Self::start_with(addr, service, Some(tokio_rustls::TlsAcceptor::from(tls))).await
    }

    async fn start_with<S: HttpService>(
        addr: SocketAddr,
        service: Arc<S>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Result<Self, ServerError> {
        if !addr.ip().is_loopback() {
            return Err(ServerError::NotLoopback(addr));
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let cancel = CancellationToken::new();
        let (listening, listening_rx) = watch::channel(true);
        let tasks = TaskTracker::new();
        let https = tls.is_some();
        tasks.spawn(accept_loop(
            listener,
            addr,
            service,
            tls,
            cancel.clone(),
            listening_rx,
            tasks.clone(),
        ));
        Ok(Self {
            addr,
            cancel,
            listening,
            tasks,
            https,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Closes the listening socket and every open connection: new connections
    /// are refused until [`ServerHandle::resume_listening`].
    pub fn stop_listening(&self) {
        self.listening.send_replace(false);
    }

    pub fn resume_listening(&self) {
        self.listening.send_replace(true);
    }

    pub fn is_listening(&self) -> bool {
        *self.listening.borrow()
    }

    /// Stops the server and waits until every connection task has ended.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.tasks.close();
    }
}

#[allow(clippy::too_many_arguments)]
async fn accept_loop<S: HttpService>(
    listener: TcpListener,
    addr: SocketAddr,
    service: Arc<S>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    cancel: CancellationToken,
    mut listening: watch::Receiver<bool>,
    tasks: TaskTracker,
) {
    let mut listener = Some(listener);
    // Cancelled when listening stops, so open keep-alive connections end too.
    let mut generation = cancel.child_token();
    loop {
        let Some(active) = listener.as_ref() else {
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = listening.changed() => {
                    if changed.is_err() { return; }
                    if *listening.borrow_and_update() {
                        match TcpListener::bind(addr).await {
                            Ok(l) => listener = Some(l),
                            Err(error) => {
                                tracing::error!(%addr, %error, "cannot listen again on the same address");
                                return;
                            }
                        }
                    }
                }
            }
            continue;
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = listening.changed() => {
                if changed.is_err() { return; }
                if !*listening.borrow_and_update() {
                    listener = None;
                    generation.cancel();
                    generation = cancel.child_token();
                }
            }
            accepted = active.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let service = service.clone();
                let stop = generation.clone();
                let tls = tls.clone();
                tasks.spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let service = service.clone();
                        async move { service.call(req).await }
                    });
                    let builder = auto::Builder::new(TokioExecutor::new());
                    let served = async {
                        let result = match tls {
                            None => builder.serve_connection(TokioIo::new(stream), svc).await,
                            Some(acceptor) => match acceptor.accept(stream).await {
                                Ok(tls_stream) => builder.serve_connection(TokioIo::new(tls_stream), svc).await,
                                Err(error) => {
                                    tracing::debug!(%error, "TLS handshake failed");
                                    return;
                                }
                            },
                        };
                        if let Err(error) = result {
                            tracing::trace!(%error, "connection ended with an error");
                        }
                    };
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = served => {}
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    struct Hello;
    impl HttpService for Hello {
        async fn call(&self, req: Request<Incoming>) -> Result<Response<ResponseBody>, Abort> {
            if req.uri().path() == "/abort" {
                return Err(Abort);
            }
            Ok(Response::new(full_body("hello")))
        }
    }

    async fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(addr).await?;
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
            )
            .await?;
        let mut out = String::new();
        stream.read_to_string(&mut out).await?;
        Ok(out)
    }

    #[tokio::test]
    async fn serves_on_loopback_and_stops_on_drop() {
        let server = ServerHandle::start(Arc::new(Hello)).await.unwrap();
        let addr = server.local_addr();
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
        assert!(get(addr, "/").await.unwrap().ends_with("hello"));
        drop(server);
        let refused = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                if TcpStream::connect(addr).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
        });
        refused
            .await
            .expect("server still accepting 5s after its handle was dropped");
    }

    #[tokio::test]
    async fn abort_closes_without_a_response() {
        let server = ServerHandle::start(Arc::new(Hello)).await.unwrap();
        let answer = get(server.local_addr(), "/abort").await.unwrap_or_default();
        assert!(!answer.contains("200"), "got a response: {answer}");
    }

    #[tokio::test]
    async fn refuses_while_not_listening_and_resumes_on_same_port() {
        let server = ServerHandle::start(Arc::new(Hello)).await.unwrap();
        let addr = server.local_addr();
        server.stop_listening();
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while TcpStream::connect(addr).await.is_ok() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("still accepting 5s after stop_listening");
        server.resume_listening();
        let body = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                if let Ok(body) = get(addr, "/").await {
                    return body;
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("not answering 5s after resume_listening");
        assert!(body.ends_with("hello"));
    }

    #[tokio::test]
    async fn refuses_non_loopback_addresses() {
        let err = ServerHandle::start_on("0.0.0.0:0".parse().unwrap(), Arc::new(Hello))
            .await
            .unwrap_err();
        assert!(matches!(err, ServerError::NotLoopback(_)));
    }
}
