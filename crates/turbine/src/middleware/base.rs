//! The outermost layer of the default stack, one service for the per-request work every response
//! needs: the request id, the request's `tracing` span, the `Host` check, the declared body size
//! check, the request timeout, catching panics, metrics, the `Server` and security headers, and
//! turning bare error responses into RFC 9457 problems that carry the request id as `instance`.
//!
//! Doing these in one hand-written service (instead of one tower layer each) keeps the default
//! stack close to bare axum: every layer's future is moved and polled per request, and
//! tower-http's trace and body-limit layers wrap bodies in large types. See `bench/RESULTS.md`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use http::header::{
    CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, HOST, LAST_MODIFIED,
};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body::Body as _;
use http_body_util::BodyExt;
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Span;
use turbine_core::problem::{PROBLEM_JSON, Problem};

use super::request_id::{new_request_id, valid_request_id};
use crate::observability::RequestScope;
use crate::observability::metrics::{EndpointMetrics, InFlight, Metrics};
use turbine_core::client_ip::TrustedProxies;

/// Host names accepted in the `Host` header.
#[derive(Debug, Clone)]
pub(crate) enum HostPattern {
    Exact(String),
    /// `.example.com`: the domain and its subdomains.
    Domain(String),
}

impl HostPattern {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "" | "*" => None,
            _ => Some(match s.strip_prefix('.') {
                Some(domain) => HostPattern::Domain(domain.to_string()),
                None => HostPattern::Exact(s),
            }),
        }
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(h) => host.eq_ignore_ascii_case(h),
            HostPattern::Domain(d) => {
                host.eq_ignore_ascii_case(d)
                    || (host.len() > d.len()
                        && host.as_bytes()[host.len() - d.len() - 1] == b'.'
                        && host[host.len() - d.len()..].eq_ignore_ascii_case(d))
            }
        }
    }
}

/// What the base layer needs, built once from the config.
#[derive(Debug)]
pub(crate) struct BaseSettings {
    pub(crate) id_header: HeaderName,
    pub(crate) trusted: TrustedProxies,
    /// `None`: any host.
    pub(crate) allowed_hosts: Option<Vec<HostPattern>>,
    /// Headers added to every response that does not already have them.
    pub(crate) headers: HeaderMap,
    pub(crate) metrics: Option<Metrics>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) timeout_status: StatusCode,
    /// `0`: no limit.
    pub(crate) body_limit: u64,
    /// One `request` span per request.
    pub(crate) trace: bool,
}

/// Layer of [`BaseService`].
#[derive(Debug, Clone)]
pub(crate) struct BaseLayer(Arc<BaseSettings>);

impl BaseLayer {
    pub(crate) fn new(settings: BaseSettings) -> Self {
        Self(Arc::new(settings))
    }
}

impl<S> Layer<S> for BaseLayer {
    type Service = BaseService<S>;

    /// Called once per endpoint (route and method) by axum's `Router::layer`.
    fn layer(&self, inner: S) -> Self::Service {
        BaseService {
            inner,
            endpoint: self
                .0
                .metrics
                .clone()
                .map(|m| Arc::new(EndpointMetrics::new(m))),
            settings: self.0.clone(),
        }
    }
}

/// See the [module docs](self).
#[derive(Clone)]
pub(crate) struct BaseService<S> {
    inner: S,
    settings: Arc<BaseSettings>,
    endpoint: Option<Arc<EndpointMetrics>>,
}

impl<S> std::fmt::Debug for BaseService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaseService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The host name of an authority (`host:port`, `[v6]:port`, `user@host`).
fn host_name(authority: &str) -> &str {
    let raw = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    raw.split(':').next().unwrap_or(raw)
}

/// `true` when every host the request names (the `Host` header and, for absolute-form requests,
/// the URI's authority) is allowed, and it names at least one.
fn host_allowed(req: &Request, hosts: &[HostPattern]) -> bool {
    let allowed = |authority: &str| {
        let host = host_name(authority);
        hosts.iter().any(|p| p.matches(host))
    };
    let header = req.headers().get(HOST).map(|h| h.to_str().ok());
    let uri = req.uri().authority().map(|a| a.as_str());
    match (header, uri) {
        (None, None) | (Some(None), _) => false,
        (Some(Some(h)), Some(u)) => allowed(h) && allowed(u),
        (Some(Some(h)), None) => allowed(h),
        (None, Some(u)) => allowed(u),
    }
}

