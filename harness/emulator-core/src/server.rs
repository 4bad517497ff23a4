//! A loopback HTTP/1.1 + h2c server for an emulator.
//!
//! The listener binds loopback only (port 0 by default) and the returned
//! [`ServerHandle`] stops it when dropped, so a test that panics leaves nothing
//! listening. A service can answer [`Abort`] to drop a connection without a
//! response, and the handle can stop listening (connections refused) and
//! resume on the same port, which is how emulators show an outage.
//!
//! Slow and exhausted clients cannot hold it: a connection must finish its
//! TLS handshake and its first request head within [`Limits`], later HTTP/1
//! heads within the header timeout too, and when the process runs out of
//! file descriptors the accept loop backs off instead of spinning.

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, combinators::BoxBody, combinators::UnsyncBoxBody};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The body of every response a service gives: boxed, so that one service
/// can answer with a whole buffer or with a stream (a watch, a log).
pub type ResponseBody = BoxBody<Bytes, std::io::Error>;

/// A response body of these bytes, all at once.
pub fn full_body(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// An error a body may give, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every request a service is given: boxed, so that one service
/// answers requests read from a connection and requests sent from this
/// process ([`crate::InProcess`]) alike. Its error is an `io::Error` (a
/// concrete type, as a response body's is): a boxed `dyn Error` there
/// makes a service's `async fn` fail the `Send` bound on its future.
pub type RequestBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// Any body of bytes, as a [`RequestBody`].
pub fn request_body<B>(body: B) -> RequestBody
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(|e| std::io::Error::other(e.into()))
        .boxed_unsync()
}

/// Answer from a service meaning "close the connection without a response".
#[derive(Debug, thiserror::Error)]
#[error("connection aborted by the emulator")]
pub struct Abort;

/// What an emulator serves: one request in, one response (or [`Abort`])
/// out. Called concurrently, one task a connection.
pub trait HttpService: Send + Sync + 'static {
    /// Answers one request.
    fn call(
        &self,
        req: Request<RequestBody>,
    ) -> impl Future<Output = Result<Response<ResponseBody>, Abort>> + Send;
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Emulators are for this machine's tests only: they refuse any other
    /// address than a loopback one.
    #[error("emulators listen on loopback only; {0} is not a loopback address")]
    NotLoopback(SocketAddr),
    /// The socket could not be bound (the port is taken, say).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// How long a client may take before the server closes its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From accepting (or from the end of the TLS handshake) to the first
    /// request's complete head; then, on HTTP/1, from the end of one
    /// response to the next complete head (so an idle keep-alive connection
    /// closes after it too).
    pub header_read: Duration,
    /// From accepting to the end of the TLS handshake (HTTPS only).
    pub tls_handshake: Duration,
}

