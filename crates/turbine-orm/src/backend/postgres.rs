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

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, RwLock};

use deadpool::managed::{self, Metrics, Object, Pool, RecycleError, RecycleResult};
use futures_util::TryStreamExt as _;
use futures_util::future::BoxFuture;
use sea_query_postgres::PostgresValue;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type};

use super::{Backend, Connection, Dialect, EachRow, Isolation, Statement, TxOptions};
use crate::error::{Error, Result};
use crate::value::{Columns, Fields, Row, Value};

/// A PostgreSQL database.
pub struct PgBackend {
    pool: Pool<PgManager>,
    /// Connections shared by every statement outside a transaction, taken round-robin:
    /// statements issued together on one connection are pipelined by tokio-postgres (one
    /// write and one read for many queries) instead of each taking a pooled connection.
    shared: Vec<RwLock<Option<Arc<Object<PgManager>>>>>,
    next: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend")
            .field("max_size", &self.pool.status().max_size)
            .finish()
    }
}

/// Opens the pool's connections, each with its own statement cache.
struct PgManager {
    config: tokio_postgres::Config,
}

impl managed::Manager for PgManager {
    type Type = PgClient;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> std::result::Result<PgClient, tokio_postgres::Error> {
        let (client, connection) = self.config.connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "postgres connection closed with an error");
            }
        });
        Ok(PgClient {
            client,
            statements: Mutex::default(),
        })
    }

    async fn recycle(
        &self,
        conn: &mut PgClient,
        _: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if conn.client.is_closed() {
            Err(RecycleError::message("the connection is closed"))
        } else {
            Ok(())
        }
    }
}

/// Statements prepared on one connection, by SQL and parameter types. The cache lives with the
/// connection (across pool checkouts). SQL rendered once per process (`&'static str`, the typed
/// models' hot statements) is found by its address, other SQL by its text with a fast hash.
#[derive(Default)]
struct Statements {
    by_address: HashMap<(usize, usize), Prepared, foldhash::fast::RandomState>,
    by_text: HashMap<Box<str>, Prepared, foldhash::fast::RandomState>,
}

/// The statements of one SQL text, one per list of parameter types (usually one).
type Prepared = smallvec::SmallVec<[(Box<[Type]>, tokio_postgres::Statement); 1]>;

/// Above this many SQL texts the cache starts again (dropping a statement closes it on the
/// server): queries built with a varying number of parameters must not grow it without bound.
const MAX_STATEMENTS: usize = 1024;

/// A `&'static str` never changes nor moves, so its address and length stand for its text.
fn address(sql: &'static str) -> (usize, usize) {
    (sql.as_ptr() as usize, sql.len())
}

impl Statements {
    fn get(&self, stmt: &Statement) -> Option<tokio_postgres::Statement> {
        let values = &stmt.values;
        let prepared = match &stmt.sql {
            Cow::Borrowed(sql) => self.by_address.get(&address(sql)),
            Cow::Owned(sql) => self.by_text.get(sql.as_str()),
        }?;
        let same = |types: &[Type]| {
            types.len() == values.len() && types.iter().zip(values).all(|(t, v)| *t == pg_type(v))
        };
        prepared
            .iter()
            .find(|(types, _)| same(types))
            .map(|(_, s)| s.clone())
    }

    fn insert(
        &mut self,
        stmt: &Statement,
        types: Box<[Type]>,
        prepared: tokio_postgres::Statement,
    ) {
        if self.by_address.len() + self.by_text.len() >= MAX_STATEMENTS {
            self.by_address.clear();
            self.by_text.clear();
        }
        let same_sql = match &stmt.sql {
            Cow::Borrowed(sql) => self.by_address.entry(address(sql)).or_default(),
            Cow::Owned(sql) => self.by_text.entry(sql.as_str().into()).or_default(),
        };
        same_sql.retain(|(t, _)| *t != types);
        same_sql.push((types, prepared));
    }

    fn remove(&mut self, stmt: &Statement) {
        match &stmt.sql {
            Cow::Borrowed(sql) => self.by_address.remove(&address(sql)),
            Cow::Owned(sql) => self.by_text.remove(sql.as_str()),
        };
    }
}

/// One connection of the pool.
struct PgClient {
    client: tokio_postgres::Client,
    statements: Mutex<Statements>,
}

impl PgClient {
    fn statements(&self) -> std::sync::MutexGuard<'_, Statements> {
        self.statements.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The statement prepared for `stmt` on this connection, if it is in the cache.
    fn cached(&self, stmt: &Statement) -> Option<tokio_postgres::Statement> {
        self.statements().get(stmt)
    }