impl<S, B> Service<Request> for BaseService<S>
where
    S: Service<Request, Response = http::Response<B>, Error = Infallible>,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BaseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let start = Instant::now();
        let s = &self.settings;
        let trusted = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|c| s.trusted.contains(c.0.ip()));
        let id = match req.headers().get(&s.id_header) {
            Some(v) if trusted && valid_request_id(v) => v.clone(),
            _ => new_request_id(),
        };
        let span = if s.trace {
            tracing::info_span!(
                "request",
                id = id.to_str().unwrap_or_default(),
                method = req.method().as_str(),
                path = req.uri().path()
            )
        } else {
            Span::none()
        };
        // Handlers read it back with the `RequestId` extractor.
        req.headers_mut().insert(s.id_header.clone(), id.clone());
        let metrics = self.endpoint.as_ref().map(|m| {
            m.start(
                req.method(),
                req.extensions().get::<MatchedPath>().cloned(),
                start,
            )
        });
        let state = State {
            id,
            settings: self.settings.clone(),
            metrics,
            start,
        };

        if let Some(problem) = reject(&req, s) {
            let res = {
                let _scope = RequestScope::enter(&state.id);
                let _enter = span.enter();
                state.finish(problem.into_response())
            };
            return BaseFuture {
                kind: Kind::Ready { res: Some(res) },
            };
        }

        let fut = {
            let _scope = RequestScope::enter(&state.id);
            span.in_scope(|| self.inner.call(req))
        };
        BaseFuture {
            kind: Kind::Inner {
                fut,
                sleep: s
                    .timeout
                    .map(|t| tokio::time::sleep_until((start + t).into())),
                span,
                state: Some(state),
            },
        }
    }
}

/// Requests refused before the handler: a `Host` not served, a declared body over the limit.
fn reject(req: &Request, s: &BaseSettings) -> Option<Problem> {
    if let Some(hosts) = &s.allowed_hosts
        && !host_allowed(req, hosts)
    {
        return Some(
            Problem::bad_request(
                "The Host header names a host this server does not serve; add it to server.allowed_hosts.",
            )
            .title("Invalid Host header"),
        );
    }
    if s.body_limit > 0
        && let Some(len) = req.headers().get(CONTENT_LENGTH)
        && len
            .to_str()
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > s.body_limit)
    {
        return Some(default_problem(StatusCode::PAYLOAD_TOO_LARGE, s));
    }
    None
}

/// Per-request state carried to the response.
struct State {
    id: HeaderValue,
    settings: Arc<BaseSettings>,
    metrics: Option<InFlight>,
    start: Instant,
}

enum Finished {
    Done(Response),
    /// A `text/plain` error body to read and wrap in a problem.
    Convert(BoxFuture<'static, Response>),
}

impl State {
    /// Finishes a response whose body needs no reading.
    fn finish(self, res: Response) -> Response {
        match self.process(res) {
            Finished::Done(res) => res,
            Finished::Convert(_) => unreachable!("only text/plain errors need their body read"),
        }
    }

    fn process(self, mut res: Response) -> Finished {
        let State {
            id,
            settings: s,
            metrics,
            start,
        } = self;
        let status = res.status();
        if let Some(m) = metrics {
            m.finish(status);
        }
        tracing::debug!(status = status.as_u16(), latency = ?start.elapsed(), "finished");
        // Start from the defaults and lay the handler's headers over them: cloning the template
        // copies it without hashing, where inserting each default would hash and grow the map.
        let mut headers = s.headers.clone();
        let mut last = None;
        for (name, value) in std::mem::take(res.headers_mut()) {
            match name {
                Some(name) => {
                    headers.insert(&name, value);
                    last = Some(name);
                }
                None => {
                    if let Some(name) = &last {
                        headers.append(name, value);
                    }
                }
            }
        }
        headers.insert(s.id_header.clone(), id.clone());
        *res.headers_mut() = headers;
        if status.as_u16() < 400 {
            return Finished::Done(res);
        }

        let instance = id.to_str().unwrap_or_default().to_string();
        if let Some(mut problem) = res.extensions_mut().remove::<Problem>() {
            problem.instance = Some(instance);
            return Finished::Done(with_problem(res, &problem));
        }
        let content_type = res
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.as_bytes().to_vec());
        match content_type {
            None if res.body().size_hint().exact() == Some(0) => {
                let mut problem = default_problem(status, &s);
                problem.instance = Some(instance);
                Finished::Done(with_problem(res, &problem))
            }
            Some(ct)
                if ct.starts_with(b"text/plain")
                    && !res.headers().contains_key(CONTENT_ENCODING) =>
            {
                Finished::Convert(Box::pin(async move {
                    let (parts, body) = res.into_parts();
                    let bytes = read_prefix(body, 8 * 1024).await;
                    let text = String::from_utf8_lossy(&bytes).trim().to_string();
                    let res = Response::from_parts(parts, Body::empty());
                    let mut problem = default_problem(status, &s);
                    if status.is_client_error() && problem.detail.is_none() && !text.is_empty() {
                        problem.detail = Some(text);
                    } else if status.is_server_error() && !text.is_empty() {
                        tracing::error!(request_id = %instance, body = %text, "server error");
                    }
                    problem.instance = Some(instance);
                    with_problem(res, &problem)
                }))
            }
            _ => Finished::Done(res),
        }
    }
}

