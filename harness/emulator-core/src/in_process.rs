//! Requests to an emulator from the process it runs in, without a
//! connection: the service answers them exactly as it answers a request read
//! from a socket (its authentication, faults and routing all apply), and the
//! TLS handshake, encryption and HTTP framing are left out. A client in the
//! same process (a controller emulator, a test's own client) spends most of
//! its CPU on those otherwise; clients in other processes still connect.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response};

use crate::server::{BoxError, HttpService, ResponseBody, request_body};

/// A [`tower_service::Service`] sending each request to `S` in this process.
/// Cheap to clone; it keeps the service alive, not its server.
pub struct InProcess<S>(Arc<S>);

impl<S> InProcess<S> {
    /// Requests to `service`.
    pub fn new(service: Arc<S>) -> Self {
        Self(service)
    }
}

impl<S> Clone for InProcess<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S, B> tower_service::Service<Request<B>> for InProcess<S>
where
    S: HttpService,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    /// [`Abort`](crate::Abort) (a connection the service would have closed without a
    /// response), boxed as clients' middleware (kube's) expects errors.
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<ResponseBody>, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // No connection to wait for: the service takes requests concurrently.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let service = self.0.clone();
        Box::pin(async move {
            service
                .call(req.map(request_body))
                .await
                .map_err(BoxError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{Abort, full_body};
    use http_body_util::{BodyExt, Full};
    use tower_service::Service as _;

    /// Echoes the request body, or aborts on /abort.
    struct Echo;
    impl HttpService for Echo {
        async fn call(
            &self,
            req: Request<crate::RequestBody>,
        ) -> Result<Response<ResponseBody>, Abort> {
            if req.uri().path() == "/abort" {
                return Err(Abort);
            }
            let body = req
                .into_body()
                .collect()
                .await
                .map_err(|_| Abort)?
                .to_bytes();
            Ok(Response::new(full_body(body)))
        }
    }

    #[tokio::test]
    async fn a_request_reaches_the_service_and_its_answer_comes_back() {
        let mut client = InProcess::new(Arc::new(Echo));
        let resp = client
            .call(Request::new(Full::new(Bytes::from_static(b"ping"))))
            .await
            .unwrap();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"ping");
    }

    #[tokio::test]
    async fn an_abort_is_an_error_as_a_closed_connection_is() {
        let mut client = InProcess::new(Arc::new(Echo));
        let req = Request::builder()
            .uri("/abort")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let e = client.call(req).await.unwrap_err();
        assert!(e.is::<Abort>(), "{e}");
    }
}
