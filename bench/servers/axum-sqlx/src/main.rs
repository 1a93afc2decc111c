//! axum 0.8 + sqlx-postgres 0.9 variant of the TechEmpower database baseline: the same four
//! endpoints, types and rendering as `bench-axum-pg` (from `bench-tfb`), only the driver differs,
//! so the two measure the Postgres drivers against each other.
//!
//! A `PgPool` of `BENCH_DB_POOL_SIZE` connections (default 16) to `BENCH_DATABASE_URL`; sqlx
//! prepares each statement once per connection and caches it. sqlx runs one query at a time per
//! connection, so multiple queries and the update reads go one after another on one pooled
//! connection (each its own round-trip, as TechEmpower requires); updates then run one bulk
//! `UPDATE ... FROM unnest(...)` with the ids sorted. Every response carries `Server`, hyper's
//! `Date`, `Content-Type` and `Content-Length`. Listens on 127.0.0.1, port from `--port N`,
//! `PORT`, or 8085.

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    http::{
        StatusCode,
        header::{HeaderName, SERVER},
    },
    response::{Html, IntoResponse, Response},
    routing::get,
};
use bench_tfb::{
    Fortune, SELECT_FORTUNES, SELECT_WORLD, Settings, UPDATE_WORLDS, World, new_random_number,
    queries_param, random_id, render_fortunes,
};
use sqlx::{
    PgConnection, PgPool,
    postgres::{PgPoolOptions, PgRow},
};

const DEFAULT_PORT: u16 = 8085;
const SERVER_HEADER: [(HeaderName, &str); 1] = [(SERVER, "axum-sqlx")];

/// A database failure, answered with 500 and the error text (a benchmark server, not a product).
struct DbError(sqlx::Error);

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        Self(e)
    }
}

impl IntoResponse for DbError {
    fn into_response(self) -> Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            SERVER_HEADER,
            self.0.to_string(),
        )
            .into_response()
    }
}

type Result<T> = std::result::Result<T, DbError>;

fn world(row: (i32, i32)) -> World {
    World {
        id: row.0,
        randomnumber: row.1,
    }
}

async fn world_by_id(conn: &mut PgConnection, id: i32) -> Result<World> {
    let row = sqlx::query_as::<_, (i32, i32)>(SELECT_WORLD)
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(world(row))
}

/// `n` random worlds, one query each, in sequence on one connection.
async fn random_worlds(pool: &PgPool, n: usize) -> Result<Vec<World>> {
    let mut conn = pool.acquire().await?;
    let mut worlds = Vec::with_capacity(n);
    for _ in 0..n {
        worlds.push(world_by_id(&mut conn, random_id()).await?);
    }
    Ok(worlds)
}

async fn db(State(pool): State<PgPool>) -> Result<impl IntoResponse> {
    let row = sqlx::query_as::<_, (i32, i32)>(SELECT_WORLD)
        .bind(random_id())
        .fetch_one(&pool)
        .await?;
    Ok((SERVER_HEADER, Json(world(row))))
}

async fn queries(State(pool): State<PgPool>, RawQuery(q): RawQuery) -> Result<impl IntoResponse> {
    let worlds = random_worlds(&pool, queries_param(q.as_deref())).await?;
    Ok((SERVER_HEADER, Json(worlds)))
}

async fn fortunes(State(pool): State<PgPool>) -> Result<impl IntoResponse> {
    let fortunes: Vec<Fortune> = sqlx::query(SELECT_FORTUNES)
        .try_map(|row: PgRow| {
            use sqlx::Row as _;
            Ok(Fortune {
                id: row.try_get(0)?,
                message: row.try_get(1)?,
            })
        })
        .fetch_all(&pool)
        .await?;
    Ok((SERVER_HEADER, Html(render_fortunes(&fortunes))))
}

async fn updates(State(pool): State<PgPool>, RawQuery(q): RawQuery) -> Result<impl IntoResponse> {
    let n = queries_param(q.as_deref());
    let mut conn = pool.acquire().await?;
    let mut worlds = Vec::with_capacity(n);
    for _ in 0..n {
        let mut w = world_by_id(&mut conn, random_id()).await?;
        w.randomnumber = new_random_number(w.randomnumber);
        worlds.push(w);
    }
    let mut sorted = worlds.clone();
    sorted.sort_unstable_by_key(|w| w.id);
    let ids: Vec<i32> = sorted.iter().map(|w| w.id).collect();
    let numbers: Vec<i32> = sorted.iter().map(|w| w.randomnumber).collect();
    sqlx::query(UPDATE_WORLDS)
        .bind(ids)
        .bind(numbers)
        .execute(&mut *conn)
        .await?;
    Ok((SERVER_HEADER, Json(worlds)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let settings = Settings::from_env(DEFAULT_PORT);
    // No ping on every checkout (sqlx's default): deadpool's `RecyclingMethod::Fast` in
    // bench-axum-pg does not ping either, so the drivers are compared, not the pool defaults.
    let pool = PgPoolOptions::new()
        .max_connections(settings.pool_size as u32)
        .test_before_acquire(false)
        .connect(&settings.database_url)
        .await
        .unwrap_or_else(|e| {
            eprintln!("cannot connect to BENCH_DATABASE_URL: {e}");
            std::process::exit(1)
        });

    let app = Router::new()
        .route("/db", get(db))
        .route("/queries", get(queries))
        .route("/fortunes", get(fortunes))
        .route("/updates", get(updates))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.port)).await?;
    axum::serve(listener, app).await
}
