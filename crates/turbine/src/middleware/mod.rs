//! The default middleware stack, and the extractors it provides ([`RequestId`], [`ClientIp`]).
//!
//! Every app gets, outermost first:
//! 1. response compression (`http.compression`), for requests with `Accept-Encoding`;
//! 2. the base layer: request id (`X-Request-Id`, taken from trusted proxies only), a `tracing`
//!    span per request carrying it (`http.trace`), `Host` check (`server.allowed_hosts`), request
//!    timeout (`http.request_timeout` → 503 or 408 problem), panic catching (→ 500 problem that
//!    reveals nothing; the panic is logged with the request id), request metrics, the `Server` and
//!    security headers, and RFC 9457 problem bodies for bare error responses (404, 405 with
//!    `Allow`, 413, axum's plain-text rejections);
//! 3. CORS from `[cors]` (when `allowed_origins` is set);
//! 4. the request body limit (`http.body_limit` → 413 problem): a declared `Content-Length` over
//!    it is refused up front, and axum's body extractors stop reading at it.
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
mod compression;
mod request_id;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use turbine_core::config::Config;
use turbine_core::context::Context;

pub use request_id::RequestId;
pub use turbine_core::client_ip::{ClientIp, ClientIpRejection};

use crate::observability::Metrics;
use base::{BaseLayer, BaseSettings, HostPattern};
use compression::MaybeCompressLayer;
pub(crate) use turbine_core::client_ip::TrustedProxies;

/// The limit axum's body extractors apply when no `DefaultBodyLimit` is set.
const AXUM_DEFAULT_BODY_LIMIT: u64 = 2 * 1024 * 1024;

/// Wraps every route of `router` in the default stack configured by `config`.
pub(crate) fn apply(
    router: Router<Context>,
    config: &Config,
    metrics: Option<Metrics>,
    trusted: TrustedProxies,
) -> Router<Context> {
    let s = config.settings();
    let http = &s.http;
    let id_header = HeaderName::from_bytes(http.request_id_header.as_bytes())
        .expect("validated when the config was loaded");
    let cors = cors(config, &id_header);
    let base = BaseLayer::new(BaseSettings {
        id_header,
        trusted,
        allowed_hosts: allowed_hosts(&s.server.allowed_hosts),
        headers: response_headers(config),
        metrics,
        timeout: http.request_timeout.filter(|d| !d.is_zero()),
        timeout_status: StatusCode::from_u16(http.timeout_status)
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        body_limit: http.body_limit,
        trace: http.trace,
    });
    // Compression is outermost so that it compresses the final body, problems included.
    let stack = ServiceBuilder::new()
        .layer(MaybeCompressLayer::new(http.compression))
        .layer(base)
        .option_layer(cors)
        // axum's extractors enforce this while reading bodies sent without Content-Length; the
        // base layer refuses a declared Content-Length over the limit before the handler runs.
        .option_layer(match http.body_limit {
            // axum's own default is the same: no per-request extension needed.
            AXUM_DEFAULT_BODY_LIMIT => None,
            0 => Some(DefaultBodyLimit::disable()),
            n => Some(DefaultBodyLimit::max(
                usize::try_from(n).unwrap_or(usize::MAX),
            )),
        });
    router.layer(stack)
}

fn allowed_hosts(hosts: &[String]) -> Option<Vec<HostPattern>> {
    if hosts.is_empty() || hosts.iter().any(|h| h.trim() == "*") {
        None
    } else {
        Some(hosts.iter().filter_map(|h| HostPattern::parse(h)).collect())
    }
}

/// The headers every response gets unless its handler set them, as a map to clone per response.
///
/// Values are `'static` (the few config strings are leaked once per app) so that cloning the map
/// copies them without touching reference counts shared by every core.
fn response_headers(config: &Config) -> HeaderMap {
    let s = config.settings();
    let mut out = HeaderMap::with_capacity(16);
    let mut add = |name: &'static str, value: &str| {
        let value: &'static str = Box::leak(value.to_string().into_boxed_str());
        if let Ok(v) = HeaderValue::from_str(value).map(|_| HeaderValue::from_static(value)) {
            out.insert(HeaderName::from_static(name), v);
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
            let mut v = format!("max-age={}", sec.hsts_seconds);
            if sec.hsts_include_subdomains {
                v.push_str("; includeSubDomains");
            }
            add("strict-transport-security", &v);
        }
    }
    out
}

fn cors(config: &Config, id_header: &HeaderName) -> Option<CorsLayer> {
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
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods(methods)
            .allow_headers(headers)
            .allow_credentials(c.allow_credentials)
            .max_age(c.max_age)
            .expose_headers([id_header.clone()]),
    )
}
