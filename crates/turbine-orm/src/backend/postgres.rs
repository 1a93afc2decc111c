//! The PostgreSQL backend: tokio-postgres through a deadpool pool, every statement prepared
//! once per connection (typed from the bound values) and cached.
//!
//! URL: `postgres://user:password@host:port/dbname`, plus Turbine's own `pool_size=N` query
//! parameter (default: 4 per CPU, at least 8). Queries issued concurrently on one connection
//! are pipelined by tokio-postgres.
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> turbine_orm::Result<()> {
//! let db = turbine_orm::Db::connect("postgres://postgres@127.0.0.1:5432/postgres?pool_size=16").await?;
//! let rows = db.raw("SELECT $1::int8 + 1 AS n", [41i64.into()]).fetch_all().await?;
//! assert_eq!(rows[0].decode::<i64>("n")?, 42);
//! # Ok(()) }
//! ```

use std::str::FromStr;
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures_util::future::BoxFuture;
use sea_query_postgres::PostgresValue;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};

use super::{Backend, Connection, Dialect, EachRow, Isolation, Statement, TxOptions};
use crate::error::{Error, Result};
use crate::value::{Columns, Fields, Row, Value};

/// A PostgreSQL database.
pub struct PgBackend {
    pool: Pool,
    /// Connections shared by every statement outside a transaction, taken round-robin:
    /// statements issued together on one connection are pipelined by tokio-postgres (one
    /// write and one read for many queries) instead of each taking a pooled connection.
    shared: Vec<std::sync::RwLock<Option<Arc<Object>>>>,
    next: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend")
            .field("max_size", &self.pool.status().max_size)
            .finish()
    }
}

fn split_options(url: &str) -> Result<(String, Option<usize>)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), None));
    };
    let mut pool_size = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("pool_size", n)) => {
                pool_size = Some(n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Error::Config(format!("pool_size must be a positive number, not `{n}`"))
                })?)
            }
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, pool_size))
}

impl PgBackend {
    /// Connects (and checks that one connection can be opened).
    pub async fn connect(url: &str) -> Result<Self> {
        let (url, pool_size) = split_options(url)?;
        let config = tokio_postgres::Config::from_str(&url)
            .map_err(|e| Error::Config(format!("invalid Postgres URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = Pool::builder(manager)
            .max_size(pool_size.unwrap_or((cpus * 4).max(8)))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(30)))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        drop(pool.get().await.map_err(|e| Error::Connect(e.into()))?);
        // A quarter of the pool (at least one, at most 8) is shared; the rest serves
        // transactions.
        let size = pool.status().max_size;
        let mut shared = Vec::new();
        for _ in 0..(size / 4).clamp(1, 8) {
            let conn = pool.get().await.map_err(|e| Error::Connect(e.into()))?;
            shared.push(std::sync::RwLock::new(Some(Arc::new(conn))));
        }
        Ok(Self {
            pool,
            shared,
            next: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The next shared connection; a closed one (the server restarted) is replaced first.
    async fn shared(&self) -> Result<Arc<Object>> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.shared.len();
        let slot = &self.shared[i];
        let conn = slot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| Error::Connect("the database pool is closed".into()))?;
        if !conn.is_closed() {
            return Ok(conn);
        }
        let fresh = Arc::new(self.conn().await?);
        *slot.write().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        // The closed connection leaves the pool instead of coming back to it.
        if let Ok(old) = Arc::try_unwrap(conn) {
            drop(Object::take(old));
        }
        Ok(fresh)
    }

    async fn conn(&self) -> Result<Object> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => map_error(e),
            other => Error::Connect(other.into()),
        })
    }
}

