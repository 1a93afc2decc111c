//! Chirp: the backend of a small social + chat mobile app, built to show every Turbine battery.
//!
//! Today: profiles, follows, posts, comments and likes on the ORM ([`models`], [`api`]), with
//! their migrations in `migrations/` (applied at start-up), a `seed` command, a personal feed and
//! a timeline with cursor pagination; plus everything the core gives for free (config, the
//! default middleware stack, problem+json errors, `/health/*`, `/metrics`, the `serve`/`routes`/
//! `config`/`check` commands and the ORM's `migrate`/`makemigrations`/`showmigrations`…).
//! Accounts, chat and the admin arrive with their batteries.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let config = turbine::testing::config("[database]\nurl = 'sqlite::memory:'");
//! let client = turbine::testing::TestClient::new(chirp::app().config(config)).await.unwrap();
//! let index = client.get("/").send().await.assert_status(200);
//! assert_eq!(index.json::<serde_json::Value>()["name"], "chirp");
//! # }
//! ```

pub mod api;
pub mod models;
pub mod seed;

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
    /// The timeline of posts.
    pub posts: &'static str,
    /// A profile (and `/feed`, `/follow` under it).
    pub profile: &'static str,
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
            posts: "/posts",
            profile: "/profiles/{handle}",
        },
    })
}

/// The ORM battery with Chirp's models and migrations, on `sqlite://chirp.db` unless
/// `database.url` says otherwise; pending migrations are applied at start-up
/// (`database.auto_migrate = false` turns that off).
pub fn orm() -> Orm {
    Orm::new()
        .default_url("sqlite://chirp.db")
        .model::<models::Profile>()
        .model::<models::Follow>()
        .model::<models::Post>()
        .model::<models::Comment>()
        .model::<models::Like>()
        .migrations(turbine::orm::app_migrations!())
        .auto_migrate(true)
        .seed(seed::seed)
}

/// The app factory: the binary serves it, tests drive it in-process.
pub fn app() -> App {
    App::new()
        .battery(orm())
        .route("/", get(index))
        .route("/profiles", post(api::create_profile))
        .route("/profiles/{handle}", get(api::show_profile))
        .route("/profiles/{handle}/follow", post(api::follow))
        .route("/profiles/{handle}/feed", get(api::feed))
        .route("/posts", get(api::timeline).post(api::create_post))
        .route("/posts/{id}", get(api::show_post))
        .route("/posts/{id}/comments", post(api::create_comment))
        .route("/posts/{id}/like", post(api::like))
}