impl Default for Limits {
    /// hyper's own header read timeout (30 s), and the 10 s handshake
    /// deadline Go's HTTP stack uses.
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(30),
            tls_handshake: Duration::from_secs(10),
        }
    }
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

    /// Serves `service` on `addr` (a loopback address; port 0 for an
    /// ephemeral one), plain HTTP.
    pub async fn start_on<S: HttpService>(
        addr: SocketAddr,
        service: Arc<S>,
    ) -> Result<Self, ServerError> {
        Self::start_with(addr, service, None, Limits::default()).await
    }

    /// Serves HTTPS with `tls` (its ALPN decides between HTTP/2 and HTTP/1.1).
    pub async fn start_tls<S: HttpService>(
        addr: SocketAddr,
        service: Arc<S>,
        tls: Arc<rustls::ServerConfig>,
    ) -> Result<Self, ServerError> {
        Self::start_with(addr, service, Some(tls), Limits::default()).await
    }

    /// Serves plain HTTP (`tls: None`) or HTTPS with the given limits.
    pub async fn start_with<S: HttpService>(
        addr: SocketAddr,
        service: Arc<S>,
        tls: Option<Arc<rustls::ServerConfig>>,
        limits: Limits,
    ) -> Result<Self, ServerError> {
        let tls = tls.map(tokio_rustls::TlsAcceptor::from);
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
            limits,
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

    /// The address it listens on, with the port it was given.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or `https://` when it serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Closes the listening socket and every open connection: new connections
    /// are refused until [`ServerHandle::resume_listening`].
    pub fn stop_listening(&self) {
        self.listening.send_replace(false);
    }

    /// Listens again on the same port after [`ServerHandle::stop_listening`].
    pub fn resume_listening(&self) {
        self.listening.send_replace(true);
    }

    /// Whether connections are accepted (not stopped by
    /// [`ServerHandle::stop_listening`]).
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
    limits: Limits,
    cancel: CancellationToken,
    mut listening: watch::Receiver<bool>,
    tasks: TaskTracker,
) {
    let mut listener = Some(listener);
    // The pause after an accept error that will not clear by itself; it
    // doubles while the errors last and resets on the next accepted stream.
    let mut backoff: Option<Duration> = None;
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
                let stream = match accepted {
                    Ok((stream, _peer)) => {
                        backoff = None;
                        stream
                    }
                    Err(error) => {
                        if let Some(base) = accept_backoff(&error) {
                            let pause = backoff.map_or(base, |b| (b * 2).min(MAX_ACCEPT_BACKOFF));
                            if backoff.is_none() {
                                tracing::warn!(%addr, %error, "cannot accept connections; backing off until resources free up");
                            }
                            backoff = Some(pause);
                            tokio::select! {
                                _ = cancel.cancelled() => return,
                                _ = tokio::time::sleep(pause) => {}
                            }
                        }
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = service.clone();
                let stop = generation.clone();
                let tls = tls.clone();
                tasks.spawn(serve(stream, service, tls, limits, stop));
            }
        }
    }
}

/// The longest pause between accept attempts while resources are exhausted.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// How long to pause before accepting again after `error`, if at all. Out of
/// file descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM), the
/// listener stays readable and accept fails again at once until a connection
/// closes: retrying without a pause spins a core. Other errors (a client
/// that reset before being accepted) concern one connection only.
fn accept_backoff(error: &std::io::Error) -> Option<Duration> {
    match error.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
            Some(Duration::from_millis(50))
        }
        _ => None,
    }
}

