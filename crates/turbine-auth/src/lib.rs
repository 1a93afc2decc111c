//! Turbine's auth battery: users, argon2id passwords, web sessions with CSRF, mobile tokens
//! (JWT access + rotating refresh), API keys, permissions and groups, throttled logins.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use turbine::orm::battery::{Migrations, Orm};
//! use turbine::prelude::*;
//! use turbine_auth::{Auth, CurrentUser};
//!
//! async fn me(user: CurrentUser) -> String {
//!     format!("you are user {}", user.id)
//! }
//!
//! let app = App::new()
//!     .battery(Orm::new().migrations(Migrations::none()).auto_migrate(true))
//!     .battery(Auth::new()) // `/auth/signup`, `/auth/login`, `/auth/refresh`…
//!     .route("/me", get(me));
//! let client = turbine::testing::TestClient::new(
//!     app.config(turbine::testing::config("[database]\nurl = 'sqlite::memory:'")),
//! )
//! .await
//! .unwrap();
//! client.get("/me").send().await.assert_status(401);
//! # }
//! ```
//!
//! See `docs/auth.md` for the endpoints, sessions versus tokens, permissions and policies.

pub mod authorize;
pub mod battery;
mod commands;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod jwt;
pub mod models;
mod notify;
pub mod password;
pub mod policy;
mod routes;
pub mod schema;
pub mod service;
pub mod session;
pub mod settings;
pub mod throttle;
pub mod token;
mod verified;

pub use authorize::{Action, Policy};
pub use battery::Auth;
pub use commands::PASSWORD_ENV;
pub use error::{Error, FieldError, Result, TokenError};
pub use extract::{
    AuthMethod, CurrentSession, CurrentUser, MaybeUser, Perm, PermissionName, Staff, require_perm,
    require_staff, require_user,
};
pub use service::{AuthService, ClientInfo, TokenPair};