/// The parameter type Postgres should prepare for a value.
fn pg_type(value: &Value) -> Type {
    match value {
        Value::Bool(_) => Type::BOOL,
        Value::TinyInt(_) | Value::SmallInt(_) => Type::INT2,
        Value::Int(_) => Type::INT4,
        Value::BigInt(_) => Type::INT8,
        Value::TinyUnsigned(_) | Value::SmallUnsigned(_) => Type::INT4,
        Value::Unsigned(_) | Value::BigUnsigned(_) => Type::INT8,
        Value::Float(_) => Type::FLOAT4,
        Value::Double(_) => Type::FLOAT8,
        Value::String(_) | Value::Char(_) => Type::TEXT,
        Value::Bytes(_) => Type::BYTEA,
        Value::Json(_) => Type::JSONB,
        Value::ChronoDate(_) => Type::DATE,
        Value::ChronoTime(_) => Type::TIME,
        Value::ChronoDateTime(_) => Type::TIMESTAMP,
        Value::ChronoDateTimeUtc(_)
        | Value::ChronoDateTimeLocal(_)
        | Value::ChronoDateTimeWithTimeZone(_) => Type::TIMESTAMPTZ,
        Value::Uuid(_) => Type::UUID,
        Value::Decimal(_) => Type::NUMERIC,
        _ => Type::UNKNOWN,
    }
}

/// Maps a driver error: constraint failures become typed errors naming the columns (never the
/// values), anything else stays a database error for the logs.
fn map_error(err: tokio_postgres::Error) -> Error {
    let Some(db) = err.as_db_error() else {
        return if err.is_closed() {
            Error::Connect(err.into())
        } else {
            Error::database(err)
        };
    };
    let table = db.table().unwrap_or_default().to_string();
    let code = db.code();
    if *code == SqlState::UNIQUE_VIOLATION {
        Error::UniqueViolation {
            table,
            fields: key_columns(db.detail()),
            constraint: db.constraint().map(str::to_string),
        }
    } else if *code == SqlState::NOT_NULL_VIOLATION {
        Error::NotNullViolation {
            table,
            field: db.column().unwrap_or_default().to_string(),
        }
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        Error::ForeignKeyViolation {
            table,
            field: key_columns(db.detail()).into_iter().next(),
            constraint: db.constraint().map(str::to_string),
        }
    } else if *code == SqlState::CHECK_VIOLATION {
        Error::CheckViolation {
            table,
            constraint: db.constraint().unwrap_or_default().to_string(),
        }
    } else {
        Error::database(err)
    }
}

/// The column names of a `Key (a, b)=(…) …` detail line.
fn key_columns(detail: Option<&str>) -> Vec<String> {
    detail
        .and_then(|d| d.strip_prefix("Key ("))
        .and_then(|d| d.split_once(")="))
        .map(|(cols, _)| {
            cols.split(", ")
                .map(|c| c.trim_matches('"').to_string())
                .collect()
        })
        .unwrap_or_default()
}

type Decoder = fn(&tokio_postgres::Row, usize) -> std::result::Result<Value, tokio_postgres::Error>;

macro_rules! decoder {
    ($t:ty, $variant:ident) => {
        |row: &tokio_postgres::Row, i: usize| row.try_get::<_, Option<$t>>(i).map(Value::$variant)
    };
}

fn decoder(ty: &Type) -> Decoder {
    match *ty {
        Type::BOOL => decoder!(bool, Bool),
        Type::INT2 => decoder!(i16, SmallInt),
        Type::INT4 => decoder!(i32, Int),
        Type::INT8 => decoder!(i64, BigInt),
        Type::OID => |row, i| row.try_get::<_, Option<u32>>(i).map(Value::Unsigned),
        Type::FLOAT4 => decoder!(f32, Float),
        Type::FLOAT8 => decoder!(f64, Double),
        Type::NUMERIC => decoder!(rust_decimal::Decimal, Decimal),
        Type::BYTEA => decoder!(Vec<u8>, Bytes),
        Type::UUID => decoder!(uuid::Uuid, Uuid),
        Type::DATE => decoder!(chrono::NaiveDate, ChronoDate),
        Type::TIME => decoder!(chrono::NaiveTime, ChronoTime),
        Type::TIMESTAMP => decoder!(chrono::NaiveDateTime, ChronoDateTime),
        Type::TIMESTAMPTZ => decoder!(chrono::DateTime<chrono::Utc>, ChronoDateTimeUtc),
        Type::JSON | Type::JSONB => |row, i| {
            row.try_get::<_, Option<serde_json::Value>>(i)
                .map(|v| Value::Json(v.map(Box::new)))
        },
        _ => decoder!(String, String),
    }
}

