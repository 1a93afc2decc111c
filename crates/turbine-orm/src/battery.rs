//! The ORM as a battery: one call on the app builder registers the models, connects to the
//! database at start-up, and gives handlers a [`Db`] extractor, a readiness check and the
//! migration commands.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use turbine_core::battery::Setup;
//! use turbine_orm::battery::Orm;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//!
//! let note = ModelMeta::new("notes", "Note")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("body", FieldType::Text));
//! let config = turbine_core::config::Config::builder()
//!     .no_file()
//!     .toml("[database]\nurl = 'sqlite::memory:'")
//!     .env_vars::<String, String>([])
//!     .load()
//!     .unwrap();
//! let mut setup = Setup::new(config);
//! setup.install(Orm::new().meta(note)).unwrap();
//! let parts = setup.finish().unwrap();
//! assert_eq!(parts.health_checks.len(), 1, "a `database` readiness check");
//! # }
//! ```
//!
//! Settings (`[database]` in `turbine.toml`, or `TURBINE_DATABASE__URL`):
//! - `url`: `sqlite://file.db` (default: the app's [`Orm::default_url`]), `sqlite::memory:`,
//!   `postgres://user@host/db?pool_size=16`;
//! - `auto_migrate`: apply pending migrations when the app starts (handy in development and for
//!   a single-node deployment; off by default — run `migrate` as a deploy step instead).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use futures_util::future::BoxFuture;
use http::request::Parts;
use serde::{Deserialize, Serialize};
use turbine_core::battery::{Battery, Command, Setup};
use turbine_core::check::Finding;
use turbine_core::context::{Context, Invocation};
use turbine_core::problem::Problem;

use std::path::PathBuf;

use crate::db::Db;
use crate::error::Error;
use crate::meta::{MetaError, ModelMeta, ModelRegistry, Registry};
use crate::migrate::{self, MigrateOptions, MigrationConfig, MigrationSet};
use crate::model::Model;

/// `[database]` settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DatabaseSettings {
    /// The database URL; `None` uses the app's default (an SQLite file).
    pub url: Option<String>,
    /// Apply pending migrations at start-up (`None`: the app's [`Orm::auto_migrate`] default,
    /// itself off unless the app turns it on).
    pub auto_migrate: Option<bool>,
}

/// A function that fills the database with demo or fixture data (`seed` command).
pub type SeedFn = Box<dyn FnOnce(Db) -> BoxFuture<'static, crate::Result<()>> + Send>;

/// The ORM battery: `App::new().battery(Orm::new().model::<Post>())`.
pub struct Orm {
    registry: ModelRegistry,
    errors: Vec<MetaError>,
    default_url: String,
    seed: Option<SeedFn>,
    migrations: Migrations,
    auto_migrate: bool,
}

/// Where an app's migrations live: the folder `makemigrations` writes to, and the files
/// embedded in the binary (what `migrate` applies). Made by [`app_migrations!`](crate::app_migrations).
#[derive(Debug, Clone)]
pub struct Migrations {
    /// The folder (absolute, from the app crate's manifest directory).
    pub dir: PathBuf,
    /// The embedded files, or why they could not be read.
    pub embedded: Option<std::result::Result<MigrationSet, String>>,
}

impl Migrations {
    /// No migrations of the app's own: for an app (or a test) whose only models come from
    /// batteries, which bring their migrations.
    pub fn none() -> Self {
        Self {
            dir: PathBuf::from("migrations"),
            embedded: Some(Ok(MigrationSet::default())),
        }
    }
}

impl Migrations {
    /// One initial migration generated in memory for `models` (what `makemigrations` would
    /// write first), for tests and prototypes whose models have no files yet. Models that
    /// point at a battery's models cannot use it: their migration must depend on the
    /// battery's, which only `makemigrations` writes.
    pub fn generated(models: impl IntoIterator<Item = ModelMeta>) -> Self {
        let build = || -> crate::Result<MigrationSet> {
            let mut registry = ModelRegistry::new();
            for m in models {
                registry.register(m)?;
            }
            let registry = registry.finish()?;
            let empty = MigrationSet::default();
            let ops = migrate::detect(empty.state(), &registry, &mut migrate::Renames::new())?;
            MigrationSet::new(vec![migrate::next_migration(&empty, ops, None)?])
        };
        Self {
            dir: PathBuf::from("migrations"),
            embedded: Some(build().map_err(|e| e.to_string())),
        }
    }
}

impl Default for Migrations {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("migrations"),
            embedded: None,
        }
    }
}

