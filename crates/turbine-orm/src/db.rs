//! The database handle: [`Db`], cheap to clone, bound either to the pool or to a transaction.
//!
//! Code that reads or writes takes a `&Db` and never cares which: inside
//! [`Db::transaction`] the closure receives a `Db` bound to the transaction, so the same functions
//! run in or out of one. Nested transactions become savepoints.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> turbine_orm::Result<()> {
//! use turbine_orm::{Db, Error};
//!
//! let db = Db::connect("sqlite::memory:").await?;
//! db.batch("CREATE TABLE t (n INTEGER)").await?;
//! // Err rolls back.
//! let failed: Result<(), Error> = db
//!     .transaction(|tx| async move {
//!         tx.raw("INSERT INTO t (n) VALUES (?)", [1i64.into()]).execute().await?;
//!         Err(Error::Query("changed my mind".into()))
//!     })
//!     .await;
//! assert!(failed.is_err());
//! // Ok commits.
//! db.transaction(|tx| async move {
//!     tx.raw("INSERT INTO t (n) VALUES (?)", [2i64.into()]).execute().await
//! })
//! .await?;
//! let rows = db.raw("SELECT n FROM t", []).fetch_all().await?;
//! assert_eq!(rows.len(), 1);
//! assert_eq!(rows[0].decode::<i64>("n")?, 2);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::FutureExt;
use tokio::sync::Mutex;

use crate::backend::{Backend, Connection, Dialect, EachRow, Statement, TxOptions};
use crate::error::{Error, Result};
use crate::hooks::Hooks;
use crate::meta::Registry;
use crate::value::{Row, Value};

/// A handle on the database: the pool, or one transaction.
#[derive(Clone)]
pub struct Db {
    backend: Engine,
    shared: Arc<Shared>,
    tx: Option<Arc<TxState>>,
}

/// The backend a handle runs on. Postgres is called directly, so a query on the pool allocates
/// no boxed future; any other backend goes through the [`Backend`] trait.
#[derive(Clone)]
enum Engine {
    #[cfg(feature = "postgres")]
    Postgres(Arc<crate::backend::postgres::PgBackend>),
    Dyn(Arc<dyn Backend>),
}

impl Engine {
    fn dynamic(&self) -> &dyn Backend {
        match self {
            #[cfg(feature = "postgres")]
            Engine::Postgres(pg) => &**pg,
            Engine::Dyn(backend) => &**backend,
        }
    }
}

/// State shared by every handle on one database.
struct Shared {
    queries: AtomicU64,
    hooks: Hooks,
    registry: OnceLock<Arc<Registry>>,
}

struct TxState {
    conn: Mutex<Option<Box<dyn Connection>>>,
    depth: usize,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dialect", &self.backend.dynamic().dialect())
            .field("in_transaction", &self.tx.is_some())
            .finish()
    }
}

/// Counts a statement and runs it with `$pool` on the pool (`$pg` on Postgres, called
/// directly), or with `$conn` on the transaction's connection.
macro_rules! run {
    ($db:expr, $pool:ident, $pg:ident, $conn:ident, $($arg:expr),+) => {{
        $db.count();
        match (&$db.tx, &$db.backend) {
            #[cfg(feature = "postgres")]
            (None, Engine::Postgres(pg)) => pg.$pg($($arg),+).await,
            (None, backend) => backend.dynamic().$pool($($arg),+).await,
            (Some(tx), _) => {
                let mut guard = tx.conn.lock().await;
                let conn = guard.as_mut().ok_or(Error::TransactionClosed)?;
                conn.$conn($($arg),+).await
            }
        }
    }};
}

