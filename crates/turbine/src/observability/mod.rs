//! Logs, `/health/live`, `/health/ready` and `/metrics`.
//!
//! Logs are pretty in `dev` and JSON lines in `prod` (`[log]`); every line logged while handling
//! a request carries its request id (`request_id`). `/health/live` answers 200 while the process
//! runs; `/health/ready` runs every readiness check batteries registered and answers 503 with
//! the failing checks when one fails; `/metrics` serves the app's [`Metrics`].
//!
//! ```
//! use turbine::prelude::*;
//! use turbine::testing::TestClient;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = App::new().setup(|s| {
//!     s.health_check("cache", |_ctx| async { Err("connection refused".to_string()) });
//!     Ok(())
//! });
//! let client = TestClient::new(app).await.unwrap();
//! let res = client.get("/health/ready").send().await;
//! assert_eq!(res.status(), 503);
//! assert_eq!(res.json::<serde_json::Value>()["checks"]["cache"]["error"], "connection refused");
//! # }
//! ```

mod json_fields;
mod log_format;
pub mod metrics;

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::{Map, Value, json};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use turbine_core::config::{Config, ConfigError, KeyError, LogFormat};
use turbine_core::context::Context;
use turbine_core::health::HealthCheck;
use turbine_core::problem::Problem;
use turbine_core::routing::{Routes, get};

use log_format::RequestIdFormat;
pub(crate) use log_format::{RequestScope, current_request_id};
pub use metrics::Metrics;

/// The readiness checks of the app, kept in the context.
#[derive(Clone, Default)]
pub(crate) struct HealthChecks(pub(crate) Arc<[HealthCheck]>);

/// Installs the global log subscriber once per process; later calls keep the first one.
pub(crate) fn init_logging(config: &Config) -> Result<(), ConfigError> {
    let log = &config.settings().log;
    // `Targets` rather than `EnvFilter`: the same `info,turbine=debug` syntax, without
    // EnvFilter's per-span bookkeeping on every poll of every request.
    let (key, origin, text) = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => ("RUST_LOG", "environment variable RUST_LOG".to_string(), v),
        _ => (
            "log.level",
            config.origin_of("log.level"),
            log.level.clone(),
        ),
    };
    let filter: Targets = text.parse().map_err(|e| {
        ConfigError::Invalid(vec![KeyError {
            key: key.into(),
            origin,
            message: format!("not a valid log filter (e.g. `info` or `info,turbine=debug`): {e}"),
        }])
    })?;
    let registry = tracing_subscriber::registry().with(filter);
    // Err means a subscriber is already installed (tests, or the app's own): keep it.
    let _ = registry
        .with(fmt_layer(
            log.format,
            std::io::IsTerminal::is_terminal(&std::io::stdout()),
            std::io::stdout,
        ))
        .try_init();
    Ok(())
}

/// The log line formatter for `format`, writing to `writer`.
pub(crate) fn fmt_layer<S, W>(
    format: LogFormat,
    ansi: bool,
    writer: W,
) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi);
    match format {
        LogFormat::Pretty => layer
            .event_format(RequestIdFormat::pretty(tracing_subscriber::fmt::format()))
            .boxed(),
        LogFormat::Json => layer
            .fmt_fields(json_fields::JsonSpanFields)
            .event_format(RequestIdFormat::json(
                tracing_subscriber::fmt::format()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            ))
            .boxed(),
    }
}

/// The health and metrics routes, as configured.
pub(crate) fn routes(config: &Config) -> Routes {
    let o = &config.settings().observability;
    let mut routes = Routes::new();
    if o.health {
        routes = routes
            .route("/health/live", get(health_live))
            .route("/health/ready", get(health_ready));
    }
    if o.metrics {
        routes = routes.route(&o.metrics_path, get(metrics));
    }
    routes
}