/// The problem for a bare error response of this status.
fn default_problem(status: StatusCode, s: &BaseSettings) -> Problem {
    let problem = Problem::new(status);
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => problem.detail(format!(
            "The request body is larger than the limit of {} bytes.",
            s.body_limit
        )),
        // axum adds `Allow` outside the route's layers, after this runs.
        StatusCode::METHOD_NOT_ALLOWED => problem.detail(
            "This resource does not support the method; the Allow header lists those it does.",
        ),
        _ => problem,
    }
}

/// Replaces the body with the problem, keeping status and headers (`Allow`, `Retry-After`…).
/// The problem's own headers were put on the response when it was made (`Problem::into_response`).
fn with_problem(res: Response, problem: &Problem) -> Response {
    let (mut parts, _) = res.into_parts();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    // Headers that described the body being replaced.
    for stale in [
        CONTENT_LENGTH,
        CONTENT_ENCODING,
        CONTENT_RANGE,
        ETAG,
        LAST_MODIFIED,
    ] {
        parts.headers.remove(stale);
    }
    Response::from_parts(parts, Body::from(problem.to_body()))
}

/// Reads at most `limit` bytes of a body; what does not fit is cut off.
async fn read_prefix(body: Body, limit: usize) -> Vec<u8> {
    let mut body = std::pin::pin!(body);
    let mut out = Vec::new();
    while out.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let take = data.len().min(limit - out.len());
                    out.extend_from_slice(&data[..take]);
                }
            }
            _ => break,
        }
    }
    out
}

pin_project! {
    /// Response future of [`BaseService`].
    pub(crate) struct BaseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner {
            #[pin]
            fut: F,
            #[pin]
            sleep: Option<Sleep>,
            span: Span,
            state: Option<State>,
        },
        Ready {
            res: Option<Response>,
        },
        Convert {
            fut: BoxFuture<'static, Response>,
        },
    }
}

impl<F, B> Future for BaseFuture<F>
where
    F: Future<Output = Result<http::Response<B>, Infallible>>,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        loop {
            let this = self.as_mut().project();
            let finished = match this.kind.project() {
                KindProj::Ready { res } => {
                    return Poll::Ready(Ok(res.take().expect("polled after completion")));
                }
                KindProj::Convert { fut } => return fut.as_mut().poll(cx).map(Ok),
                KindProj::Inner {
                    fut,
                    sleep,
                    span,
                    state,
                } => {
                    let _scope =
                        RequestScope::enter(&state.as_ref().expect("state until completion").id);
                    let _enter = span.enter();
                    // Catching panics here (instead of in a separate layer) costs nothing per request.
                    let polled = std::panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx)));
                    let res = match polled {
                        Ok(Poll::Ready(Ok(res))) => res.map(Body::new),
                        Err(panic) => {
                            let id = &state.as_ref().expect("state until completion").id;
                            tracing::error!(
                                request_id = id.to_str().unwrap_or_default(),
                                panic = panic_message(&*panic),
                                "handler panicked"
                            );
                            Problem::internal().into_response()
                        }
                        Ok(Poll::Pending) => match sleep.as_pin_mut() {
                            Some(sleep) => {
                                ready!(sleep.poll(cx));
                                let s = &state.as_ref().expect("state until completion").settings;
                                let timeout = s.timeout.unwrap_or_default();
                                Problem::new(s.timeout_status)
                                    .detail(format!(
                                        "The request took longer than {} to handle.",
                                        humantime::format_duration(timeout)
                                    ))
                                    .into_response()
                            }
                            None => return Poll::Pending,
                        },
                    };
                    state.take().expect("polled after completion").process(res)
                }
            };
            let next = match finished {
                Finished::Done(res) => Kind::Ready { res: Some(res) },
                Finished::Convert(fut) => Kind::Convert { fut },
            };
            self.as_mut().project().kind.set(next);
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)")
}
