//! The embedded SQLite backend (sqlx): one writer connection and a pool of readers on a WAL
//! database file, created if missing, with `synchronous = NORMAL`, a busy timeout and foreign
//! keys on. Write transactions start with `BEGIN IMMEDIATE`, so they queue for the write lock
//! up front instead of failing half-way.
//!
//! Values are stored as SQLite's own types: booleans as integers, timestamps as fixed-width UTC
//! text (`2026-12-01T06:12:00.000000Z`, so text order is time order), UUIDs as hyphenated text,
//! decimals as text (exact; compare them in Rust, not in SQL), JSON as text.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> turbine_orm::Result<()> {
//! let dir = tempfile::tempdir().unwrap();
//! let db = turbine_orm::Db::connect(&format!("sqlite://{}/app.db", dir.path().display())).await?;
//! let rows = db.raw("PRAGMA journal_mode", []).fetch_all().await?;
//! assert_eq!(rows[0].decode::<String>("journal_mode")?, "wal");
//! # Ok(()) }
//! ```

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments, AssertSqlSafe, Column, Row as _, Sqlite, TypeInfo, ValueRef};

use super::{Backend, Connection, Dialect, Statement, TxOptions};
use crate::error::{Error, Result};
use crate::value::{DATETIME_TEXT_FORMAT, Row, Value, is_null};

/// A SQLite database.
#[derive(Debug)]
pub struct SqliteBackend {
    writer: SqlitePool,
    readers: Arc<Readers>,
}

/// The read-only connections, replaced after a schema change: sqlx caches each statement's
/// columns per connection, and a `SELECT *` prepared before an `ALTER TABLE` would read past them.
#[derive(Debug)]
struct Readers {
    /// `None` for an in-memory database, which only the writer connection can see.
    pool: std::sync::RwLock<Option<SqlitePool>>,
    options: SqliteConnectOptions,
    size: u32,
}

impl Readers {
    fn get(&self) -> Option<SqlitePool> {
        self.pool.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// New connections for the next reads; the old pool closes once its reads are done.
    fn renew(&self) {
        let mut pool = self.pool.write().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = pool.take() {
            *pool = Some(reader_pool(self.size).connect_lazy_with(self.options.clone()));
            tokio::spawn(async move { old.close().await });
        }
    }
}

fn reader_pool(size: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(30))
}

/// `true` for SQL that may change the schema (after which cached statements are stale).
fn changes_schema(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    ["CREATE ", "ALTER ", "DROP "]
        .iter()
        .any(|k| upper.contains(k))
}

/// Runs parameterless SQL on `conn`; after a schema change, forgets its cached statements and
/// renews the readers.
async fn batch_changing(
    conn: &mut sqlx::SqliteConnection,
    readers: &Readers,
    sql: &str,
) -> Result<()> {
    batch_on(&mut *conn, sql).await?;
    if changes_schema(sql) {
        sqlx::Connection::clear_cached_statements(conn)
            .await
            .map_err(map_error)?;
        readers.renew();
    }
    Ok(())
}

impl SqliteBackend {
    /// Opens (creating if missing) the database a `sqlite://path` or `sqlite::memory:` URL names.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid SQLite URL `{url}`: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(|e| Error::Connect(e.into()))?;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let size = (cpus * 2).max(4) as u32;
        let reader_options = options.read_only(true);
        let pool = if memory {
            None
        } else {
            Some(
                reader_pool(size)
                    .connect_with(reader_options.clone())
                    .await
                    .map_err(|e| Error::Connect(e.into()))?,
            )
        };
        let readers = Arc::new(Readers {
            pool: std::sync::RwLock::new(pool),
            options: reader_options,
            size,
        });
        Ok(Self { writer, readers })
    }
}