fn decode_rows(rows: Vec<tokio_postgres::Row>) -> Result<Vec<Row>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let decoders: Vec<Decoder> = first.columns().iter().map(|c| decoder(c.type_())).collect();
    super::decode_rows(&rows, columns, |row, i| decoders[i](row, i))
}

/// Typed getters of [`PgColumns`]: the driver's own decoding when the column's type is the
/// field's, else the value path (which widens `int2` into `i32`, for one).
macro_rules! typed_getters {
    ($($getter:ident => $t:ty,)*) => {$(
        fn $getter(&self, i: usize) -> std::result::Result<Option<$t>, String> {
            match self.row.try_get::<_, Option<$t>>(i) {
                Ok(v) => Ok(v),
                Err(_) => <Option<$t> as crate::value::FieldValue>::from_value(self.value(i)?),
            }
        }
    )*};
}

/// A tokio-postgres row read in place, each column by the decoder of its type.
struct PgColumns<'r> {
    row: &'r tokio_postgres::Row,
    decoders: &'r [Decoder],
}

impl Columns for PgColumns<'_> {
    fn len(&self) -> usize {
        self.decoders.len()
    }

    fn name(&self, i: usize) -> &str {
        self.row.columns()[i].name()
    }

    fn value(&self, i: usize) -> std::result::Result<Value, String> {
        self.decoders[i](self.row, i).map_err(|e| e.to_string())
    }

    typed_getters! {
        bool => bool,
        i16 => i16,
        i32 => i32,
        i64 => i64,
        f32 => f32,
        f64 => f64,
        string => String,
    }
}

/// Hands each row to `each`, decoded in place (no [`Row`] of values, no column names).
fn each_row(rows: &[tokio_postgres::Row], each: &mut EachRow<'_>) -> Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let decoders: smallvec::SmallVec<[Decoder; 8]> =
        first.columns().iter().map(|c| decoder(c.type_())).collect();
    for row in rows {
        each(&mut Fields::from_columns(&PgColumns {
            row,
            decoders: &decoders,
        }))?;
    }
    Ok(())
}

async fn prepare(
    client: &Object,
    stmt: &Statement,
    types: &[Type],
) -> Result<tokio_postgres::Statement> {
    client
        .prepare_typed_cached(&stmt.sql, types)
        .await
        .map_err(map_error)
}

/// A statement's parameters (inline up to 8: no allocation for the usual query).
type Params = smallvec::SmallVec<[PostgresValue; 8]>;

fn params(stmt: &Statement) -> Params {
    stmt.values.iter().cloned().map(PostgresValue).collect()
}

fn refs(params: &[PostgresValue]) -> smallvec::SmallVec<[&(dyn ToSql + Sync); 8]> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A cached statement whose result columns changed under it (a migration altered the table):
/// Postgres refuses it until it is prepared again.
fn is_stale_plan(err: &tokio_postgres::Error) -> bool {
    err.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::FEATURE_NOT_SUPPORTED && db.message().contains("cached plan")
    })
}

/// Runs `run` with the prepared statement; prepares it again once if its plan went stale.
async fn with_statement<T, F, Fut>(client: &Object, stmt: &Statement, run: F) -> Result<T>
where
    F: Fn(tokio_postgres::Statement, Params) -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
{
    let types: smallvec::SmallVec<[Type; 8]> = stmt.values.iter().map(pg_type).collect();
    let prepared = prepare(client, stmt, &types).await?;
    match run(prepared, params(stmt)).await {
        Err(e) if is_stale_plan(&e) => {
            client.statement_cache.remove(&stmt.sql, &types);
            let prepared = prepare(client, stmt, &types).await?;
            run(prepared, params(stmt)).await.map_err(map_error)
        }
        other => other.map_err(map_error),
    }
}

/// The driver's rows of a query.
async fn query_on(client: &Object, stmt: &Statement) -> Result<Vec<tokio_postgres::Row>> {
    with_statement(client, stmt, |prepared, params| async move {
        client.query(&prepared, &refs(&params)).await
    })
    .await
}

async fn fetch_on(client: &Object, stmt: &Statement) -> Result<Vec<Row>> {
    decode_rows(query_on(client, stmt).await?)
}