    /// Prepares `stmt` (typed from its bound values) and remembers it. Callers box this future:
    /// the first use of a statement is rare, and the future is large.
    async fn prepare(&self, stmt: &Statement) -> Result<tokio_postgres::Statement> {
        let types: Box<[Type]> = stmt.values.iter().map(pg_type).collect();
        let prepared = self
            .client
            .prepare_typed(&stmt.sql, &types)
            .await
            .map_err(map_error)?;
        self.statements().insert(stmt, types, prepared.clone());
        Ok(prepared)
    }

    /// Runs a query and hands each row to `row` as the driver reads it (no `Vec` of rows).
    async fn query(
        &self,
        stmt: &Statement,
        mut row: impl FnMut(&tokio_postgres::Row) -> Result<()> + Send,
    ) -> Result<()> {
        let mut retried = false;
        loop {
            let prepared = match self.cached(stmt) {
                Some(prepared) => prepared,
                None => Box::pin(self.prepare(stmt)).await?,
            };
            let rows = match self.client.query_raw(&prepared, params(stmt)).await {
                Err(e) if !retried && is_stale_plan(&e) => {
                    self.statements().remove(stmt);
                    retried = true;
                    continue;
                }
                other => other.map_err(map_error)?,
            };
            let mut rows = std::pin::pin!(rows);
            while let Some(r) = rows.try_next().await.map_err(map_error)? {
                row(&r)?;
            }
            return Ok(());
        }
    }

    async fn execute(&self, stmt: &Statement) -> Result<u64> {
        let mut retried = false;
        loop {
            let prepared = match self.cached(stmt) {
                Some(prepared) => prepared,
                None => Box::pin(self.prepare(stmt)).await?,
            };
            match self.client.execute_raw(&prepared, params(stmt)).await {
                Err(e) if !retried && is_stale_plan(&e) => {
                    self.statements().remove(stmt);
                    retried = true;
                }
                other => return other.map_err(map_error),
            }
        }
    }