/// Converts a value to what SQLite stores.
fn bind(args: &mut SqliteArguments, value: &Value) -> Result<()> {
    let result = if is_null(value) {
        args.add(Option::<i64>::None)
    } else {
        match value {
            Value::Bool(Some(b)) => args.add(i64::from(*b)),
            Value::TinyInt(Some(i)) => args.add(i64::from(*i)),
            Value::SmallInt(Some(i)) => args.add(i64::from(*i)),
            Value::Int(Some(i)) => args.add(i64::from(*i)),
            Value::BigInt(Some(i)) => args.add(*i),
            Value::TinyUnsigned(Some(i)) => args.add(i64::from(*i)),
            Value::SmallUnsigned(Some(i)) => args.add(i64::from(*i)),
            Value::Unsigned(Some(i)) => args.add(i64::from(*i)),
            Value::BigUnsigned(Some(i)) => args.add(
                i64::try_from(*i).map_err(|_| Error::Query(format!("{i} does not fit SQLite")))?,
            ),
            Value::Float(Some(f)) => args.add(f64::from(*f)),
            Value::Double(Some(f)) => args.add(*f),
            Value::String(Some(s)) => args.add(s.clone()),
            Value::Char(Some(c)) => args.add(c.to_string()),
            Value::Bytes(Some(b)) => args.add(b.clone()),
            Value::Json(Some(j)) => args.add(j.to_string()),
            Value::ChronoDate(Some(d)) => args.add(d.format("%Y-%m-%d").to_string()),
            Value::ChronoTime(Some(t)) => args.add(t.format("%H:%M:%S%.6f").to_string()),
            Value::ChronoDateTime(Some(t)) => {
                args.add(t.and_utc().format(DATETIME_TEXT_FORMAT).to_string())
            }
            Value::ChronoDateTimeUtc(Some(t)) => {
                args.add(t.format(DATETIME_TEXT_FORMAT).to_string())
            }
            Value::ChronoDateTimeLocal(Some(t)) => args.add(
                t.with_timezone(&chrono::Utc)
                    .format(DATETIME_TEXT_FORMAT)
                    .to_string(),
            ),
            Value::ChronoDateTimeWithTimeZone(Some(t)) => args.add(
                t.with_timezone(&chrono::Utc)
                    .format(DATETIME_TEXT_FORMAT)
                    .to_string(),
            ),
            Value::Uuid(Some(u)) => args.add(u.hyphenated().to_string()),
            Value::Decimal(Some(d)) => args.add(d.to_string()),
            other => return Err(Error::Query(format!("SQLite cannot store {other:?}"))),
        }
    };
    result.map_err(|e| Error::Query(e.to_string()))
}

fn arguments(stmt: &Statement) -> Result<SqliteArguments> {
    let mut args = SqliteArguments::default();
    args.reserve(stmt.values.len(), 0);
    for value in &stmt.values {
        bind(&mut args, value)?;
    }
    Ok(args)
}

/// Maps a driver error: constraint failures become typed errors naming the columns.
fn map_error(err: sqlx::Error) -> Error {
    let sqlx::Error::Database(db) = &err else {
        return match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Error::Connect(err.into())
            }
            other => Error::database(other),
        };
    };
    let message = db.message().to_string();
    // "UNIQUE constraint failed: blog_post.author_id, blog_post.slug"
    let after = |prefix: &str| message.strip_prefix(prefix).map(str::trim);
    let split = |list: &str| -> (String, Vec<String>) {
        let mut table = String::new();
        let fields = list
            .split(", ")
            .map(|tc| match tc.split_once('.') {
                Some((t, c)) => {
                    table = t.to_string();
                    c.to_string()
                }
                None => tc.to_string(),
            })
            .collect();
        (table, fields)
    };
    if let Some(list) = after("UNIQUE constraint failed:") {
        let (table, fields) = split(list);
        Error::UniqueViolation {
            table,
            fields,
            constraint: None,
        }
    } else if let Some(list) = after("NOT NULL constraint failed:") {
        let (table, mut fields) = split(list);
        Error::NotNullViolation {
            table,
            field: fields.pop().unwrap_or_default(),
        }
    } else if message.starts_with("FOREIGN KEY constraint failed") {
        Error::ForeignKeyViolation {
            table: String::new(),
            field: None,
            constraint: None,
        }
    } else if let Some(name) = after("CHECK constraint failed:") {
        Error::CheckViolation {
            table: String::new(),
            constraint: name.to_string(),
        }
    } else {
        Error::database(err)
    }
}