async fn fetch_each_on(client: &Object, stmt: &Statement, each: &mut EachRow<'_>) -> Result<()> {
    each_row(&query_on(client, stmt).await?, each)
}

async fn execute_on(client: &Object, stmt: &Statement) -> Result<u64> {
    with_statement(client, stmt, |prepared, params| async move {
        client.execute(&prepared, &refs(&params)).await
    })
    .await
}

impl Backend for PgBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn fetch<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(async move { fetch_on(&*self.shared().await?, stmt).await })
    }

    fn fetch_each<'a>(
        &'a self,
        stmt: &'a Statement,
        each: &'a mut EachRow<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { fetch_each_on(&*self.shared().await?, stmt, each).await })
    }

    fn fetch_write<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>> {
        self.fetch(stmt)
    }

    fn execute<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move { execute_on(&*self.shared().await?, stmt).await })
    }

    fn batch<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.conn()
                .await?
                .batch_execute(sql)
                .await
                .map_err(map_error)
        })
    }

    fn begin(&self, options: TxOptions) -> BoxFuture<'_, Result<Box<dyn Connection>>> {
        Box::pin(async move {
            let client = self.conn().await?;
            let mut begin = String::from("BEGIN");
            if let Some(level) = options.isolation {
                begin.push_str(match level {
                    Isolation::ReadCommitted => " ISOLATION LEVEL READ COMMITTED",
                    Isolation::RepeatableRead => " ISOLATION LEVEL REPEATABLE READ",
                    Isolation::Serializable => " ISOLATION LEVEL SERIALIZABLE",
                });
            }
            if options.read_only {
                begin.push_str(" READ ONLY");
            }
            client.batch_execute(&begin).await.map_err(map_error)?;
            Ok(Box::new(PgConnection {
                client: Some(client),
            }) as Box<dyn Connection>)
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            for slot in &self.shared {
                slot.write().unwrap_or_else(|p| p.into_inner()).take();
            }
            self.pool.close()
        })
    }
}

/// A pooled connection inside a transaction.
struct PgConnection {
    /// `None` once committed or rolled back.
    client: Option<Object>,
}

impl PgConnection {
    fn client(&self) -> Result<&Object> {
        self.client.as_ref().ok_or(Error::TransactionClosed)
    }

    async fn end(&mut self, sql: &str) -> Result<()> {
        let result = self.client()?.batch_execute(sql).await.map_err(map_error);
        if result.is_ok() {
            // Back to the pool, clean.
            self.client = None;
        }
        result
    }
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        // Still in a transaction (cancelled or failed to end): close the connection rather than
        // hand a half-finished transaction to the next user; the server rolls it back.
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

impl Connection for PgConnection {
    fn fetch<'a>(&'a mut self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(async move { fetch_on(self.client()?, stmt).await })
    }

    fn fetch_each<'a>(
        &'a mut self,
        stmt: &'a Statement,
        each: &'a mut EachRow<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { fetch_each_on(self.client()?, stmt, each).await })
    }

    fn execute<'a>(&'a mut self, stmt: &'a Statement) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move { execute_on(self.client()?, stmt).await })
    }

    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.client()?.batch_execute(sql).await.map_err(map_error) })
    }

    fn commit(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.end("COMMIT"))
    }

    fn rollback(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.end("ROLLBACK"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_columns_are_read_from_the_detail_without_values() {
        assert_eq!(
            key_columns(Some("Key (author_id, slug)=(1, hello) already exists.")),
            ["author_id", "slug"]
        );
        assert_eq!(
            key_columns(Some("Key (\"Email\")=(x) already exists.")),
            ["Email"]
        );
        assert!(key_columns(None).is_empty());
    }

    #[test]
    fn turbine_options_are_taken_out_of_the_url() {
        let (url, size) = split_options("postgres://u@h/db?pool_size=3&sslmode=disable").unwrap();
        assert_eq!(
            (url.as_str(), size),
            ("postgres://u@h/db?sslmode=disable", Some(3))
        );
        assert!(split_options("postgres://u@h/db?pool_size=0").is_err());
    }
}
