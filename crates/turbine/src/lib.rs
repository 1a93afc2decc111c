//! Turbine: a batteries-included backend framework on axum.
//!
//! ```no_run
//! use turbine::prelude::*;
//!
//! #[tokio::main]
//! async fn main() -> turbine::Result<()> {
//!     App::new().route("/", get(|| async { "Hello, world!" })).run().await
//! }
//! ```
//!
//! The binary this builds is its own `manage.py`: `serve` (default), `routes`, `config`,
//! `check --deploy`, plus the commands batteries add. See the guide in `docs/`.
//!
//! - [`App`]: the builder; [`prelude`]: what most handlers need;
//! - [`middleware`]: the default stack and its extractors; [`observability`]: logs, health, metrics;
//! - [`testing`] (feature `testing`): in-process test client and loopback test server;
//! - [`config`], [`context`], [`battery`], [`problem`]: re-exported from `turbine-core`;
//! - `orm` (feature `orm`): the ORM, with `#[derive(Model)]` and `#[derive(Choices)]` at the root.

mod app;
mod checks;
mod cli;
pub mod middleware;
pub mod observability;
mod server;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::{App, BuiltApp};
pub use server::shutdown_signal;
/// The admin battery: an admin panel generated from model metadata (feature `admin`).
#[cfg(feature = "admin")]
pub use turbine_admin as admin;
/// The API battery (feature `api`): REST resources over models (`Api`, `Resource`).
#[cfg(feature = "api")]
pub use turbine_api as api;
/// The auth battery (feature `auth`): users, sessions, tokens, permissions, `CurrentUser`.
#[cfg(feature = "auth")]
pub use turbine_auth as auth;
pub use turbine_core::{
    BoxError, Error, Result, battery, check, config, context, health, problem, routing,
};
/// The mail battery (feature `mail`): `Mailer`, `Message` and the `Mail` battery.
#[cfg(feature = "mail")]
pub use turbine_mail as mail;
/// The ORM battery (feature `orm`): models, metadata, the registry, values and the database handle.
#[cfg(feature = "orm")]
pub use turbine_orm as orm;
/// `#[derive(Model)]` and the [`Model`] trait (one name for both, like
/// serde's `Serialize`), and `#[derive(Choices)]` for string-backed enums (feature `orm`).
#[cfg(feature = "orm")]
pub use {
    turbine_macros::{Choices, Model},
    turbine_orm::Model,
};

/// What generated code (`#[derive(Model)]`) names, so apps depend on `turbine` alone; not a
/// public API.
#[cfg(feature = "orm")]
#[doc(hidden)]
pub mod __private {
    pub use turbine_orm as orm;
}

/// Re-exported crates, so apps need not pin their versions.
pub mod reexports {
    pub use axum;
    pub use serde_json;
    pub use tokio;
    pub use tracing;
}

/// What most apps and handlers use.
pub mod prelude {
    pub use crate::App;
    pub use axum::Json;
    pub use axum::extract::{Path, Query, State};
    pub use axum::response::{IntoResponse, Response};
    pub use turbine_core::context::Context;
    pub use turbine_core::problem::Problem;
    pub use turbine_core::routing::{Routes, any, delete, get, head, options, patch, post, put};
    pub use turbine_core::{Error, Result};
    /// The ORM's everyday names (feature `orm`): the `Db` extractor, the battery, the derive and
    /// the trait, relation fields, and `ModelExt` (`Post::objects()`, `post.insert(&db)`…).
    #[cfg(feature = "orm")]
    pub use {
        crate::Model,
        turbine_orm::battery::Orm,
        turbine_orm::{Db, ForeignKey, Json as JsonField, ManyToMany, ModelExt},
    };
}
