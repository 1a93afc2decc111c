//! Chirp: the backend of a small social + chat mobile app, built to show every Turbine battery.
//!
//! Today:
//! - accounts from the auth battery under `/auth` (sign-up, login for tokens or a browser
//!   session, refresh, `/auth/me`…, and the `createsuperuser`/`changepassword`/`clearsessions`
//!   commands), with account mail through the mail battery (logged to the console in `dev`,
//!   kept in memory in `test`; set `[mail]` to send it);
//! - profiles (one per account), follows, posts, comments and likes on the ORM ([`models`]),
//!   served as REST resources by the API battery ([`api`]) with filters, search, ordering,
//!   `?expand=`, cursor pages, ETags and `Idempotency-Key`, documented at `/openapi.json`
//!   and `/docs`: reads are public, writes act as the signed-in user's profile, and only the
//!   author changes or deletes what they wrote;
//! - their migrations in `migrations/`, applied at start-up after the auth battery's, a `seed`
//!   command with demo accounts ([`seed`]), a personal feed (`/posts/feed`) and a timeline
//!   with cursor pagination;
//! - everything the core gives for free (config, the default middleware stack, problem+json
//!   errors, `/health/*`, `/metrics`, the `serve`/`routes`/`config`/`check` commands and the
//!   ORM's `migrate`/`makemigrations`/`showmigrations`…).
//!
//! - the admin at `/admin` ([`admin`]): `createsuperuser`, then log in to browse, search,
//!   filter, edit and delete every model, with the history of each change.
//!
//! Chat arrives with its battery.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let config = turbine::testing::config("[database]\nurl = 'sqlite::memory:'");
//! let client = turbine::testing::TestClient::new(chirp::app().config(config)).await.unwrap();
//! let index = client.get("/").send().await.assert_status(200);
//! assert_eq!(index.json::<serde_json::Value>()["name"], "chirp");
//! # }
//! ```

pub mod admin;
pub mod api;
pub mod models;
pub mod seed;

use serde::Serialize;
use turbine::auth::{Auth, AuthService};
use turbine::mail::Mail;
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
    /// The timeline of posts (`POST` to write one, signed in).
    pub posts: &'static str,
    /// The signed-in user's feed: posts of the profiles they follow.
    pub feed: &'static str,
    /// A profile.
    pub profile: &'static str,
    /// Where a signed-in user creates their profile (`POST`).
    pub profiles: &'static str,
    /// The OpenAPI document.
    pub openapi: &'static str,
    /// The API docs (Swagger UI).
    pub docs: &'static str,
    /// Create an account (`POST`).
    pub signup: String,
    /// Log in for tokens or a browser session (`POST`).
    pub login: String,
    /// Exchange a refresh token for new tokens (`POST`).
    pub refresh: String,
    /// The signed-in user's account.
    pub me: String,
}

/// `GET /`: the API index.
async fn index(State(ctx): State<Context>, auth: AuthService) -> Json<ApiIndex> {
    let config = ctx.config();
    let o = &config.settings().observability;
    let prefix = &auth.settings().prefix;
    Json(ApiIndex {
        name: "chirp",
        version: env!("CARGO_PKG_VERSION"),
        profile: config.profile().to_string(),
        links: Links {
            health_live: o.health.then_some("/health/live"),
            health_ready: o.health.then_some("/health/ready"),
            metrics: o.metrics.then(|| o.metrics_path.clone()),
            posts: "/posts",
            feed: "/posts/feed",
            profile: "/profiles/{handle}",
            profiles: "/profiles",
            openapi: "/openapi.json",
            docs: "/docs",
            signup: format!("{prefix}/signup"),
            login: format!("{prefix}/login"),
            refresh: format!("{prefix}/refresh"),
            me: format!("{prefix}/me"),
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

/// The auth battery as Chirp configures it: `[auth]` settings (endpoints under `/auth` by
/// default) and argon2id at the OWASP parameters. Tests swap the hasher:
/// `chirp::auth().password_hasher(PasswordHasher::for_tests())`.
pub fn auth() -> Auth {
    Auth::new()
}

/// The app factory: the binary serves it, tests drive it in-process.
pub fn app() -> App {
    app_with(auth())
}

/// The app with this auth battery (tests pass one with a cheap password hasher). The ORM is
/// installed first, then mail (`[mail]`: the console in `dev`, memory in `test`), then auth,
/// which needs both, then the API ([`api::api`]) and the admin ([`admin::admin`]), which
/// need the ORM and auth.
pub fn app_with(auth: Auth) -> App {
    App::new()
        .battery(orm())
        .battery(Mail::new())
        .battery(auth)
        .battery(api::api())
        .battery(admin::admin())
        .route("/", get(index))
}