/// `GET /health/live`: the process is up.
async fn health_live() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// `GET /health/ready`: every registered check passes, or 503 naming the ones that fail.
async fn health_ready(State(ctx): State<Context>) -> Response {
    let checks = ctx.get::<HealthChecks>().cloned().unwrap_or_default();
    let timeout = ctx.config().settings().observability.health_check_timeout;
    let results = futures_util::future::join_all(checks.0.iter().map(|check| {
        let ctx = ctx.clone();
        async move {
            let outcome = match tokio::time::timeout(timeout, check.run(ctx)).await {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "no answer within {}",
                    humantime::format_duration(timeout)
                )),
            };
            (check.name().to_string(), outcome)
        }
    }))
    .await;
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    let report: Map<String, Value> = results
        .into_iter()
        .map(|(name, r)| {
            let v = match r {
                Ok(()) => json!({ "status": "ok" }),
                Err(e) => json!({ "status": "failing", "error": e }),
            };
            (name, v)
        })
        .collect();
    if failed == 0 {
        axum::Json(json!({ "status": "ok", "checks": report })).into_response()
    } else {
        tracing::warn!(failed, "readiness check failed");
        Problem::new(StatusCode::SERVICE_UNAVAILABLE)
            .detail(format!(
                "{failed} of {} readiness checks failed.",
                report.len()
            ))
            .extension("checks", Value::Object(report))
            .into_response()
    }
}

/// `GET /metrics`: OpenMetrics text.
async fn metrics(State(ctx): State<Context>) -> Response {
    match ctx.get::<Metrics>() {
        Some(m) => ([(CONTENT_TYPE, metrics::CONTENT_TYPE)], m.render()).into_response(),
        None => Problem::not_found().into_response(),
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::prelude::*;
    use crate::testing::TestClient;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn logged_lines(format: LogFormat, trace: bool) -> (String, String) {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber =
            tracing_subscriber::registry().with(fmt_layer(format, false, move || writer.clone()));
        let _guard = tracing::subscriber::set_default(subscriber);
        let config = Config::builder()
            .profile("test")
            .no_file()
            .env_vars::<String, String>([])
            .set("http.trace", trace)
            .load()
            .unwrap();
        let app = App::new().config(config).route(
            "/",
            get(|| async {
                tokio::task::yield_now().await;
                let work = tracing::info_span!("work", user = tracing::field::Empty, step = 1);
                work.record("user", 5);
                work.in_scope(|| tracing::info!("inside the work span"));
                tracing::info!(answer = 42, "inside the handler");
                "ok"
            }),
        );
        let client = TestClient::new(app).await.unwrap();
        let res = client.get("/").send().await;
        tracing::info!("outside any request");
        let id = res.header("x-request-id").unwrap().to_string();
        let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        (id, out)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn json_lines_carry_the_request_id() {
        for trace in [false, true] {
            let (id, out) = logged_lines(LogFormat::Json, trace).await;
            let lines: Vec<serde_json::Value> = out
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let inside = lines
                .iter()
                .find(|l| l["fields"]["message"] == "inside the handler")
                .unwrap_or_else(|| panic!("{out}"));
            assert_eq!(inside["request_id"], id.as_str(), "{out}");
            assert_eq!(inside["fields"]["answer"], 42);
            if trace {
                assert_eq!(inside["span"]["id"], id.as_str(), "{out}");
                assert_eq!(inside["span"]["path"], "/", "{out}");
            }
            let work = lines
                .iter()
                .find(|l| l["fields"]["message"] == "inside the work span")
                .unwrap_or_else(|| panic!("{out}"));
            assert_eq!(
                work["span"]["user"], 5,
                "a field recorded later is merged: {out}"
            );
            assert_eq!(work["span"]["step"], 1, "{out}");
            assert_eq!(work["request_id"], id.as_str(), "{out}");
            let outside = lines
                .iter()
                .find(|l| l["fields"]["message"] == "outside any request")
                .unwrap();
            assert!(outside.get("request_id").is_none(), "{out}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn pretty_lines_carry_the_request_id() {
        let (id, out) = logged_lines(LogFormat::Pretty, false).await;
        let inside = out
            .lines()
            .find(|l| l.contains("inside the handler"))
            .unwrap();
        assert!(inside.starts_with(&format!("request_id={id} ")), "{out}");
        let outside = out
            .lines()
            .find(|l| l.contains("outside any request"))
            .unwrap();
        assert!(!outside.contains("request_id"), "{out}");
    }
}