impl Db {
    /// Connects to the database a URL names: `sqlite://path/to/file.db` (created if missing),
    /// `sqlite::memory:`, or `postgres://user@host:port/dbname`.
    pub async fn connect(url: &str) -> Result<Self> {
        let backend = if url.starts_with("sqlite:") {
            #[cfg(feature = "sqlite")]
            {
                Engine::Dyn(Arc::new(
                    crate::backend::sqlite::SqliteBackend::connect(url).await?,
                ))
            }
            #[cfg(not(feature = "sqlite"))]
            return Err(Error::Config(
                "this build has no SQLite backend (feature `sqlite`)".into(),
            ));
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            #[cfg(feature = "postgres")]
            {
                Engine::Postgres(Arc::new(
                    crate::backend::postgres::PgBackend::connect(url).await?,
                ))
            }
            #[cfg(not(feature = "postgres"))]
            return Err(Error::Config(
                "this build has no Postgres backend (feature `postgres`)".into(),
            ));
        } else {
            return Err(Error::Config(format!(
                "unsupported database URL `{}`: use sqlite://path, sqlite::memory: or postgres://…",
                url.split(['@', '?']).next().unwrap_or_default()
            )));
        };
        Ok(Self::on(backend))
    }

    /// A handle on a backend built by hand (a custom backend).
    pub fn from_backend(backend: Arc<dyn Backend>) -> Self {
        Self::on(Engine::Dyn(backend))
    }

    fn on(backend: Engine) -> Self {
        Self {
            backend,
            shared: Arc::new(Shared {
                queries: AtomicU64::new(0),
                hooks: Hooks::default(),
                registry: OnceLock::new(),
            }),
            tx: None,
        }
    }

    /// The SQL flavour.
    pub fn dialect(&self) -> Dialect {
        self.backend.dynamic().dialect()
    }

    /// `true` inside a transaction.
    pub fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// How many statements this database has run, through any handle (for tests that assert
    /// the number of queries, so N+1 cannot come back).
    pub fn query_count(&self) -> u64 {
        self.shared.queries.load(Ordering::Relaxed)
    }

    /// The lifecycle observers (after save, after delete…) that batteries register.
    pub fn hooks(&self) -> &Hooks {
        &self.shared.hooks
    }

    /// Gives every handle on this database the app's models, once (the app does it at start-up).
    /// The ORM reads them for what one model's metadata cannot say: which models point at a
    /// row being deleted (`on_delete = protect`), and explicit many-to-many `through` models.
    pub fn set_registry(&self, registry: Arc<Registry>) -> Result<()> {
        self.shared
            .registry
            .set(registry)
            .map_err(|_| Error::Config("the model registry of this database is already set".into()))
    }

    /// The app's models, if [`set_registry`](Self::set_registry) was called.
    pub fn registry(&self) -> Option<&Registry> {
        self.shared.registry.get().map(|r| &**r)
    }

    /// Runs a query, returning its rows.
    pub async fn fetch(&self, stmt: &Statement) -> Result<Vec<Row>> {
        run!(self, fetch, run_fetch, fetch, stmt)
    }

    /// Runs a query and hands each row to `each` as [`Fields`](crate::value::Fields), decoded straight from the
    /// driver's row where the backend can (the typed models' read path).
    pub(crate) async fn fetch_each(&self, stmt: &Statement, each: &mut EachRow<'_>) -> Result<()> {
        run!(self, fetch_each, run_fetch_each, fetch_each, stmt, each)
    }

    /// Runs a writing statement that returns rows (`INSERT … RETURNING`): on SQLite it must run
    /// on the writer, where [`fetch`](Self::fetch) would use a read-only connection.
    pub async fn fetch_write(&self, stmt: &Statement) -> Result<Vec<Row>> {
        run!(self, fetch_write, run_fetch, fetch, stmt)
    }

    /// Runs a statement, returning the number of rows changed.
    pub async fn execute(&self, stmt: &Statement) -> Result<u64> {
        run!(self, execute, run_execute, execute, stmt)
    }

    /// Runs SQL text without parameters (DDL; may hold several statements). Never put values in
    /// it: use [`raw`](Self::raw) for anything with values.
    pub async fn batch(&self, sql: &str) -> Result<()> {
        run!(self, batch, run_batch, batch, sql)
    }