/// The app crate's `migrations/` folder and its files embedded in the binary, for
/// [`Orm::migrations`]: `Orm::new().migrations(turbine::orm::app_migrations!())`.
///
/// `makemigrations` writes `migrations/embed.rs`, the list this includes; a new app starts
/// with an `embed.rs` holding `[]`.
#[macro_export]
macro_rules! app_migrations {
    () => {
        $crate::app_migrations!("migrations")
    };
    ($dir:literal) => {
        $crate::battery::Migrations {
            dir: ::std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/", $dir)),
            embedded: Some($crate::migrations!($dir).map_err(|e| e.to_string())),
        }
    };
}

impl std::fmt::Debug for Orm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orm")
            .field("registry", &self.registry)
            .field("default_url", &self.default_url)
            .finish_non_exhaustive()
    }
}

impl Default for Orm {
    fn default() -> Self {
        Self {
            registry: ModelRegistry::new(),
            errors: Vec::new(),
            default_url: "sqlite://turbine.db".into(),
            seed: None,
            migrations: Migrations::default(),
            auto_migrate: false,
        }
    }
}

impl Orm {
    /// The battery with no models yet, on `sqlite://turbine.db` unless configured.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a model defined in Rust (`#[derive(Model)]`).
    pub fn model<M: Model>(self) -> Self {
        self.meta(M::meta().clone())
    }

    /// Registers a model from metadata (defined at runtime, no Rust type).
    pub fn meta(mut self, meta: ModelMeta) -> Self {
        if let Err(e) = self.registry.register(meta) {
            self.errors.push(e);
        }
        self
    }

    /// The database URL used when the config sets none (e.g. `sqlite://chirp.db`).
    pub fn default_url(mut self, url: impl Into<String>) -> Self {
        self.default_url = url.into();
        self
    }

    /// The app's migrations ([`app_migrations!`](crate::app_migrations)); without this call,
    /// the commands use `./migrations` read at run time.
    pub fn migrations(mut self, migrations: Migrations) -> Self {
        self.migrations = migrations;
        self
    }

    /// Whether pending migrations are applied when the app starts, unless the config says
    /// (`database.auto_migrate`). Never for the app's commands (`migrate` itself…).
    pub fn auto_migrate(mut self, on: bool) -> Self {
        self.auto_migrate = on;
        self
    }

    /// The app's `seed` command: fills the database with demo data, in one transaction (all or
    /// nothing).
    pub fn seed<F, Fut>(mut self, seed: F) -> Self
    where
        F: FnOnce(Db) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = crate::Result<()>> + Send + 'static,
    {
        self.seed = Some(Box::new(move |db| Box::pin(seed(db))));
        self
    }
}

impl Battery for Orm {
    fn name(&self) -> &'static str {
        "orm"
    }

    fn install(self, setup: &mut Setup) -> turbine_core::Result<()> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(turbine_core::Error::other("registering models", e));
        }
        // Batteries installed before or after this one add their models and migrations here;
        // the registry is finished at start-up, once all of them have.
        let contributions = setup.shared::<Contributions>();
        let settings: DatabaseSettings = setup.section("database")?;
        let url = settings.url.clone().unwrap_or(self.default_url);
        let sqlite = url.starts_with("sqlite:");
        let embedded = match self.migrations.embedded {
            Some(embedded) => Some(embedded.map_err(|e| {
                turbine_core::Error::other("reading the embedded migrations", Error::Migration(e))
            })?),
            None => None,
        };
        let dir = self.migrations.dir;
        let app_registry = self.registry;
        let auto_migrate = settings.auto_migrate.unwrap_or(self.auto_migrate);
        for command in migrate::commands_from_context() {
            setup.command(command);
        }
        setup.on_startup(move |cx| async move {
            let (registry, base) = contributions.finish(app_registry)?;
            let registry = Arc::new(registry);
            let mut config = MigrationConfig::new(dir, (*registry).clone()).base(base);
            if let Some(set) = embedded {
                config = config.embedded(set);
            }
            let db = Db::connect(&url).await?;
            db.set_registry(registry.clone())?;
            let serving = !matches!(cx.get::<Invocation>(), Some(Invocation::Command(_)));
            if auto_migrate && serving {
                let report = migrate::migrate(
                    &db,
                    &config.set()?,
                    &MigrateOptions::new(),
                    &migrate::Progress::quiet(),
                )
                .await?;
                if !report.applied.is_empty() {
                    tracing::info!(applied = ?report.applied, "applied migrations (database.auto_migrate)");
                }
            }
            cx.insert(Arc::new(config));
            cx.insert(db);
            cx.insert(registry);
            Ok(())
        });
        if let Some(seed) = self.seed {
            setup.command(Command::new(
                clap::Command::new("seed").about("Fill the database with the app's demo data"),
                move |ctx, _args| async move {
                    crate::migrate::require_migrated(&ctx).await?;
                    let db = ctx.require::<Db>()?.clone();
                    db.transaction(seed).await?;
                    println!("Seeded the database.");
                    Ok(())
                },
            ));
        }
        setup.health_check("database", |ctx| async move {
            let db = ctx.get::<Db>().ok_or("not connected")?;
            db.raw("SELECT 1", [])
                .fetch_all()
                .await
                .map(drop)
                .map_err(|_| "the database does not answer".to_string())
        });
        setup.on_shutdown(|ctx| async move {
            if let Some(db) = ctx.get::<Db>() {
                db.close().await;
            }
        });
        setup.system_check(move |scope| {
            let mut out = Vec::new();
            if scope.deploy && sqlite {
                out.push(
                    Finding::warning(
                        "orm.W001",
                        "the database is SQLite: fine for one node, wrong for several",
                    )
                    .hint("run one node, or set database.url to a postgres:// URL"),
                );
            }
            out
        });
        Ok(())
    }
}

