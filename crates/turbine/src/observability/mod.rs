//! Logs, `/health/live`, `/health/ready` and `/metrics`.
//!
//! Logs are pretty in `dev` and JSON lines in `prod` (`[log]`); every line logged while handling
//! a request carries the request id from its span. `/health/live` answers 200 while the process
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

pub mod metrics;

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::{Map, Value, json};
use tracing_subscriber::EnvFilter;
use turbine_core::config::{Config, ConfigError, KeyError, LogFormat};
use turbine_core::context::Context;
use turbine_core::health::HealthCheck;
use turbine_core::problem::Problem;
use turbine_core::routing::{Routes, get};

pub use metrics::Metrics;

/// The readiness checks of the app, kept in the context.
#[derive(Clone, Default)]
pub(crate) struct HealthChecks(pub(crate) Arc<[HealthCheck]>);

/// Installs the global log subscriber once per process; later calls keep the first one.
pub(crate) fn init_logging(config: &Config) -> Result<(), ConfigError> {
    let log = &config.settings().log;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::try_new(&v).map_err(|e| {
            ConfigError::Invalid(vec![KeyError {
                key: "RUST_LOG".into(),
                origin: "environment variable RUST_LOG".into(),
                message: format!("not a valid log filter: {e}"),
            }])
        })?,
        _ => EnvFilter::try_new(&log.level).map_err(|e| {
            ConfigError::Invalid(vec![KeyError {
                key: "log.level".into(),
                origin: config.origin_of("log.level"),
                message: format!(
                    "not a valid log filter (e.g. `info` or `info,turbine=debug`): {e}"
                ),
            }])
        })?,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // Err means a subscriber is already installed (tests, or the app's own): keep it.
    let _ = match log.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    Ok(())
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