    /// Raw SQL with bound parameters: `?` placeholders on every backend (on Postgres they
    /// become `$1`, `$2`…; SQL already written with `$n` is left alone).
    pub fn raw(&self, sql: impl Into<String>, values: impl IntoIterator<Item = Value>) -> Raw<'_> {
        let sql = sql.into();
        let sql = match crate::query::raw::placeholders(&sql, self.dialect()) {
            std::borrow::Cow::Borrowed(_) => sql,
            std::borrow::Cow::Owned(converted) => converted,
        };
        Raw {
            db: self,
            stmt: Statement::new(sql, values.into_iter().collect::<crate::backend::Params>()),
        }
    }

    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back on `Err` or panic (the
    /// panic then continues). Inside a transaction, nests with a savepoint.
    pub async fn transaction<F, Fut, T, E>(&self, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        self.transaction_with(TxOptions::default(), f).await
    }

    /// [`transaction`](Self::transaction) with options (Postgres isolation level, read-only).
    pub async fn transaction_with<F, Fut, T, E>(
        &self,
        options: TxOptions,
        f: F,
    ) -> std::result::Result<T, E>
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        let (state, end) = match &self.tx {
            None => {
                let conn = self.backend.dynamic().begin(options).await?;
                self.count();
                let state = Arc::new(TxState {
                    conn: Mutex::new(Some(conn)),
                    depth: 0,
                });
                (state, None)
            }
            Some(outer) => {
                let depth = outer.depth + 1;
                let name = format!("turbine_sp_{depth}");
                self.batch(&format!("SAVEPOINT {name}")).await?;
                let state = Arc::new(TxState {
                    conn: Mutex::new(None),
                    depth,
                });
                // The savepoint shares the outer connection: move it in, move it back after.
                let conn = outer
                    .conn
                    .lock()
                    .await
                    .take()
                    .ok_or(Error::TransactionClosed)?;
                *state.conn.lock().await = Some(conn);
                (state, Some((outer.clone(), name)))
            }
        };
        let inner = Db {
            backend: self.backend.clone(),
            shared: self.shared.clone(),
            tx: Some(state.clone()),
        };
        let outcome = AssertUnwindSafe(f(inner)).catch_unwind().await;
        let commit = matches!(outcome, Ok(Ok(_)));
        let mut conn = state
            .conn
            .lock()
            .await
            .take()
            .ok_or(Error::TransactionClosed)?;
        self.count();
        let finish = match (&end, commit) {
            (None, true) => conn.commit().await,
            (None, false) => conn.rollback().await,
            (Some((_, sp)), true) => conn.batch(&format!("RELEASE SAVEPOINT {sp}")).await,
            (Some((_, sp)), false) => {
                conn.batch(&format!(
                    "ROLLBACK TO SAVEPOINT {sp}; RELEASE SAVEPOINT {sp}"
                ))
                .await
            }
        };
        if let Some((outer, _)) = end {
            *outer.conn.lock().await = Some(conn);
        }
        match outcome {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(result) => {
                finish?;
                result
            }
        }
    }

    /// Closes the pool (waits for checked-out connections to come back).
    pub async fn close(&self) {
        self.backend.dynamic().close().await;
    }

    fn count(&self) {
        self.shared.queries.fetch_add(1, Ordering::Relaxed);
    }
}

/// A raw SQL statement with bound parameters, from [`Db::raw`].
#[derive(Debug)]
#[must_use = "a raw statement does nothing until fetched or executed"]
pub struct Raw<'a> {
    db: &'a Db,
    stmt: Statement,
}

impl Raw<'_> {
    /// Runs it and returns the rows. A statement that does not start with `SELECT` or `WITH`
    /// (`INSERT … RETURNING`, `PRAGMA`…) runs on a connection that may write.
    pub async fn fetch_all(self) -> Result<Vec<Row>> {
        if is_read(&self.stmt.sql) {
            self.db.fetch(&self.stmt).await
        } else {
            self.db.fetch_write(&self.stmt).await
        }
    }

    /// Runs it and returns the first row, if any.
    pub async fn fetch_optional(self) -> Result<Option<Row>> {
        Ok(self.fetch_all().await?.into_iter().next())
    }

    /// Runs it and returns the number of rows changed.
    pub async fn execute(self) -> Result<u64> {
        self.db.execute(&self.stmt).await
    }
}

/// `true` for SQL that only reads (starts with `SELECT` or `WITH`).
fn is_read(sql: &str) -> bool {
    let head: String = sql
        .trim_start()
        .chars()
        .take(6)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    head.starts_with("SELECT") || head.starts_with("WITH")
}
