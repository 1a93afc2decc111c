//! Test support: a fresh database per test, with the tables of the given models.
//!
//! SQLite tests get a temporary file; Postgres tests get a new database
//! `turbine_test_<random>` on the server `TURBINE_TEST_POSTGRES_URL` names, dropped afterwards.
//! Without that variable, Postgres tests are skipped with a loud message, unless
//! `TURBINE_REQUIRE_SERVICES=1` (CI), where a missing service is a failure.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> turbine_orm::Result<()> {
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::testing::TestDb;
//!
//! let note = ModelMeta::new("app", "Note")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("body", FieldType::Text));
//! for test_db in TestDb::all_with(&[note]).await? {
//!     test_db.raw("INSERT INTO app_note (body) VALUES ('hi')", []).execute().await?;
//!     test_db.close().await;
//! }
//! # Ok(()) }
//! ```

use std::ops::Deref;

use rand::Rng;

use crate::backend::Dialect;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::meta::ModelMeta;
use crate::schema;

/// The environment variable naming the Postgres server for tests.
pub const POSTGRES_URL_VAR: &str = "TURBINE_TEST_POSTGRES_URL";

/// A database that exists for one test.
pub struct TestDb {
    db: Db,
    name: String,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        database: String,
    },
    /// Dropped already ([`TestDb::close`]).
    Done,
}

/// Drops a Postgres test database (ending its connections).
async fn drop_database(admin_url: &str, database: &str) {
    if let Ok(admin) = Db::connect(admin_url).await {
        let _ = admin
            .batch(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            .await;
        admin.close().await;
    }
}

impl Drop for TestDb {
    /// A test that panics before [`TestDb::close`] still drops its Postgres database: from a
    /// thread of its own, since this may run inside the test's runtime.
    fn drop(&mut self) {
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = std::mem::replace(&mut self.cleanup, Cleanup::Done)
        {
            let cleanup = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_database(&admin_url, &database));
                }
            });
            let _ = cleanup.join();
        }
    }
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("name", &self.name).finish()
    }
}

impl Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

fn required() -> bool {
    std::env::var("TURBINE_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The URL of the Postgres server for tests, or `None` (with a loud message) when none is set.
/// With `TURBINE_REQUIRE_SERVICES=1` a missing URL panics.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => panic!("{POSTGRES_URL_VAR} is not set and TURBINE_REQUIRE_SERVICES=1"),
        _ => {
            // Straight to stderr: `eprintln!` would be captured (and hidden) for a passing test.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!(
                    "\n*** SKIPPED: Postgres part of this test — set {POSTGRES_URL_VAR}=postgres://… to run it ***\n"
                )
                .as_bytes(),
            );
            None
        }
    }
}

fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].rfind('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

impl TestDb {
    /// A fresh SQLite database in a temporary file.
    pub async fn sqlite() -> Result<Self> {
        let dir = tempfile::tempdir().map_err(|e| Error::Config(e.to_string()))?;
        let path = dir.path().join("test.db");
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url).await?;
        Ok(Self {
            db,
            name: "sqlite".into(),
            url,
            cleanup: Cleanup::File(dir),
        })
    }

    /// A fresh Postgres database, or `None` when no server is configured (outside CI).
    pub async fn postgres() -> Result<Option<Self>> {
        let Some(admin_url) = postgres_url() else {
            return Ok(None);
        };
        let database = format!("turbine_test_{:016x}", rand::rng().random::<u64>());
        let admin = Db::connect(&admin_url).await?;
        admin.batch(&format!("CREATE DATABASE {database}")).await?;
        admin.close().await;
        let url = with_database(&admin_url, &database);
        let db = Db::connect(&url).await?;
        Ok(Some(Self {
            db,
            name: "postgres".into(),
            url,
            cleanup: Cleanup::Postgres {
                admin_url,
                database,
            },
        }))
    }

    /// Every backend available: SQLite always, Postgres when configured.
    pub async fn all() -> Result<Vec<Self>> {
        let mut out = vec![Self::sqlite().await?];
        out.extend(Self::postgres().await?);
        Ok(out)
    }

    /// [`all`](Self::all), each with the tables of `models` created.
    pub async fn all_with(models: &[ModelMeta]) -> Result<Vec<Self>> {
        let dbs = Self::all().await?;
        for db in &dbs {
            db.create_tables(models).await?;
        }
        Ok(dbs)
    }

    /// Creates the tables of `models` (in order: targets of foreign keys first).
    pub async fn create_tables(&self, models: &[ModelMeta]) -> Result<()> {
        for model in models {
            for sql in schema::create_model(model, models, self.db.dialect())? {
                self.db.batch(&sql).await?;
            }
        }
        Ok(())
    }

    /// `sqlite` or `postgres`, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database, to open more handles on it (another "node").
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The handle (also reachable through `Deref`).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// Closes the pool and drops the database (Postgres) or the file (SQLite).
    pub async fn close(mut self) {
        self.db.close().await;
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = std::mem::replace(&mut self.cleanup, Cleanup::Done)
        {
            drop_database(&admin_url, &database).await;
        }
    }
}

/// The environment variable that makes [`check_shipped_migrations`] write the missing migration.
pub const WRITE_MIGRATIONS_VAR: &str = "TURBINE_WRITE_MIGRATIONS";

/// For a battery's test: the migration files in `dir` replay to exactly the models of
/// `registry`, so a model change without its migration fails the test. With
/// `TURBINE_WRITE_MIGRATIONS` set, it writes the next migration (and `embed.rs`) instead.
/// `command` is how to run the test, for the failure message.
///
/// ```no_run
/// # fn registry() -> turbine_orm::meta::Registry { unimplemented!() }
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
/// turbine_orm::testing::check_shipped_migrations(&dir, &registry(), "cargo test -p my-battery --test migrations");
/// ```
pub fn check_shipped_migrations(
    dir: &std::path::Path,
    registry: &crate::meta::Registry,
    command: &str,
) {
    use crate::migrate::{self, MigrationSet, Renames};
    let set = MigrationSet::from_dir(dir).expect("the migrations folder reads");
    let ops = migrate::detect(set.state(), registry, &mut Renames::new()).expect("the models diff");
    if ops.is_empty() {
        return;
    }
    if std::env::var_os(WRITE_MIGRATIONS_VAR).is_some() {
        let next = migrate::next_migration(&set, ops, None).expect("a next migration");
        migrate::write(dir, &next).expect("the migration is written");
        migrate::write_embed(dir).expect("embed.rs is written");
        eprintln!("wrote {}", next.name);
        return;
    }
    let described: Vec<String> = ops.iter().map(|o| o.describe()).collect();
    panic!(
        "the models changed without a migration:\n  {}\nrun {WRITE_MIGRATIONS_VAR}=1 {command}",
        described.join("\n  ")
    );
}
