//! Database backends behind one trait, chosen by the database URL.
//!
//! A [`Backend`] runs [`Statement`]s (SQL with bound [`Value`]s, built by sea-query) on a pool and
//! opens [`Connection`]s for transactions. SQLite (`sqlite://path`, `sqlite::memory:`) and
//! PostgreSQL (`postgres://…`) ship with the ORM; another database (MySQL) implements the same
//! two traits and its [`Dialect`] picks the SQL flavour.

use futures_util::future::BoxFuture;
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

use crate::error::Result;
use std::sync::Arc;

use crate::error::Error;
use crate::value::{Fields, Row, Value, Values};

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

/// The SQL flavour of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite 3.35+.
    Sqlite,
    /// PostgreSQL 13+.
    Postgres,
}

impl Dialect {
    /// Renders a sea-query statement with placeholders for this dialect.
    pub fn build<S: sea_query::QueryStatementWriter>(self, stmt: &S) -> Statement {
        let (sql, values) = match self {
            Dialect::Sqlite => stmt.build(SqliteQueryBuilder),
            Dialect::Postgres => stmt.build(PostgresQueryBuilder),
        };
        Statement::new(sql, values.0)
    }

    /// Renders a sea-query schema statement (DDL) for this dialect.
    pub fn build_schema<S: sea_query::SchemaStatementBuilder>(self, stmt: &S) -> String {
        match self {
            Dialect::Sqlite => stmt.to_string(SqliteQueryBuilder),
            Dialect::Postgres => stmt.to_string(PostgresQueryBuilder),
        }
    }

    /// The name used in migration files and messages: `sqlite`, `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// SQL text plus the values bound to its placeholders (never spliced into the text).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL, with `?` (SQLite) or `$n` (Postgres) placeholders: built for this statement, or
    /// borrowed from SQL rendered once per process (the typed models' hot statements), which
    /// then costs no copy per query.
    pub sql: std::borrow::Cow<'static, str>,
    /// The bound values.
    pub values: Params,
}

/// The values bound to a statement: up to four inline, so the usual query (a key, a filter or
/// two) allocates nothing for them. Built from a `Vec<Value>` with `.into()`, or with
/// [`smallvec::smallvec!`].
pub type Params = smallvec::SmallVec<[Value; 4]>;

impl Statement {
    /// A statement.
    pub fn new(sql: impl Into<std::borrow::Cow<'static, str>>, values: impl Into<Params>) -> Self {
        Self {
            sql: sql.into(),
            values: values.into(),
        }
    }
}

/// Options for a transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TxOptions {
    /// Postgres isolation level (SQLite transactions are always serializable).
    pub isolation: Option<Isolation>,
    /// A read-only transaction (on SQLite: runs on a reader connection with a deferred `BEGIN`).
    pub read_only: bool,
}

/// Transaction isolation levels (Postgres).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// `READ COMMITTED` (Postgres' default).
    ReadCommitted,
    /// `REPEATABLE READ`.
    RepeatableRead,
    /// `SERIALIZABLE`.
    Serializable,
}

/// What [`Backend::fetch_each`] calls with each row of a result.
pub type EachRow<'a> = dyn FnMut(&mut Fields<'_>) -> Result<()> + Send + 'a;

/// Runs a query through `fetch` and hands each [`Row`] to `each`: the default typed read path
/// of a backend that does not decode from its driver's rows directly.
async fn each_of_rows(rows: Result<Vec<Row>>, each: &mut EachRow<'_>) -> Result<()> {
    for row in rows? {
        each(&mut row.into_fields())?;
    }
    Ok(())
}

/// One connection, checked out of a backend's pool, inside a transaction.
pub trait Connection: Send {
    /// Runs a query and returns its rows.
    fn fetch<'a>(&'a mut self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>>;
    /// Runs a query and hands each row to `each` as [`Fields`] (see [`Backend::fetch_each`]).
    fn fetch_each<'a>(
        &'a mut self,
        stmt: &'a Statement,
        each: &'a mut EachRow<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { each_of_rows(self.fetch(stmt).await, each).await })
    }
    /// Runs a statement and returns the number of rows it changed.
    fn execute<'a>(&'a mut self, stmt: &'a Statement) -> BoxFuture<'a, Result<u64>>;
    /// Runs SQL text without parameters (savepoints, DDL; may hold several statements).
    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>>;
    /// Commits the transaction; the connection then goes back to the pool when dropped.
    fn commit(&mut self) -> BoxFuture<'_, Result<()>>;
    /// Rolls the transaction back.
    fn rollback(&mut self) -> BoxFuture<'_, Result<()>>;
}

/// A database: a pool of connections of one dialect.
pub trait Backend: Send + Sync + 'static {
    /// The SQL flavour.
    fn dialect(&self) -> Dialect;
    /// Runs a query on any connection (a reader, on SQLite).
    fn fetch<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>>;
    /// Runs a query like [`fetch`](Self::fetch) and hands each row to `each` as [`Fields`],
    /// which typed models decode from. The default builds the [`Row`]s first; a backend may
    /// instead read its driver's rows in place ([`Fields::from_columns`]), with no value per
    /// column kept and no column names allocated.
    fn fetch_each<'a>(
        &'a self,
        stmt: &'a Statement,
        each: &'a mut EachRow<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { each_of_rows(self.fetch(stmt).await, each).await })
    }
    /// Runs a writing statement that returns rows (`INSERT … RETURNING`), on a connection that
    /// may write (the writer, on SQLite).
    fn fetch_write<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>>;
    /// Runs a writing statement (on the writer, on SQLite).
    fn execute<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<u64>>;
    /// Runs SQL text without parameters on a writing connection (DDL, several statements).
    fn batch<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<()>>;
    /// Checks out a connection and begins a transaction on it (`BEGIN IMMEDIATE` on SQLite
    /// unless read-only; the isolation level on Postgres). Dropping the connection without
    /// [`Connection::commit`] or [`Connection::rollback`] closes it, so the database rolls back
    /// and no half-finished transaction returns to the pool.
    fn begin(&self, options: TxOptions) -> BoxFuture<'_, Result<Box<dyn Connection>>>;
    /// Closes the pool.
    fn close(&self) -> BoxFuture<'_, ()>;
}

/// Builds [`Row`]s from a driver's rows: `decode(row, i)` reads column `i`; a failure becomes
/// [`Error::Decode`] naming the column.
#[cfg(feature = "sqlite")]
pub(crate) fn decode_rows<R, E: std::fmt::Display>(
    rows: &[R],
    columns: Arc<[String]>,
    decode: impl Fn(&R, usize) -> std::result::Result<Value, E>,
) -> Result<Vec<Row>> {
    rows.iter()
        .map(|row| decode_row(row, &columns, &decode))
        .collect()
}

/// Builds one [`Row`] from a driver's row: `decode(row, i)` reads column `i`; a failure becomes
/// [`Error::Decode`] naming the column.
pub(crate) fn decode_row<R, E: std::fmt::Display>(
    row: &R,
    columns: &Arc<[String]>,
    decode: impl Fn(&R, usize) -> std::result::Result<Value, E>,
) -> Result<Row> {
    let mut values = Values::with_capacity(columns.len());
    for i in 0..columns.len() {
        values.push(decode(row, i).map_err(|e| Error::Decode {
            field: columns[i].clone(),
            message: e.to_string(),
        })?);
    }
    Ok(Row::from_values(columns.clone(), values))
}
