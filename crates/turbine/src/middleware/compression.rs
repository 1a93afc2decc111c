//! Response compression that costs nothing for clients that do not ask for it.
//!
//! tower-http's compression service wraps every response body in a type large enough to hold a
//! brotli encoder, and every layer above then moves that value. This wrapper sends only requests
//! with an `Accept-Encoding` through it (boxing the compressed body once) and passes the rest by;
//! the compression service is built per compressed request, so the plain path clones nothing extra.

use std::convert::Infallible;
use std::task::{Context as TaskContext, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use futures_util::future::{Either, FutureExt, Map};
use http::header::ACCEPT_ENCODING;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::DefaultPredicate;
use tower_layer::Layer;
use tower_service::Service;

/// Layer of [`MaybeCompress`].
#[derive(Debug, Clone)]
pub(crate) struct MaybeCompressLayer {
    enabled: bool,
}

impl MaybeCompressLayer {
    pub(crate) fn new(enabled: bool) -> Self {
        Self { enabled }
    }
}

impl<S> Layer<S> for MaybeCompressLayer {
    type Service = MaybeCompress<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MaybeCompress {
            inner,
            enabled: self.enabled,
        }
    }
}

/// Compresses responses for requests that accept an encoding.
#[derive(Clone)]
pub(crate) struct MaybeCompress<S> {
    inner: S,
    enabled: bool,
}

type CompressedBody = tower_http::compression::CompressionBody<Body>;

fn boxed(r: Result<http::Response<CompressedBody>, Infallible>) -> Result<Response, Infallible> {
    r.map(|res| res.map(Body::new))
}

impl<S> Service<Request> for MaybeCompress<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    #[allow(clippy::type_complexity)]
    type Future = Either<
        Map<
            tower_http::compression::ResponseFuture<S::Future, DefaultPredicate>,
            fn(Result<http::Response<CompressedBody>, Infallible>) -> Result<Response, Infallible>,
        >,
        S::Future,
    >;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if self.enabled && wants_encoding(&req) {
            // `inner` was polled ready; the clone takes its place, as tower's `oneshot` would.
            let inner = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, inner);
            let mut compress = CompressionLayer::new()
                .compress_when(DefaultPredicate::new())
                .layer(inner);
            Either::Left(compress.call(req).map(boxed as _))
        } else {
            Either::Right(self.inner.call(req))
        }
    }
}

impl<S> std::fmt::Debug for MaybeCompress<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaybeCompress")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// `true` when the client accepts an encoding and does not refuse an uncompressed answer.
///
/// tower-http answers 406 *after* the handler ran when identity is refused (`identity;q=0`,
/// `*;q=0`), turning a completed request into an error; such clients get identity instead, which
/// RFC 9110 allows.
fn wants_encoding(req: &Request) -> bool {
    let mut any = false;
    for value in req.headers().get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        for item in value.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            if refused && (coding == "*" || coding.eq_ignore_ascii_case("identity")) {
                return false;
            }
            any |= !coding.is_empty();
        }
    }
    any
}
