//! The default middleware stack, and the extractors it provides ([`RequestId`], [`ClientIp`]).
//!
//! Every app gets, outermost first:
//! 1. the base layer: request id (`X-Request-Id`, taken from trusted proxies only), `Host`
//!    check (`server.allowed_hosts`), request timeout (`http.request_timeout` → 503 or 408 problem),
//!    panic catching (→ 500 problem that reveals nothing; the panic is logged with the request id),
//!    request metrics, the `Server` and security headers, and RFC 9457 problem bodies for bare
//!    error responses (404, 405 with `Allow`, 413, axum's plain-text rejections);
//! 2. a `tracing` span per request carrying the request id (`http.trace`);
//! 3. CORS from `[cors]` (when `allowed_origins` is set);
//! 4. response compression (`http.compression`);
//! 5. the request body limit (`http.body_limit` → 413 problem).
//!
//! Each piece is switched or tuned in `turbine.toml`; any tower layer can be added with
//! `App::layer`.
//!
//! ```
//! use turbine::prelude::*;
//! use turbine::testing::TestClient;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = App::new().route("/", get(|| async { "hi" }));
//! let client = TestClient::new(app).await.unwrap();
//! let res = client.get("/").send().await;
//! assert!(res.header("x-request-id").is_some());
//! assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
//! let res = client.get("/nope").send().await;
//! assert_eq!(res.status(), 404);
//! assert_eq!(res.header("content-type"), Some("application/problem+json"));
//! # }
//! ```

mod base;
mod proxy;
mod request_id;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::{MakeSpan, TraceLayer};
use tracing::Span;
use turbine_core::config::Config;
use turbine_core::context::Context;

pub use proxy::{ClientIp, ClientIpRejection};
pub use request_id::RequestId;

use crate::observability::Metrics;
use base::{BaseLayer, BaseSettings, HostPattern};
pub(crate) use proxy::TrustedProxies;

/// Wraps every route of `router` in the default stack configured by `config`.
pub(crate) fn apply(
    router: Router<Context>,
    config: &Config,
    metrics: Option<Metrics>,
) -> Router<Context> {
    let s = config.settings();
    let http = &s.http;
    let base = BaseLayer::new(BaseSettings {
        id_header: HeaderName::from_bytes(http.request_id_header.as_bytes())
            .expect("validated when the config was loaded"),
        trusted: TrustedProxies::new(s.server.trusted_proxies.clone()),
        allowed_hosts: allowed_hosts(&s.server.allowed_hosts),
        headers: response_headers(config),
        metrics,
        timeout: http.request_timeout.filter(|d| !d.is_zero()),
        timeout_status: StatusCode::from_u16(http.timeout_status)
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        body_limit: http.body_limit,
    });
    // Switched-off pieces stay in place as no-ops: tower's `Either` would need every branch to
    // return the same body type, and these cost next to nothing when idle.
    let stack = ServiceBuilder::new()
        .layer(base)
        .layer(TraceLayer::new_for_http().make_span_with(RequestSpan(http.trace)))
        .option_layer(cors(config))
        .layer(CompressionLayer::new().compress_when(Compress(http.compression)))
        .layer(RequestBodyLimitLayer::new(match http.body_limit {
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        }))
        // The limit above governs; axum's own 2 MB default for extractors would contradict it.
        .layer(DefaultBodyLimit::disable());
    router.layer(stack)
}

/// One `request` span per request, with the request id, method and path (when `http.trace`).
#[derive(Debug, Clone, Copy)]
struct RequestSpan(bool);

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &http::Request<B>) -> Span {
        if !self.0 {
            return Span::none();
        }
        let id = req
            .extensions()
            .get::<RequestId>()
            .map(RequestId::as_str)
            .unwrap_or_default();
        tracing::info_span!("request", id, method = %req.method(), path = req.uri().path())
    }
}

/// Compress what tower-http's default predicate would, when `http.compression` is on.
#[derive(Debug, Clone, Copy)]
struct Compress(bool);

impl Predicate for Compress {
    fn should_compress<B: http_body::Body>(&self, response: &http::Response<B>) -> bool {
        self.0 && DefaultPredicate::new().should_compress(response)
    }
}

fn allowed_hosts(hosts: &[String]) -> Option<Vec<HostPattern>> {
    if hosts.is_empty() || hosts.iter().any(|h| h.trim() == "*") {
        None
    } else {
        Some(hosts.iter().filter_map(|h| HostPattern::parse(h)).collect())
    }
}

fn response_headers(config: &Config) -> Vec<(HeaderName, HeaderValue)> {
    let s = config.settings();
    let mut out = Vec::new();
    let mut add = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            out.push((HeaderName::from_static(name), v));
        }
    };
    if !s.http.server_header.is_empty() {
        add("server", &s.http.server_header);
    }
    let sec = &s.security;
    if sec.headers {
        if sec.content_type_nosniff {
            add("x-content-type-options", "nosniff");
        }
        if !sec.referrer_policy.is_empty() {
            add("referrer-policy", &sec.referrer_policy);
        }
        if !sec.frame_options.is_empty() {
            add("x-frame-options", &sec.frame_options);
            let ancestors = if sec.frame_options.eq_ignore_ascii_case("SAMEORIGIN") {
                "'self'"
            } else {
                "'none'"
            };
            add(
                "content-security-policy",
                &format!("frame-ancestors {ancestors}"),
            );
        }
        add("cross-origin-opener-policy", "same-origin");
        if sec.hsts {
            let mut v = format!("max-age={}", sec.hsts_max_age.as_secs());
            if sec.hsts_include_subdomains {
                v.push_str("; includeSubDomains");
            }
            add("strict-transport-security", &v);
        }
    }
    out
}

fn cors(config: &Config) -> Option<CorsLayer> {
    let c = &config.settings().cors;
    if c.allowed_origins.is_empty() {
        return None;
    }
    let origin = if c.allowed_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            c.allowed_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    let methods: Vec<Method> = c
        .allowed_methods
        .iter()
        .filter_map(|m| m.parse().ok())
        .collect();
    let headers: Vec<HeaderName> = c
        .allowed_headers
        .iter()
        .filter_map(|h| h.parse().ok())
        .collect();
    let expose = HeaderName::from_bytes(config.settings().http.request_id_header.as_bytes()).ok();
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods(methods)
            .allow_headers(headers)
            .allow_credentials(c.allow_credentials)
            .max_age(Duration::from_secs(c.max_age.as_secs()))
            .expose_headers(expose.into_iter().collect::<Vec<_>>()),
    )
}