    async fn fetch(&self, stmt: &Statement) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        // Read off the first row: the column names shared by every row, a decoder per column.
        let mut columns: Option<(Arc<[String]>, Vec<Decoder>)> = None;
        self.query(stmt, |row| {
            let (names, decoders) = columns.get_or_insert_with(|| {
                let columns = row.columns();
                (
                    columns.iter().map(|c| c.name().into()).collect(),
                    columns.iter().map(|c| decoder(c.type_())).collect(),
                )
            });
            out.push(super::decode_row(row, names, |row, i| decoders[i](row, i))?);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    async fn fetch_each(&self, stmt: &Statement, each: &mut EachRow<'_>) -> Result<()> {
        self.query(stmt, |row| each(&mut Fields::from_pg(row)))
            .await
    }

    async fn batch(&self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).await.map_err(map_error)
    }
}

/// A bound value encoded for Postgres in place (no copy of the value per query).
#[derive(Debug)]
struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Value::Bool(v) => v.to_sql(ty, out),
            Value::SmallInt(v) => v.to_sql(ty, out),
            Value::Int(v) => v.to_sql(ty, out),
            Value::BigInt(v) => v.to_sql(ty, out),
            Value::Float(v) => v.to_sql(ty, out),
            Value::Double(v) => v.to_sql(ty, out),
            Value::String(v) => v.as_deref().to_sql(ty, out),
            Value::Bytes(v) => v.as_deref().to_sql(ty, out),
            Value::Uuid(v) => v.to_sql(ty, out),
            Value::ChronoDateTimeUtc(v) => v.to_sql(ty, out),
            // The rest as sea-query encodes them.
            other => PostgresValue(other.clone()).to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Every parameter is prepared with the type of its value (`pg_type`).
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn params(stmt: &Statement) -> impl ExactSizeIterator<Item = Param<'_>> {
    stmt.values.iter().map(Param)
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
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = Pool::builder(PgManager { config })
            .max_size(pool_size.unwrap_or((cpus * 4).max(8)))
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(30)))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let backend = Self {
            shared: Vec::new(),
            next: std::sync::atomic::AtomicUsize::new(0),
            pool,
        };
        drop(backend.conn().await?);
        // A quarter of the pool (at least one, at most 8) is shared; the rest serves
        // transactions.
        let size = backend.pool.status().max_size;
        let mut shared = Vec::new();
        for _ in 0..(size / 4).clamp(1, 8) {
            shared.push(RwLock::new(Some(Arc::new(backend.conn().await?))));
        }
        Ok(Self { shared, ..backend })
    }

    // What `Db` calls on the pool directly (the `Backend` methods box these futures).

    pub(crate) async fn run_fetch(&self, stmt: &Statement) -> Result<Vec<Row>> {
        self.shared().await?.fetch(stmt).await
    }

    pub(crate) async fn run_fetch_each(
        &self,
        stmt: &Statement,
        each: &mut EachRow<'_>,
    ) -> Result<()> {
        self.shared().await?.fetch_each(stmt, each).await
    }

    pub(crate) async fn run_execute(&self, stmt: &Statement) -> Result<u64> {
        self.shared().await?.execute(stmt).await
    }

    pub(crate) async fn run_batch(&self, sql: &str) -> Result<()> {
        // Boxed: rare (DDL, savepoints), and waiting on the pool makes a large future.
        Box::pin(async move { self.conn().await?.batch(sql).await }).await
    }

    /// The next shared connection; a closed one (the server restarted) is replaced first.
    async fn shared(&self) -> Result<Arc<Object<PgManager>>> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.shared.len();
        let slot = &self.shared[i];
        let conn = slot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| Error::Connect("the database pool is closed".into()))?;
        if conn.client.is_closed() {
            // Boxed: rare, and waiting on the pool makes a large future.
            return Box::pin(self.replace(slot, conn)).await;
        }
        Ok(conn)
    }

    async fn replace(
        &self,
        slot: &RwLock<Option<Arc<Object<PgManager>>>>,
        closed: Arc<Object<PgManager>>,
    ) -> Result<Arc<Object<PgManager>>> {
        let fresh = Arc::new(self.conn().await?);
        *slot.write().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        // The closed connection leaves the pool instead of coming back to it.
        if let Ok(old) = Arc::try_unwrap(closed) {
            drop(Object::take(old));
        }
        Ok(fresh)
    }

    async fn conn(&self) -> Result<Object<PgManager>> {
        self.pool.get().await.map_err(|e| match e {
            managed::PoolError::Backend(e) => map_error(e),
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

/// Typed getters of a tokio-postgres row: the driver's own decoding when the column's type is the
/// field's, else the value path (which widens `int2` into `i32`, for one).
macro_rules! typed_getters {
    ($($getter:ident => $t:ty,)*) => {$(
        #[inline]
        fn $getter(&self, i: usize) -> std::result::Result<Option<$t>, String> {
            match self.try_get::<_, Option<$t>>(i) {
                Ok(v) => Ok(v),
                Err(_) => <Option<$t> as crate::value::FieldValue>::from_value(self.value(i)?),
            }
        }
    )*};
}

/// A tokio-postgres row read in place: the typed read path decodes model fields from it directly.
impl Columns for tokio_postgres::Row {
    fn len(&self) -> usize {
        tokio_postgres::Row::len(self)
    }

    fn name(&self, i: usize) -> &str {
        self.columns()[i].name()
    }

    fn value(&self, i: usize) -> std::result::Result<Value, String> {
        decoder(self.columns()[i].type_())(self, i).map_err(|e| e.to_string())
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

/// A cached statement whose result columns changed under it (a migration altered the table):
/// Postgres refuses it until it is prepared again.
fn is_stale_plan(err: &tokio_postgres::Error) -> bool {
    err.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::FEATURE_NOT_SUPPORTED && db.message().contains("cached plan")
    })
}

impl Backend for PgBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn fetch<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(self.run_fetch(stmt))
    }

    fn fetch_each<'a>(
        &'a self,
        stmt: &'a Statement,
        each: &'a mut EachRow<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.run_fetch_each(stmt, each))
    }

    fn fetch_write<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<Vec<Row>>> {
        self.fetch(stmt)
    }

    fn execute<'a>(&'a self, stmt: &'a Statement) -> BoxFuture<'a, Result<u64>> {
        Box::pin(self.run_execute(stmt))
    }

    fn batch<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.run_batch(sql))
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
            client.batch(&begin).await?;
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
    client: Option<Object<PgManager>>,
}

impl PgConnection {
    fn client(&self) -> Result<&PgClient> {
        self.client.as_deref().ok_or(Error::TransactionClosed)
    }

    async fn end(&mut self, sql: &str) -> Result<()> {
        let result = self.client()?.batch(sql).await;
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
        Box::pin(async move { self.client()?.fetch(stmt).await })
    }

    fn fetch_each<'a>(
        &'a mut self,
        stmt: &'a Statement,
        each: &'a mut EachRow<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.client()?.fetch_each(stmt, each).await })
    }

    fn execute<'a>(&'a mut self, stmt: &'a Statement) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move { self.client()?.execute(stmt).await })
    }

    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.client()?.batch(sql).await })
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