/// Serves one connection until it ends, `stop` fires, or the client is too
/// slow: a TLS handshake past `limits.tls_handshake`, or no complete first
/// request head within `limits.header_read` (hyper's HTTP/1 header timeout
/// covers the later ones).
async fn serve<S: HttpService>(
    stream: tokio::net::TcpStream,
    service: Arc<S>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    stop: CancellationToken,
) {
    // Told at every request head; the deadline below waits for the first.
    let arrived = Arc::new(tokio::sync::Notify::new());
    let svc = {
        let arrived = arrived.clone();
        hyper::service::service_fn(move |req| {
            arrived.notify_one();
            let service = service.clone();
            async move { service.call(req.map(request_body)).await }
        })
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let handshake = if tls.is_some() {
        limits.tls_handshake
    } else {
        Duration::ZERO
    };
    let served = async {
        let result = match tls {
            None => builder.serve_connection(TokioIo::new(stream), svc).await,
            Some(acceptor) => {
                match tokio::time::timeout(limits.tls_handshake, acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => {
                        builder
                            .serve_connection(TokioIo::new(tls_stream), svc)
                            .await
                    }
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(timeout = ?limits.tls_handshake, "TLS handshake not finished in time; closing");
                        return;
                    }
                }
            }
        };
        if let Err(error) = result {
            tracing::trace!(%error, "connection ended with an error");
        }
    };
    // hyper's protocol detection (HTTP/1 or h2c) waits for the first bytes
    // without a deadline, and its header timeout starts only after it: a
    // client that connects and sends nothing would be served forever.
    let first_request = async {
        let deadline = handshake + limits.header_read;
        if tokio::time::timeout(deadline, arrived.notified())
            .await
            .is_err()
        {
            tracing::debug!(timeout = ?deadline, "no request head in time; closing");
            return;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = served => {}
        _ = first_request => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    struct Hello;
    impl HttpService for Hello {
        async fn call(&self, req: Request<RequestBody>) -> Result<Response<ResponseBody>, Abort> {
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

    /// Reads until the server closes the connection (EOF or reset), and
    /// fails naming what it waited for if that takes longer than `within`.
    async fn closed_by_server<R: tokio::io::AsyncRead + Unpin>(
        stream: &mut R,
        within: Duration,
        what: &str,
    ) {
        tokio::time::timeout(within, async {
            let mut buf = [0u8; 1024];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    // hyper may answer a timed-out head before closing.
                    Ok(_) => continue,
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{what}: not closed by the server after waiting {within:?}"));
    }

    const SHORT: Limits = Limits {
        header_read: Duration::from_millis(300),
        tls_handshake: Duration::from_millis(300),
    };

    #[tokio::test]
    async fn stalled_clients_neither_block_others_nor_stay_open() {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server = ServerHandle::start_with(loopback, Arc::new(Hello), None, SHORT)
            .await
            .unwrap();
        let addr = server.local_addr();
        // Twenty clients: some send nothing, some half a request line, some
        // a request line and a header but never the blank line.
        let mut stalled = Vec::new();
        for i in 0..20 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            match i % 3 {
                0 => {}
                1 => s.write_all(b"GET / HT").await.unwrap(),
                _ => s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n").await.unwrap(),
            }
            stalled.push(s);
        }
        let answer = tokio::time::timeout(Duration::from_secs(5), get(addr, "/"))
            .await
            .expect("a normal request was not answered within 5s beside 20 stalled clients")
            .unwrap();
        assert!(answer.ends_with("hello"), "{answer}");
        for (i, s) in stalled.iter_mut().enumerate() {
            closed_by_server(
                s,
                Duration::from_secs(10),
                &format!("stalled connection {i} (header timeout 300ms)"),
            )
            .await;
        }
        // And an idle keep-alive connection after its response.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        closed_by_server(
            &mut idle,
            Duration::from_secs(10),
            "an idle keep-alive connection",
        )
        .await;
    }

    fn tls_config() -> Arc<rustls::ServerConfig> {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()),
        );
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert.cert.der().clone()], key)
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn stalled_tls_handshakes_are_closed() {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server = ServerHandle::start_with(loopback, Arc::new(Hello), Some(tls_config()), SHORT)
            .await
            .unwrap();
        let addr = server.local_addr();
        let mut stalled = Vec::new();
        for i in 0..10 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            if i % 2 == 1 {
                // A TLS record header announcing a ClientHello that never comes.
                s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await.unwrap();
            }
            stalled.push(s);
        }
        for (i, s) in stalled.iter_mut().enumerate() {
            closed_by_server(
                s,
                Duration::from_secs(10),
                &format!("stalled TLS handshake {i} (handshake timeout 300ms)"),
            )
            .await;
        }
    }

    #[test]
    fn exhausted_descriptors_back_off_other_accept_errors_do_not() {
        let os = std::io::Error::from_raw_os_error;
        assert!(accept_backoff(&os(libc::EMFILE)).is_some());
        assert!(accept_backoff(&os(libc::ENFILE)).is_some());
        assert!(accept_backoff(&os(libc::ENOBUFS)).is_some());
        assert_eq!(accept_backoff(&os(libc::ECONNABORTED)), None);
    }

    #[tokio::test]
    async fn refuses_non_loopback_addresses() {
        let err = ServerHandle::start_on("0.0.0.0:0".parse().unwrap(), Arc::new(Hello))
            .await
            .unwrap_err();
        assert!(matches!(err, ServerError::NotLoopback(_)));
    }
}