fn decode_value(row: &SqliteRow, i: usize) -> std::result::Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::String(None));
    }
    let kind = raw.type_info().name().to_ascii_uppercase();
    Ok(match kind.as_str() {
        "INTEGER" | "INT" | "BIGINT" | "BOOLEAN" => Value::BigInt(Some(row.try_get(i)?)),
        "REAL" | "DOUBLE" | "FLOAT" | "NUMERIC" => Value::Double(Some(row.try_get(i)?)),
        "BLOB" => Value::Bytes(Some(row.try_get(i)?)),
        _ => Value::String(Some(row.try_get(i)?)),
    })
}

fn decode_rows(rows: Vec<SqliteRow>) -> Result<Vec<Row>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    super::decode_rows(&rows, columns, decode_value)
}

async fn fetch_on<'c, E>(executor: E, stmt: &Statement) -> Result<Vec<Row>>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    let rows = sqlx::query_with(AssertSqlSafe(&*stmt.sql), arguments(stmt)?)
        .fetch_all(executor)
        .await
        .map_err(map_error)?;
    decode_rows(rows)
}

async fn execute_on<'c, E>(executor: E, stmt: &Statement) -> Result<u64>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    Ok(
        sqlx::query_with(AssertSqlSafe(&*stmt.sql), arguments(stmt)?)
            .execute(executor)
            .await
            .map_err(map_error)?
            .rows_affected(),
    )
}

async fn batch_on<'c, E>(executor: E, sql: &str) -> Result<()>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(executor)
        .await
        .map(drop)
        .map_err(map_error)
}

impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn fetch<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(async move {
            match self.readers.get() {
                Some(readers) => fetch_on(&readers, stmt).await,
                None => fetch_on(&self.writer, stmt).await,
            }
        })
    }

    fn fetch_write<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(fetch_on(&self.writer, stmt))
    }

    fn execute<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<u64>> {
        Box::pin(execute_on(&self.writer, stmt))
    }

    fn batch<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut conn = self.writer.acquire().await.map_err(map_error)?;
            batch_changing(&mut conn, &self.readers, sql).await
        })
    }

    fn begin(&self, options: TxOptions) -> BoxFuture<'_, Result<Box<dyn Connection>>> {
        Box::pin(async move {
            let (pool, begin) = match (self.readers.get(), options.read_only) {
                (Some(readers), true) => (readers, "BEGIN"),
                _ => (self.writer.clone(), "BEGIN IMMEDIATE"),
            };
            let mut conn = pool.acquire().await.map_err(map_error)?;
            batch_on(&mut *conn, begin).await?;
            Ok(Box::new(SqliteConnection {
                conn: Some(conn),
                readers: self.readers.clone(),
            }) as Box<dyn Connection>)
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(readers) = self.readers.get() {
                readers.close().await;
            }
            self.writer.close().await;
        })
    }
}

/// A pooled connection inside a transaction.
struct SqliteConnection {
    /// `None` once committed or rolled back.
    conn: Option<PoolConnection<Sqlite>>,
    readers: Arc<Readers>,
}

impl SqliteConnection {
    fn conn(&mut self) -> Result<&mut PoolConnection<Sqlite>> {
        self.conn.as_mut().ok_or(Error::TransactionClosed)
    }

    async fn end(&mut self, sql: &str) -> Result<()> {
        batch_on(&mut **self.conn()?, sql).await?;
        self.conn = None;
        Ok(())
    }
}

impl Drop for SqliteConnection {
    fn drop(&mut self) {
        // Still in a transaction (the future was cancelled): roll back before the connection
        // goes back to the pool; without a runtime, close it (SQLite then rolls back).
        if let Some(mut conn) = self.conn.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    handle.spawn(async move {
                        if batch_on(&mut *conn, "ROLLBACK").await.is_err() {
                            conn.close_on_drop();
                        }
                    });
                }
                Err(_) => conn.close_on_drop(),
            }
        }
    }
}

impl Connection for SqliteConnection {
    fn fetch<'a>(&'a mut self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(async move { fetch_on(&mut **self.conn()?, stmt).await })
    }

    fn execute<'a>(&'a mut self, stmt: &'a Statement) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move { execute_on(&mut **self.conn()?, stmt).await })
    }

    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let readers = self.readers.clone();
            batch_changing(&mut **self.conn()?, &readers, sql).await
        })
    }

    fn commit(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.end("COMMIT"))
    }

    fn rollback(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.end("ROLLBACK"))
    }
}
