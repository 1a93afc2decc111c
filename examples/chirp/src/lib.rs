//! Chirp: the backend of a small social + chat mobile app, built to show every Turbine battery.
//!
//! Today it is the skeleton every later battery extends: the app factory, an API index, and
//! everything the core gives for free (config, the default middleware stack, problem+json errors,
//! `/health/live`, `/health/ready`, `/metrics`, and the `serve`/`routes`/`config`/`check`
//! commands). Users, posts, follows, chat and the admin arrive with their batteries.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let client = turbine::testing::TestClient::new(chirp::app()).await.unwrap();
//! let index = client.get("/").send().await.assert_status(200);
//! assert_eq!(index.json::<serde_json::Value>()["name"], "chirp");
//! # }
//! ```

use serde::Serialize;
use turbine::prelude::*;

/// What `GET /` answers: a map of the API for client developers.
#[derive(Debug, Serialize)]
pub struct ApiIndex {
    /// The service name.
    pub name: &'static str,
    /// The running version.
    pub version: &'static str,
    /// The profile the server runs with (`dev`, `test`, `prod`).
    pub profile: String,
    /// Where things are.
    pub links: Links,
}

/// Links of the API index (only to what is switched on).
#[derive(Debug, Serialize)]
pub struct Links {
    /// Liveness probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_live: Option<&'static str>,
    /// Readiness probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_ready: Option<&'static str>,
    /// Prometheus metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
}

/// `GET /`: the API index.
async fn index(State(ctx): State<Context>) -> Json<ApiIndex> {
    let config = ctx.config();
    let o = &config.settings().observability;
    Json(ApiIndex {
        name: "chirp",
        version: env!("CARGO_PKG_VERSION"),
        profile: config.profile().to_string(),
        links: Links {
            health_live: o.health.then_some("/health/live"),
            health_ready: o.health.then_some("/health/ready"),
            metrics: o.metrics.then(|| o.metrics_path.clone()),
        },
    })
}

/// The app factory: the binary serves it, tests drive it in-process.
pub fn app() -> App {
    App::new().route("/", get(index))
}