/// Models and migrations that other batteries add to the app's database (the auth battery's
/// users, sessions and tokens). A battery takes the shared value while it is installed, before
/// or after the [`Orm`] battery; the ORM reads it when the app starts.
///
/// ```
/// # use turbine_core::battery::Setup;
/// use turbine_orm::battery::Contributions;
/// use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
/// use turbine_orm::migrate::MigrationSet;
///
/// # let config = turbine_core::config::Config::builder().no_file().env_vars::<String, String>([]).load().unwrap();
/// # let mut setup = Setup::new(config);
/// // In a battery's `install`:
/// let orm = setup.shared::<Contributions>();
/// orm.meta(ModelMeta::new("audit", "Entry").field(FieldMeta::auto_id()));
/// orm.migrations(MigrationSet::default().qualified("audit")?);
/// # Ok::<(), turbine_orm::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Contributions(Arc<std::sync::Mutex<Contributed>>);

#[derive(Default)]
struct Contributed {
    metas: Vec<ModelMeta>,
    migrations: Vec<MigrationSet>,
}

impl std::fmt::Debug for Contributions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self.lock();
        f.debug_struct("Contributions")
            .field(
                "models",
                &c.metas.iter().map(|m| m.label()).collect::<Vec<_>>(),
            )
            .field("migrations", &c.migrations.len())
            .finish()
    }
}

impl Contributions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Contributed> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a model defined in Rust.
    pub fn model<M: Model>(&self) -> &Self {
        self.meta(M::meta().clone())
    }

    /// Adds a model from metadata.
    pub fn meta(&self, meta: ModelMeta) -> &Self {
        self.lock().metas.push(meta);
        self
    }

    /// Adds a battery's migrations ([`MigrationSet::qualified`] with the battery's app name),
    /// applied before the app's own, in the order batteries add them.
    pub fn migrations(&self, set: MigrationSet) -> &Self {
        self.lock().migrations.push(set);
        self
    }

    /// The finished registry (the app's models and the batteries') and the batteries'
    /// migrations.
    fn finish(&self, mut app: ModelRegistry) -> crate::Result<(Registry, Vec<MigrationSet>)> {
        let c = self.lock();
        for meta in &c.metas {
            app.register(meta.clone()).map_err(Error::from)?;
        }
        Ok((app.finish().map_err(Error::from)?, c.migrations.clone()))
    }
}

/// The models registered with the [`Orm`] battery, from the context.
pub fn registry(ctx: &Context) -> Option<&Registry> {
    ctx.get::<Arc<Registry>>().map(|r| r.as_ref())
}

/// Why a handler could not get a [`Db`]: the ORM battery is not installed.
#[derive(Debug, Clone, Copy)]
pub struct DbRejection;

impl axum::response::IntoResponse for DbRejection {
    fn into_response(self) -> axum::response::Response {
        tracing::error!("a handler asked for Db but the orm battery is not installed");
        Problem::new(http::StatusCode::INTERNAL_SERVER_ERROR).into_response()
    }
}

impl<S> FromRequestParts<S> for Db
where
    S: Send + Sync,
    Context: FromRef<S>,
{
    type Rejection = DbRejection;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Context::from_ref(state)
            .get::<Db>()
            .cloned()
            .ok_or(DbRejection)
    }
}
